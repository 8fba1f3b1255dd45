import { isScopedAction } from "../modules/iam-policy";
import { policyDocuments, resources, statements, synthAll, testConfig, type StackJson } from "./helpers/synth";

/**
 * Checks over the synthesized JSON of every stack, each named after the checkov check it mirrors
 * (checkov reads cdk.tf.json, but it cannot be installed offline here, so these tests stand in).
 */
const configs = {
  default: { config: testConfig(), securityGroupRules: 5 },
  "admin and API allowlists": {
    config: testConfig({ adminCidrs: ["198.51.100.0/24"], apiCidrs: ["203.0.113.0/24", "192.0.2.7/32"] }),
    securityGroupRules: 7,
  },
};

/** Every log group the stacks create: vpc 1 (flow logs), ec2 1, iot 4, iot-fleet 1, api 2. */
const EXPECTED_LOG_GROUPS = 9;

/**
 * Actions AWS offers no resource-level permissions for (Service Authorization Reference: no resource
 * type): the only ones allowed on Resource "*". Named one by one: a wildcard such as ec2:Describe*
 * would also cover actions that do take a resource (ec2:DescribeInstanceAttribute, ec2:DescribeVpcAttribute).
 */
const UNSCOPABLE_ACTIONS = new Set([
  "ecr:GetAuthorizationToken",
  "ec2:DescribeAddresses",
  "ec2:DescribeAddressesAttribute",
  "ec2:DescribeFlowLogs",
  "ec2:DescribeImages",
  "ec2:DescribeInstanceConnectEndpoints",
  "ec2:DescribeInstanceCreditSpecifications",
  "ec2:DescribeInstanceTypes",
  "ec2:DescribeInstances",
  "ec2:DescribeInternetGateways",
  "ec2:DescribeNetworkAcls",
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeRouteTables",
  "ec2:DescribeSecurityGroupRules",
  "ec2:DescribeSecurityGroups",
  "ec2:DescribeSubnets",
  "ec2:DescribeTags",
  "ec2:DescribeVolumes",
  "ec2:DescribeVpcs",
  "iot:DescribeEndpoint",
  "iot:DescribeEventConfigurations",
  "iot:GetV2LoggingOptions",
  "iot:CreateKeysAndCertificate",
  "iot:UpdateEventConfigurations",
  "iot:SetV2LoggingOptions",
  // No resource types in the Service Authorization Reference (list_awssecretsmanager.html).
  "secretsmanager:GetRandomPassword",
  // Scoped by a lambda:FunctionArn condition instead.
  "lambda:CreateEventSourceMapping",
  "lambda:ListEventSourceMappings",
]);

type Rule = { where: string; rule: any; direction: "ingress" | "egress" };

function securityGroupRules(stack: StackJson): Rule[] {
  const rules: Rule[] = [];
  for (const direction of ["ingress", "egress"] as const) {
    for (const [id, rule] of Object.entries(resources(stack, `aws_vpc_security_group_${direction}_rule`))) {
      rules.push({ where: `${direction} rule ${id}`, rule: { ...rule, cidr_blocks: rule.cidr_ipv4 ? [rule.cidr_ipv4] : [], ipv6_cidr_blocks: rule.cidr_ipv6 ? [rule.cidr_ipv6] : [] }, direction });
    }
    for (const [id, group] of Object.entries({ ...resources(stack, "aws_security_group"), ...resources(stack, "aws_default_security_group") })) {
      for (const rule of group[direction] ?? []) rules.push({ where: `${direction} of ${id}`, rule: { ...rule, ip_protocol: rule.protocol }, direction });
    }
  }
  return rules;
}

const openToWorld = (rule: any) => [...(rule.cidr_blocks ?? []), ...(rule.ipv6_cidr_blocks ?? [])].some((cidr: string) => cidr === "0.0.0.0/0" || cidr === "::/0");
const coversPort = (rule: any, port: number) => rule.ip_protocol === "-1" || (rule.from_port <= port && port <= rule.to_port);

describe.each(Object.entries(configs))("security over every stack (%s config)", (_name, { config, securityGroupRules: expectedRules }) => {
  const stacks = Object.entries(synthAll(config));
  const allRules = stacks.flatMap(([id, stack]) => securityGroupRules(stack).map((rule) => ({ ...rule, where: `${id}: ${rule.where}` })));
  const allStatements = stacks.flatMap(([id, stack]) =>
    policyDocuments(stack)
      .filter(({ where }) => !where.startsWith("aws_iam_role.") && !where.startsWith("aws_s3_bucket_policy"))
      .flatMap(({ where, document }) => statements(document).map((statement) => ({ where: `${id}: ${where} ${statement.Sid}`, statement }))),
  );
  const allowStatements = allStatements.filter(({ statement }) => statement.Effect === "Allow");

  it("CKV_AWS_24: no security group allows ingress from 0.0.0.0/0 to port 22", () => {
    expect(allRules.filter(({ direction, rule }) => direction === "ingress" && openToWorld(rule) && coversPort(rule, 22)).map((r) => r.where)).toEqual([]);
  });

  it("CKV_AWS_25: no security group allows ingress from 0.0.0.0/0 to port 3389", () => {
    expect(allRules.filter(({ direction, rule }) => direction === "ingress" && openToWorld(rule) && coversPort(rule, 3389)).map((r) => r.where)).toEqual([]);
  });

  it("CKV_AWS_277: no ingress on all ports and protocols", () => {
    expect(allRules.filter(({ direction, rule }) => direction === "ingress" && rule.ip_protocol === "-1").map((r) => r.where)).toEqual([]);
  });

  it("CKV_AWS_382: no egress to the internet on all ports", () => {
    expect(allRules.filter(({ direction, rule }) => direction === "egress" && openToWorld(rule) && rule.ip_protocol === "-1").map((r) => r.where)).toEqual([]);
  });

  it("#8.16 CKV_AWS_23: every security group and rule has a description", () => {
    const groups = stacks.flatMap(([, stack]) => Object.values(resources(stack, "aws_security_group")));
    expect(groups.length).toBe(2);
    expect(groups.every((group) => typeof group.description === "string" && group.description.length > 0)).toBe(true);
    const rules = stacks.flatMap(([, stack]) => [
      ...Object.values(resources(stack, "aws_vpc_security_group_ingress_rule")),
      ...Object.values(resources(stack, "aws_vpc_security_group_egress_rule")),
    ]);
    expect(rules.length).toBe(expectedRules);
    expect(rules.filter((rule) => !rule.description).length).toBe(0);
  });

  it("CKV_AWS_62: no policy grants full *:* administrative privileges", () => {
    const admin = allowStatements.filter(({ statement }) => statement.Action.some((a) => a === "*" || a === "*:*") && statement.Resource.includes("*"));
    expect(admin.map((s) => s.where)).toEqual([]);
  });

  it("CKV_AWS_63: no policy allows \"*\" as an action (nor a whole service, service:*)", () => {
    const wild = allowStatements.filter(({ statement }) => statement.Action.some((action) => !isScopedAction(action)));
    expect(wild.map((s) => `${s.where}: ${s.statement.Action.join(",")}`)).toEqual([]);
  });

  it("CKV_AWS_355: \"*\" resources only for actions AWS cannot scope", () => {
    const unscoped = allowStatements.filter(({ statement }) => statement.Resource.includes("*"));
    expect(unscoped.length).toBeGreaterThan(0);
    const offending = unscoped.filter(({ statement }) => statement.Action.some((action) => !UNSCOPABLE_ACTIONS.has(action)));
    expect(offending.map((s) => `${s.where}: ${s.statement.Action.join(",")}`)).toEqual([]);
  });

  it("every other resource ARN is scoped to this project, account and region (or its state bucket)", () => {
    const resourcesOutsideProject = allowStatements
      .flatMap(({ where, statement }) => statement.Resource.map((resource) => ({ where, resource })))
      .filter(({ resource }) => resource !== "*")
      // A reference to a resource this project's stacks create: in this stack, or an earlier stack's output.
      .filter(({ resource }) => !/^\$\{(aws_[a-z0-9_]+\.[\w-]+\.arn|data\.terraform_remote_state\.[\w-]+\.outputs\.\w+_arn)\}(:\*)?$/.test(resource))
      .filter(({ resource }) => !/smarthome[-_/]dev|smarthome-dev-terraform-state|token\.actions\.githubusercontent\.com/.test(resource))
      // Resources whose ids AWS assigns: scoped to the account and region instead.
      .filter(({ resource }) => !/:ec2:eu-west-1:\$\{[^}]+\}:(\*|instance\/\*|instance-connect-endpoint\/\*)$|:ec2:eu-west-1::image\/\*$|:iot:eu-west-1:\$\{[^}]+\}:cert\/\*$|:apigateway:eu-west-1::\/\*$|:logs:eu-west-1:\$\{[^}]+\}:log-group:\*$|:lambda:eu-west-1:\$\{[^}]+\}:event-source-mapping:\*$|:kms:eu-west-1:\$\{[^}]+\}:key\/\*$|:iam::\$\{[^}]+\}:role\/aws-service-role\/ec2-instance-connect\.amazonaws\.com\/\*$|:ssm:eu-west-1::parameter\/aws\/service\/ami-amazon-linux-latest\/\*$/.test(resource))
      // Agent-release jobs: ids start with the contract's prefix (contracts/agent-release.ts), not the project's.
      .filter(({ resource }) => !/:iot:eu-west-1:\$\{[^}]+\}:job\/agent-\*$/.test(resource));
    expect(resourcesOutsideProject).toEqual([]);
  });

  it("CKV_AWS_79 / CKV_AWS_8: every instance requires IMDSv2 and encrypts its root volume", () => {
    const instances = stacks.flatMap(([, stack]) => Object.values(resources(stack, "aws_instance")));
    expect(instances.length).toBe(1);
    for (const instance of instances) {
      expect(instance.metadata_options.http_tokens).toBe("required");
      expect(instance.root_block_device.encrypted).toBe(true);
    }
  });

  it("#8.16 CKV_AWS_163 / CKV_AWS_51: every ECR repository scans on push and has immutable tags", () => {
    const repositories = stacks.flatMap(([, stack]) => Object.values(resources(stack, "aws_ecr_repository")));
    expect(repositories.length).toBe(1); // #8.16: a loop over nothing proves nothing
    for (const repository of repositories) {
      expect(repository.image_scanning_configuration.scan_on_push).toBe(true);
      expect(repository.image_tag_mutability).toBe("IMMUTABLE");
    }
  });

  it("#8.16 CKV_AWS_66: every log group has a retention", () => {
    const groups = stacks.flatMap(([id, stack]) => Object.entries(resources(stack, "aws_cloudwatch_log_group")).map(([name, group]) => ({ where: `${id}: ${name}`, group })));
    expect(groups.length).toBe(EXPECTED_LOG_GROUPS);
    expect(groups.filter(({ group }) => !(group.retention_in_days > 0)).map(({ where }) => where)).toEqual([]);
  });
});
