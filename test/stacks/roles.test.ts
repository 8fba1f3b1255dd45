import { githubOidcTrustStatement } from "../helpers/github-oidc";
import { policyDocuments, resources, statements, synthAll, testConfig, type StackJson } from "../helpers/synth";

const ACCOUNT = expect.stringMatching(/^\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}$/);

function roleNamed(stack: StackJson, name: string): [string, any] {
  const found = Object.entries(resources(stack, "aws_iam_role")).find(([, role]) => role.name === name);
  if (!found) throw new Error(`no role named ${name}`);
  return found;
}

/** Inline and attached managed policies of a role, parsed. */
function policiesOf(stack: StackJson, roleName: string) {
  const [roleId] = roleNamed(stack, roleName);
  const roleRef = (attribute: string) => `\${aws_iam_role.${roleId}.${attribute}}`;
  const inline = Object.values(resources(stack, "aws_iam_role_policy"))
    .filter((policy) => policy.role === roleRef("id"))
    .map((policy) => ({ name: policy.name as string, document: JSON.parse(policy.policy) }));
  const attached = Object.values(resources(stack, "aws_iam_role_policy_attachment"))
    .filter((attachment) => attachment.role === roleRef("name"))
    .map((attachment) => attachment.policy_arn as string);
  const managed = Object.entries(resources(stack, "aws_iam_policy"))
    .filter(([id]) => attached.includes(`\${aws_iam_policy.${id}.arn}`))
    .map(([, policy]) => ({ name: policy.name as string, document: JSON.parse(policy.policy) }));
  return { inline, attached, managed, all: [...inline, ...managed] };
}

function allowedActions(documents: { document: any }[]): string[] {
  return documents.flatMap(({ document }) => statements(document).filter((s) => s.Effect === "Allow").flatMap((s) => s.Action));
}

describe("roles stack", () => {
  const roles = synthAll().roles;

  it("creates exactly the platform's roles, named by the convention", () => {
    expect(Object.values(resources(roles, "aws_iam_role")).map((role) => role.name).sort()).toEqual([
      "smarthome-dev-controller",
      "smarthome-dev-github-agent-release",
      "smarthome-dev-github-deploy",
      "smarthome-dev-github-plan",
      "smarthome-dev-iot-alerts",
      "smarthome-dev-iot-rules",
    ]);
  });

  describe("controller instance role", () => {
    const [, role] = roleNamed(roles, "smarthome-dev-controller");
    const policies = policiesOf(roles, "smarthome-dev-controller");
    const statementsBySid = Object.fromEntries(policies.inline.flatMap(({ document }) => statements(document)).map((s) => [s.Sid, s]));

    it("is assumed by EC2 through an instance profile", () => {
      expect(statements(JSON.parse(role.assume_role_policy))).toEqual([
        expect.objectContaining({ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: ["sts:AssumeRole"] }),
      ]);
      expect(Object.values(resources(roles, "aws_iam_instance_profile"))).toEqual([
        expect.objectContaining({ name: "smarthome-dev-controller", role: expect.stringMatching(/aws_iam_role\..+\.name/) }),
      ]);
    });

    it("pulls from the project's ECR repository only", () => {
      expect(statementsBySid.PullControllerImage?.Resource).toEqual([
        expect.stringMatching(/^arn:\$\{data\.aws_partition\.[\w-]+\.partition\}:ecr:eu-west-1:\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}:repository\/smarthome-dev\/controller$/),
      ]);
      expect(statementsBySid.PullControllerImage?.Action).not.toContain("ecr:PutImage");
    });

    it("reads the controller's secret only", () => {
      expect(statementsBySid.ReadControllerIdentity?.Resource).toEqual([expect.stringMatching(/:secret:smarthome-dev\/controller\/iot-identity-\?\?\?\?\?\?$/)]);
    });

    it("publishes commands and subscribes to responses and errors of the controller's topics only", () => {
      expect(statementsBySid.ConnectAsController?.Resource).toEqual([expect.stringMatching(/:client\/smarthome-dev-controller$/)]);
      expect(statementsBySid.PublishCommands?.Resource).toEqual([expect.stringMatching(/:topic\/smarthome\/dev\/devices\/\*\/commands$/)]);
      expect(statementsBySid.SubscribeResponsesAndErrors?.Resource).toEqual([
        expect.stringMatching(/:topicfilter\/smarthome\/dev\/devices\/\+\/responses$/),
        expect.stringMatching(/:topicfilter\/smarthome\/dev\/devices\/\+\/errors$/),
      ]);
      expect(statementsBySid.ReceiveResponsesAndErrors?.Action).toEqual(["iot:Receive"]);
    });

    it("invokes the project's Lambdas only", () => {
      expect(statementsBySid.InvokeProjectFunctions).toMatchObject({
        Action: ["lambda:InvokeFunction"],
        Resource: [expect.stringMatching(/:function:smarthome-dev-\*$/)],
      });
    });

    it("has SSM core for Session Manager", () => {
      expect(policies.attached).toEqual([expect.stringMatching(/:iam::aws:policy\/AmazonSSMManagedInstanceCore$/)]);
    });
  });

  describe("GitHub OIDC", () => {
    it("creates the provider for GitHub's token issuer and audience", () => {
      expect(Object.values(resources(roles, "aws_iam_openid_connect_provider"))).toEqual([
        expect.objectContaining({ url: "https://token.actions.githubusercontent.com", client_id_list: ["sts.amazonaws.com"] }),
      ]);
    });

    it.each([
      ["smarthome-dev-github-plan", ["repo:example-org/smart-home-platform:pull_request", "repo:example-org/smart-home-platform:ref:refs/heads/main"]],
      ["smarthome-dev-github-deploy", "repo:example-org/smart-home-platform:ref:refs/heads/main"],
    ] as const)("%s trusts only %s, on both aud and sub", (roleName, subject) => {
      const [, role] = roleNamed(roles, roleName);
      expect(statements(JSON.parse(role.assume_role_policy))).toEqual([
        githubOidcTrustStatement({
          StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": subject },
        }),
      ]);
    });

    it("reuses an existing provider when config names one", () => {
      const existing = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
      const stack = synthAll(testConfig({ github: { repository: "octo/app", existingOidcProviderArn: existing, deployBranch: "release" } })).roles;
      expect(resources(stack, "aws_iam_openid_connect_provider")).toEqual({});
      const [, deploy] = roleNamed(stack, "smarthome-dev-github-deploy");
      const trust = statements(JSON.parse(deploy.assume_role_policy))[0];
      expect(trust?.Principal).toEqual({ Federated: existing });
      expect(trust?.Condition.StringEquals["token.actions.githubusercontent.com:sub"]).toBe("repo:octo/app:ref:refs/heads/release");
    });

    it("the plan role only reads (and takes the state lock)", () => {
      const plan = policiesOf(roles, "smarthome-dev-github-plan");
      expect(plan.inline).toEqual([]);
      expect(plan.managed.map((policy) => policy.name)).toEqual(["smarthome-dev-terraform-read"]);
      const writes = allowedActions(plan.all).filter((action) => !/:(Describe|Get|List)/.test(action) && action !== "apigateway:GET");
      // The lock file is written, encrypted with the state key.
      expect(writes.sort()).toEqual(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "s3:DeleteObject", "s3:PutObject"]);
      const lock = statements(plan.managed[0]?.document).find((s) => s.Sid === "StateLock");
      expect(lock?.Resource).toEqual([expect.stringMatching(/:s3:::smarthome-dev-terraform-state\/dev\/\*\.tflock$/)]);
    });

    it("the deploy role applies, pushes the controller image and opens SSH through the endpoint", () => {
      const deploy = policiesOf(roles, "smarthome-dev-github-deploy");
      expect(deploy.managed.map((policy) => policy.name).sort()).toEqual(["smarthome-dev-terraform-read", "smarthome-dev-terraform-write", "smarthome-dev-terraform-write-2"]);
      const actions = allowedActions(deploy.all);
      expect(actions).toEqual(expect.arrayContaining(["ecr:PutImage", "ec2-instance-connect:OpenTunnel", "ec2-instance-connect:SendSSHPublicKey", "s3:PutObject", "iam:PassRole"]));
      const ssh = deploy.inline.flatMap(({ document }) => statements(document)).find((s) => s.Sid === "SshKeyToProjectInstances");
      expect(ssh?.Condition.StringEquals).toEqual({ "ec2:osuser": "ec2-user", "aws:ResourceTag/Project": "smarthome", "aws:ResourceTag/Environment": "dev" });
    });

    it("the deploy role cannot delete the image repository or change the GitHub roles", () => {
      const denies = policiesOf(roles, "smarthome-dev-github-deploy")
        .inline.flatMap(({ document }) => statements(document))
        .filter((s) => s.Effect === "Deny");
      expect(denies.map((s) => s.Sid)).toEqual(["KeepImages", "NoSelfEscalation"]);
      expect(denies[0]?.Action).toContain("ecr:DeleteRepository");
      expect(denies[1]?.Resource).toEqual(
        expect.arrayContaining([expect.stringMatching(/:role\/smarthome-dev-github-deploy$/), expect.stringMatching(/:role\/smarthome-dev-github-plan$/)]),
      );
    });

    it("state access stays inside this environment's prefix", () => {
      const read = resources(roles, "aws_iam_policy");
      const stateStatements = Object.values(read)
        .flatMap((policy) => statements(JSON.parse(policy.policy)))
        .filter((s) => s.Sid?.startsWith("State") && s.Sid !== "StateKey");
      expect(stateStatements.length).toBe(6);
      for (const statement of stateStatements) {
        for (const resource of statement.Resource) expect(resource).toMatch(/:s3:::smarthome-dev-terraform-state(\/dev\/.*)?$/);
      }
    });
  });

  describe("IoT service roles", () => {
    it.each(["smarthome-dev-iot-alerts", "smarthome-dev-iot-rules"])("%s is assumable by IoT rules of this account and project only", (roleName) => {
      const [, role] = roleNamed(roles, roleName);
      expect(statements(JSON.parse(role.assume_role_policy))[0]).toMatchObject({
        Principal: { Service: "iot.amazonaws.com" },
        Condition: {
          StringEquals: { "aws:SourceAccount": ACCOUNT },
          ArnLike: { "aws:SourceArn": expect.stringMatching(/:iot:eu-west-1:.+:rule\/smarthome_dev_\*$/) },
        },
      });
    });

    it("the alerts role publishes to the alerts topic only", () => {
      const policy = policiesOf(roles, "smarthome-dev-iot-alerts").inline[0];
      expect(statements(policy?.document)).toEqual([
        expect.objectContaining({ Action: ["sns:Publish"], Resource: [expect.stringMatching(/:sns:eu-west-1:.+:smarthome-dev-alerts$/)] }),
      ]);
    });
  });

  it("#8.3 every policy fits IAM's size limits once the account id is known (the Terraform policies split to fit)", () => {
    const size = (document: any) => JSON.stringify(document).replace(/\$\{data\.aws_caller_identity[^}]+\}/g, "123456789012").replace(/\$\{data\.aws_partition[^}]+\}/g, "aws").length;
    const managed = Object.values(resources(roles, "aws_iam_policy"));
    expect(managed.map((policy) => policy.name).sort()).toEqual(["smarthome-dev-terraform-read", "smarthome-dev-terraform-write", "smarthome-dev-terraform-write-2"]);
    for (const policy of managed) {
      expect(size(JSON.parse(policy.policy))).toBeLessThanOrEqual(6144);
    }
    const roleList = Object.values(resources(roles, "aws_iam_role"));
    expect(roleList.length).toBe(6);
    for (const role of roleList) {
      const inline = policiesOf(roles, role.name).inline;
      expect(inline.reduce((total, policy) => total + size(policy.document), 0)).toBeLessThanOrEqual(10240);
    }
  });

  describe("what Terraform needs on a real account", () => {
    const terraformStatements = (roleName: string) => policiesOf(roles, roleName).managed.flatMap(({ document }) => statements(document));
    const granting = (roleName: string, action: string) => terraformStatements(roleName).filter((s) => s.Effect === "Allow" && s.Action.includes(action));

    it("#8.3 plan reads, and deploy also tags, the iot stack's SQS event source mapping", () => {
      for (const action of ["lambda:GetEventSourceMapping", "lambda:ListTags"]) {
        expect(granting("smarthome-dev-github-plan", action).flatMap((s) => s.Resource)).toEqual([expect.stringMatching(/:lambda:eu-west-1:.+:event-source-mapping:\*$/)]);
      }
      for (const action of ["lambda:TagResource", "lambda:UntagResource", "lambda:UpdateEventSourceMapping"]) {
        expect(granting("smarthome-dev-github-deploy", action).flatMap((s) => s.Resource)).toEqual(
          expect.arrayContaining([expect.stringMatching(/:lambda:eu-west-1:.+:event-source-mapping:\*$/)]),
        );
      }
      expect(granting("smarthome-dev-github-plan", "lambda:TagResource")).toEqual([]);
    });

    it("#8.4 deploy may create EC2 Instance Connect's service-linked role, and no other", () => {
      const [statement, ...others] = granting("smarthome-dev-github-deploy", "iam:CreateServiceLinkedRole");
      expect(others).toEqual([]);
      expect(statement?.Resource).toEqual([expect.stringMatching(/^arn:\$\{data\.aws_partition\.[\w-]+\.partition\}:iam::\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}:role\/aws-service-role\/ec2-instance-connect\.amazonaws\.com\/\*$/)]);
      expect(statement?.Condition).toEqual({ StringEquals: { "iam:AWSServiceName": "ec2-instance-connect.amazonaws.com" } });
      expect(granting("smarthome-dev-github-plan", "iam:CreateServiceLinkedRole")).toEqual([]);
    });

    it("#8.14 EC2 Describe actions are listed, never ec2:Describe*; the two that take ARNs are scoped, the rest limited to the region", () => {
      const all = terraformStatements("smarthome-dev-github-plan");
      expect(all.flatMap((s) => s.Action).filter((action) => action.startsWith("ec2:Describe") && action.includes("*"))).toEqual([]);
      const describe = all.find((s) => s.Sid === "Ec2DescribeRead");
      expect(describe?.Resource).toEqual(["*"]);
      expect(describe?.Condition).toEqual({ StringEquals: { "aws:RequestedRegion": "eu-west-1" } });
      expect(describe?.Action).toEqual(expect.arrayContaining(["ec2:DescribeVpcs", "ec2:DescribeInstances", "ec2:DescribeInstanceConnectEndpoints", "ec2:DescribeFlowLogs"]));
      for (const scoped of ["ec2:DescribeInstanceAttribute", "ec2:DescribeVpcAttribute"]) {
        expect(describe?.Action).not.toContain(scoped);
        expect(all.find((s) => s.Action.includes(scoped))?.Resource).toEqual(expect.arrayContaining([expect.stringMatching(/:ec2:eu-west-1:\$\{[^}]+\}:\*$/)]));
      }
    });
  });

  it("exports every role later stacks and workflows need", () => {
    expect(Object.keys(roles.output ?? {}).sort()).toEqual([
      "controller_instance_profile_name",
      "controller_instance_role_arn",
      "github_agent_release_role_arn",
      "github_deploy_role_arn",
      "github_plan_role_arn",
      "iot_alerts_role_arn",
      "iot_rules_role_arn",
    ]);
  });

  it("every document the stack writes parses", () => {
    expect(policyDocuments(roles).length).toBeGreaterThan(8);
  });
});
