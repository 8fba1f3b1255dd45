import { execFileSync } from "node:child_process";
import { onlyResource, synthAll, testConfig } from "../helpers/synth";

const remote = (stack: string, output: string) => `\${data.terraform_remote_state.remote-state-${stack}.outputs.${output}}`;

/** What the instance receives once Terraform has interpolated the user data. */
function asDelivered(userData: string): string {
  return userData
    .replace(/\$\{data\.terraform_remote_state\.remote-state-ecr\.outputs\.controller_repository_url\}/g, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/smarthome-dev/controller")
    .replace(/\$\{aws_cloudwatch_log_group\.[^}]+\.name\}/g, "/smarthome/dev/controller")
    .replace(/\$\$\{/g, "${")
    .replace(/%%\{/g, "%{");
}

/** Terraform variables of a synthesized stack (StackJson leaves them out). */
const variables = (stack: object): Record<string, any> => (stack as { variable?: Record<string, any> }).variable ?? {};

describe("ec2 stack: the controller host", () => {
  const ec2 = synthAll().ec2;
  const instance = onlyResource(ec2, "aws_instance");
  const userData = asDelivered(instance.user_data);

  it("is a t4g.nano (the seed's t4c.nano does not exist)", () => {
    expect(instance.instance_type).toBe("t4g.nano");
  });

  it("boots the arm64 Amazon Linux 2023 AMI from its SSM parameter, and a new AMI does not replace it", () => {
    const [amiId, ami] = Object.entries(ec2.data?.aws_ssm_parameter ?? {})[0] ?? [];
    expect(ami).toMatchObject({ name: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64" });
    expect(instance.ami).toBe(`\${data.aws_ssm_parameter.${amiId}.value}`);
    expect(instance.lifecycle).toEqual({ ignore_changes: ["ami"] });
  });

  it("CKV_AWS_79: requires IMDSv2 (hop limit 2 so the container reaches its role)", () => {
    expect(instance.metadata_options).toEqual({ http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 2 });
  });

  it("CKV_AWS_8: an encrypted gp3 root volume", () => {
    expect(instance.root_block_device).toEqual({ volume_type: "gp3", volume_size: 10, encrypted: true, delete_on_termination: true });
  });

  it("CKV_AWS_135: EBS optimized; standard CPU credits so bursts cannot run up a bill", () => {
    expect(instance.ebs_optimized).toBe(true);
    expect(instance.credit_specification).toEqual({ cpu_credits: "standard" });
  });

  it("sits in the public subnet behind the controller security group, with the controller instance profile", () => {
    expect(instance.subnet_id).toBe(remote("vpc", "public_subnet_id"));
    expect(instance.vpc_security_group_ids).toEqual([remote("vpc", "controller_security_group_id")]);
    expect(instance.iam_instance_profile).toBe(remote("roles", "controller_instance_profile_name"));
    expect(instance).not.toHaveProperty("key_name");
  });

  it("takes the Elastic IP from the vpc stack", () => {
    expect(onlyResource(ec2, "aws_eip_association")).toMatchObject({
      allocation_id: remote("vpc", "controller_eip_allocation_id"),
      instance_id: expect.stringMatching(/^\$\{aws_instance\./),
    });
  });

  it("keeps the controller's logs with the configured retention", () => {
    expect(onlyResource(ec2, "aws_cloudwatch_log_group")).toMatchObject({ name: "/smarthome/dev/controller", retention_in_days: 30 });
  });

  describe("user data (rendered from stacks/controller-user-data.sh)", () => {
    it("is valid bash", () => {
      expect(() => execFileSync("bash", ["-n"], { input: userData })).not.toThrow();
    });

    it("adds swap before installing anything", () => {
      expect(userData).toMatch(/SWAP_MIB=1024\n/);
      expect(userData.indexOf("mkswap /swapfile")).toBeLessThan(userData.indexOf("dnf install"));
      expect(userData).toContain("/swapfile none swap sw 0 0");
    });

    it("installs Docker and the ECR credential helper and points Docker at the registry", () => {
      expect(userData).toContain("dnf install -y docker amazon-ecr-credential-helper");
      expect(userData).toContain('"${REPOSITORY_URL%%/*}"');
      expect(userData).toContain("systemctl enable --now docker");
    });

    it("writes the controller's settings and how redeploy.sh runs it, all from contracts/names.ts and config", () => {
      expect(userData).toContain('REPOSITORY_URL="123456789012.dkr.ecr.eu-west-1.amazonaws.com/smarthome-dev/controller"');
      for (const line of [
        "CONTROLLER_SECRET_ID=smarthome-dev/controller/iot-identity",
        "CONTROLLER_API_TOKEN_SECRET_ID=smarthome-dev/controller/api-token",
        "DEVICE_TABLE_NAME=smarthome-dev-devices",
        "TOPIC_ROOT=smarthome/dev",
        "PORT=8080",
        "CONTAINER_NAME=controller",
        "CONTROLLER_PORT=8080",
        "LOG_REGION=eu-west-1",
        "LOG_GROUP=/smarthome/dev/controller",
      ]) {
        expect(userData).toContain(`\n${line}\n`);
      }
      // The container is started by redeploy.sh (the null_resource), not by user data.
      expect(userData).not.toContain("docker run");
    });

    it("escapes shell ${…} so Terraform leaves it alone", () => {
      expect(instance.user_data).toContain("$${REPOSITORY_URL%%/*}");
      expect(instance.user_data).not.toMatch(/(?<!\$)\$\{(?!data\.terraform_remote_state|aws_cloudwatch_log_group)/);
    });

    it("CKV_AWS_46: holds no secrets", () => {
      expect(userData).not.toMatch(/AKIA[0-9A-Z]{16}|PRIVATE KEY|aws_secret_access_key/i);
    });

    it("follows the config", () => {
      const config = testConfig({ controller: { instanceType: "t4g.micro", imageTag: "v1.2.3", port: 9000, swapMiB: 512, rootVolumeGiB: 16 } });
      const customStack = synthAll(config).ec2;
      const custom = onlyResource(customStack, "aws_instance");
      expect(custom.instance_type).toBe("t4g.micro");
      expect(custom.root_block_device.volume_size).toBe(16);
      expect(variables(customStack).controller_image_tag.default).toBe("v1.2.3");
      expect(custom.user_data).toContain("\nCONTROLLER_PORT=9000\n");
      expect(custom.user_data).toContain("SWAP_MIB=512\n");
    });
  });

  describe("the redeploy null_resource (modules/controller-redeploy.ts)", () => {
    const redeploys = Object.values(ec2.resource?.null_resource ?? {}) as any[];

    it("is one null_resource keyed on the controller_image_tag variable and the instance", () => {
      expect(redeploys).toHaveLength(1);
      expect(variables(ec2).controller_image_tag).toMatchObject({ type: "string", default: "bootstrap" });
      expect(redeploys[0].triggers).toEqual({
        image: `${remote("ecr", "controller_repository_url")}:\${var.controller_image_tag}`,
        instance_id: expect.stringMatching(/^\$\{aws_instance\.[^}]+\.id\}$/),
      });
    });

    it("runs nothing while the tag is the bootstrap tag (first deploy, no image pushed yet)", () => {
      expect(redeploys[0].count).toBe(`\${(var.controller_image_tag == "bootstrap") ? 0 : 1}`);
    });

    it("runs ssh-redeploy.sh with redeploy.sh, both shipped as stack assets, for ec2-user", () => {
      const [provisioner] = redeploys[0].provisioner;
      expect(redeploys[0].provisioner).toHaveLength(1);
      expect(provisioner["local-exec"].command).toMatch(/^bash "assets\/.+\/ssh-redeploy\.sh"$/);
      expect(provisioner["local-exec"].environment).toMatchObject({
        IMAGE: `${remote("ecr", "controller_repository_url")}:\${var.controller_image_tag}`,
        REDEPLOY_SCRIPT: expect.stringMatching(/^assets\/.+\/redeploy\.sh$/),
        OS_USER: "ec2-user",
        AWS_REGION: "eu-west-1",
      });
    });

    it("refuses a tag that is not a Docker tag, or latest", () => {
      const [validation] = variables(ec2).controller_image_tag.validation;
      expect(validation.condition).toContain('var.controller_image_tag != "latest"');
    });
  });

  it("generates the API token secret once (a later apply never changes it)", () => {
    expect(onlyResource(ec2, "aws_secretsmanager_secret")).toMatchObject({ name: "smarthome-dev/controller/api-token", recovery_window_in_days: 7 });
    expect(onlyResource(ec2, "aws_secretsmanager_secret_version").lifecycle).toEqual({ ignore_changes: ["secret_string"] });
    expect(Object.values(ec2.data?.aws_secretsmanager_random_password ?? {})).toEqual([{ password_length: 48, exclude_punctuation: true, include_space: false }]);
  });
});
