import { claimPolicyDocument } from "../../contracts/iot-policies";
import { deviceThingName } from "../../contracts/devices";
import { onlyResource, resources, statements, synthAll, testConfig, type StackJson } from "../helpers/synth";

const fleet = synthAll()["iot-fleet"];
const byName = (stack: StackJson, type: string, name: string, attribute = "name"): [string, any] => {
  const found = Object.entries(resources(stack, type)).find(([, resource]) => resource[attribute] === name);
  if (!found) throw new Error(`no ${type} with ${attribute} ${name}`);
  return found;
};

describe("iot-fleet stack", () => {
  it("the serial registry: PITR (CKV_AWS_28), deletion protection, encryption, keyed by serial", () => {
    expect(onlyResource(fleet, "aws_dynamodb_table")).toMatchObject({
      name: "smarthome-dev-serials",
      hash_key: "serial",
      point_in_time_recovery: { enabled: true },
      deletion_protection_enabled: true,
      server_side_encryption: { enabled: true },
    });
  });

  describe("provisioning template", () => {
    const template = onlyResource(fleet, "aws_iot_provisioning_template");
    const body = JSON.parse(template.template_body);

    it("is enabled, with the hook attached", () => {
      expect(template).toMatchObject({ name: "smarthome-dev-fleet", enabled: true, type: "FLEET_PROVISIONING" });
      expect(template.pre_provisioning_hook).toEqual({ target_arn: expect.stringMatching(/aws_lambda_function\.hook_provisioning-hook_function_/), payload_version: "2020-04-01" });
      expect(template.name.length).toBeLessThanOrEqual(36);
    });

    it("takes the thing name the hook derives (contracts/devices.ts deviceThingName), restating no naming rule", () => {
      expect(body.Parameters).toEqual({ SerialNumber: { Type: "String" }, ThingName: { Type: "String" }, "AWS::IoT::Certificate::Id": { Type: "String" } });
      expect(body.Resources.thing.Properties.ThingName).toEqual({ Ref: "ThingName" });
      expect(body.Resources.thing.Properties.AttributePayload).toEqual({ serialNumber: { Ref: "SerialNumber" } });
    });

    it("the hook's environment gives it the prefix deviceThingName() takes", () => {
      const hook = byName(fleet, "aws_lambda_function", "smarthome-dev-provisioning-hook", "function_name")[1];
      expect(deviceThingName(hook.environment.variables.THING_NAME_PREFIX, "SN123")).toBe("smarthome-dev-SN123");
    });

    it("attaches the iot stack's device policy, puts the thing in the type and group, and never takes over an existing thing", () => {
      expect(body.Resources.policy.Properties).toEqual({ PolicyName: "${data.terraform_remote_state.remote-state-iot.outputs.device_policy_name}" });
      expect(body.Resources.thing.Properties.ThingTypeName).toMatch(/aws_iot_thing_type/);
      expect(body.Resources.thing.Properties.ThingGroups).toEqual([expect.stringMatching(/aws_iot_thing_group/)]);
      expect(body.Resources.thing.OverrideSettings).toEqual({ AttributePayload: "FAIL", ThingTypeName: "FAIL", ThingGroups: "FAIL" });
      expect(body.Resources.certificate.Properties.Status).toBe("ACTIVE");
      expect(body.DeviceConfiguration).toEqual({ topicRoot: "smarthome/dev" });
    });

    it("uses a provisioning role with AWSIoTThingsRegistration, assumable by IoT of this account", () => {
      const [roleId, role] = byName(fleet, "aws_iam_role", "smarthome-dev-iot-provisioning");
      expect(template.provisioning_role_arn).toBe(`\${aws_iam_role.${roleId}.arn}`);
      expect(statements(JSON.parse(role.assume_role_policy))[0]).toMatchObject({
        Principal: { Service: "iot.amazonaws.com" },
        Condition: { StringEquals: { "aws:SourceAccount": expect.stringMatching(/aws_caller_identity/) } },
      });
      expect(Object.values(resources(fleet, "aws_iam_role_policy_attachment")).map((a) => a.policy_arn)).toContainEqual(
        expect.stringMatching(/:iam::aws:policy\/service-role\/AWSIoTThingsRegistration$/),
      );
      expect(template.depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/aws_iam_role_policy_attachment/), expect.stringMatching(/aws_lambda_permission/)]));
    });
  });

  describe("claim certificates", () => {
    it("the claim policy allows connect as a provisioning client and this template's provisioning topics, nothing else", () => {
      const policy = JSON.parse(onlyResource(fleet, "aws_iot_policy").policy);
      const arnPrefix = policy.Statement[0].Resource[0].replace(/client\/.*$/, "");
      expect(policy).toEqual(claimPolicyDocument({ arnPrefix }, "smarthome-dev-fleet", "provisioning-smarthome-dev-"));
      const resourcesAllowed = policy.Statement.flatMap((s: any) => s.Resource) as string[];
      for (const resource of resourcesAllowed.slice(1)) {
        expect(resource).toMatch(/:(topic|topicfilter)\/\$aws\/(certificates\/create(-from-csr)?\/json|provisioning-templates\/smarthome-dev-fleet\/provision\/json)(\/accepted|\/rejected)?$/);
      }
      expect(policy.Statement.map((s: any) => s.Action).flat().sort()).toEqual(["iot:Connect", "iot:Publish", "iot:Receive", "iot:Subscribe"]);
    });

    it("one certificate per batch, stored in its own secret; a retired batch's certificate is inactive and the hook does not accept it", () => {
      const stack = synthAll(testConfig({ fleet: { batches: [{ name: "2026-10-a", active: false }, { name: "2026-11-a" }] } }))["iot-fleet"];
      const certificates = Object.entries(resources(stack, "aws_iot_certificate"));
      expect(certificates.map(([id, c]) => [id.startsWith("claim-2026-10-a") ? "2026-10-a" : "2026-11-a", c.active]).sort()).toEqual([
        ["2026-10-a", false],
        ["2026-11-a", true],
      ]);
      expect(Object.values(resources(stack, "aws_secretsmanager_secret")).map((s) => s.name).sort()).toEqual([
        "smarthome-dev/claim/2026-10-a",
        "smarthome-dev/claim/2026-11-a",
      ]);
      const [, hook] = byName(stack, "aws_lambda_function", "smarthome-dev-provisioning-hook", "function_name");
      const active = hook.environment.variables.ACTIVE_CLAIM_CERTIFICATES as string;
      expect(active).toContain('"batch" = "2026-11-a"');
      expect(active).not.toContain("2026-10-a");
      expect(Object.values(resources(stack, "aws_iot_policy_attachment"))).toHaveLength(2);
    });

    it("#8.13 each claim secret has the controller secret's only-named-readers policy: Terraform's roles and the break-glass admin", () => {
      const admin = "arn:aws:iam::123456789012:role/BreakGlass";
      const config = testConfig({ breakGlassAdminRoleArn: admin, fleet: { batches: [{ name: "2026-10-a" }, { name: "2026-11-a" }] } });
      const stack = synthAll(config)["iot-fleet"];
      const secrets = Object.entries(resources(stack, "aws_secretsmanager_secret"));
      const policies = Object.values(resources(stack, "aws_secretsmanager_secret_policy"));
      expect([secrets.length, policies.length]).toEqual([2, 2]);
      for (const [secretId] of secrets) {
        const policy = policies.find((p) => p.secret_arn === `\${aws_secretsmanager_secret.${secretId}.arn}`);
        expect(policy?.block_public_policy).toBe(true);
        expect(statements(JSON.parse(policy.policy))).toEqual([
          expect.objectContaining({
            Sid: "OnlyNamedReaders",
            Effect: "Deny",
            Principal: "*",
            Action: ["secretsmanager:GetSecretValue"],
            Condition: {
              ArnNotEquals: {
                "aws:PrincipalArn": [
                  "${data.terraform_remote_state.remote-state-roles.outputs.github_plan_role_arn}",
                  "${data.terraform_remote_state.remote-state-roles.outputs.github_deploy_role_arn}",
                  admin,
                ],
              },
            },
          }),
        ]);
      }
    });
  });

  describe("pre-provisioning hook", () => {
    const [, hook] = byName(fleet, "aws_lambda_function", "smarthome-dev-provisioning-hook", "function_name");

    it("answers well within IoT's 5 seconds: 4 s timeout, 512 MB", () => {
      expect(hook).toMatchObject({ timeout: 4, memory_size: 512, runtime: "nodejs22.x", architectures: ["arm64"] });
    });

    it("#8.9 may only read and conditionally update the serial registry, and describe project things (is a stranded serial's thing there?)", () => {
      const policies = Object.values(resources(fleet, "aws_iam_role_policy")).flatMap((p) => statements(JSON.parse(p.policy)));
      expect(policies.find((s) => s.Sid === "UseTable")).toMatchObject({ Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: [expect.stringMatching(/aws_dynamodb_table\.serial-table/)] });
      expect(policies.find((s) => s.Sid === "DescribeDeviceThings")).toMatchObject({ Action: ["iot:DescribeThing"], Resource: [expect.stringMatching(/:iot:eu-west-1:.+:thing\/smarthome-dev-\*$/)] });
      const [, hook] = byName(fleet, "aws_lambda_function", "smarthome-dev-provisioning-hook", "function_name");
      expect(hook.environment.variables.STRANDED_AFTER_SECONDS).toBe("600");
    });

    it("CKV_AWS_364: IoT may invoke it only on behalf of this account", () => {
      expect(onlyResource(fleet, "aws_lambda_permission")).toMatchObject({
        principal: "iot.amazonaws.com",
        action: "lambda:InvokeFunction",
        source_account: expect.stringMatching(/aws_caller_identity/),
      });
    });
  });
});
