/**
 * Reads back through the AWS SDK, from moto, what users rely on after an apply, and compares it
 * with the synthesized stack (the one source of what was asked for): the controller's security
 * group rules and the closed default group, every IAM role with its trust policy, inline policies
 * and attachments, the image repository's settings, and the instance's metadata options and root
 * volume. Every check that loops over resources also checks how many it found.
 */
import { DescribeInstancesCommand, DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand, DescribeVolumesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { DescribeRepositoriesCommand, ECRClient, GetLifecyclePolicyCommand } from "@aws-sdk/client-ecr";
import { GetRoleCommand, GetRolePolicyCommand, IAMClient, ListAttachedRolePoliciesCommand, ListRolePoliciesCommand } from "@aws-sdk/client-iam";
import { isDeepStrictEqual } from "node:util";

export interface Check {
  readonly what: string;
  readonly ok: boolean;
  readonly detail?: string;
}

type Stack = Record<string, any>;

/** The checks that apply to one applied stack; none for a stack with nothing listed above. */
export async function readBack(stack: Stack, outputs: Readonly<Record<string, string>>, endpoint: string): Promise<Check[]> {
  const config = { endpoint, region: stack.provider?.aws?.[0]?.region as string, credentials: { accessKeyId: "test", secretAccessKey: "test" } };
  const resources: Record<string, Record<string, any>> = stack.resource ?? {};
  const checks: Check[] = [];
  if (resources.aws_iam_role) checks.push(...(await iamRoles(new IAMClient(config), resources)));
  if (resources.aws_vpc_security_group_ingress_rule || resources.aws_vpc_security_group_egress_rule) {
    checks.push(...(await securityGroups(new EC2Client(config), resources, outputs)));
  }
  if (resources.aws_ecr_repository) checks.push(...(await repositories(new ECRClient(config), resources)));
  if (resources.aws_instance) checks.push(...(await instances(new EC2Client(config), resources, outputs)));
  return checks;
}

async function iamRoles(iam: IAMClient, resources: Record<string, Record<string, any>>): Promise<Check[]> {
  const roles = resources.aws_iam_role ?? {};
  const roleName = (reference: string): string => {
    const match = /^\$\{aws_iam_role\.([\w-]+)\.(id|name)\}$/.exec(reference);
    const name = match ? roles[match[1] as string]?.name : reference;
    if (typeof name !== "string" || name.includes("${")) throw new Error(`cannot tell the role of ${reference}`);
    return name;
  };
  const checks: Check[] = [];
  for (const role of Object.values(roles)) {
    const name: string = role.name;
    const read = await iam.send(new GetRoleCommand({ RoleName: name }));
    checks.push(templateCheck(`role ${name}: trust policy`, parsePolicy(read.Role?.AssumeRolePolicyDocument), JSON.parse(role.assume_role_policy)));

    const wantedInline = Object.values(resources.aws_iam_role_policy ?? {}).filter((policy) => roleName(policy.role) === name);
    const inline = (await iam.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames ?? [];
    checks.push(equalCheck(`role ${name}: inline policy names`, [...inline].sort(), wantedInline.map((policy) => policy.name).sort()));
    for (const policy of wantedInline) {
      if (!inline.includes(policy.name)) continue;
      const document = (await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policy.name }))).PolicyDocument;
      checks.push(templateCheck(`role ${name}: inline policy ${policy.name}`, parsePolicy(document), JSON.parse(policy.policy)));
    }

    const wantedAttached = Object.values(resources.aws_iam_role_policy_attachment ?? {}).filter((attachment) => roleName(attachment.role) === name);
    const attached = (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies ?? [];
    const arns = attached.map((policy) => policy.PolicyArn ?? "").sort();
    const patterns = wantedAttached.map((attachment) => attachment.policy_arn as string);
    const unmatched = patterns.filter((pattern) => !arns.some((arn) => templateRegex(pattern).test(arn)));
    checks.push({
      what: `role ${name}: ${patterns.length} managed policy attachments`,
      ok: arns.length === patterns.length && unmatched.length === 0,
      detail: `attached ${JSON.stringify(arns)}, synthesized ${JSON.stringify(patterns)}`,
    });
  }
  return checks;
}

async function securityGroups(ec2: EC2Client, resources: Record<string, Record<string, any>>, outputs: Readonly<Record<string, string>>): Promise<Check[]> {
  const groupId = outputs.controller_security_group_id;
  if (!groupId) return [{ what: "controller security group", ok: false, detail: "no controller_security_group_id output" }];
  const rules = (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] }))).SecurityGroupRules ?? [];
  const key = (protocol: unknown, from: unknown, to: unknown, cidr: unknown) => `${protocol} ${from}-${to} ${cidr}`;
  const wanted = (type: string) => Object.values(resources[type] ?? {}).map((rule) => key(rule.ip_protocol, rule.from_port, rule.to_port, rule.cidr_ipv4)).sort();
  const actual = (egress: boolean) =>
    rules.filter((rule) => rule.IsEgress === egress).map((rule) => key(rule.IpProtocol, rule.FromPort, rule.ToPort, rule.CidrIpv4)).sort();
  const vpcId = outputs.vpc_id;
  const defaults = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId ?? ""] }, { Name: "group-name", Values: ["default"] }] }))).SecurityGroups ?? [];
  const defaultRules = defaults.flatMap((group) => [...(group.IpPermissions ?? []), ...(group.IpPermissionsEgress ?? [])]);
  return [
    equalCheck(`controller security group: ${wanted("aws_vpc_security_group_ingress_rule").length} ingress rules`, actual(false), wanted("aws_vpc_security_group_ingress_rule")),
    equalCheck(`controller security group: ${wanted("aws_vpc_security_group_egress_rule").length} egress rules`, actual(true), wanted("aws_vpc_security_group_egress_rule")),
    { what: "default security group of the VPC allows nothing", ok: defaults.length === 1 && defaultRules.length === 0, detail: `${defaults.length} default groups, rules ${JSON.stringify(defaultRules)}` },
  ];
}

async function repositories(ecr: ECRClient, resources: Record<string, Record<string, any>>): Promise<Check[]> {
  const checks: Check[] = [];
  const wanted = Object.values(resources.aws_ecr_repository ?? {});
  for (const repository of wanted) {
    const name: string = repository.name;
    const read = (await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }))).repositories?.[0];
    checks.push(
      equalCheck(
        `repository ${name}: tag mutability, scan on push, encryption`,
        { mutability: read?.imageTagMutability, scanOnPush: read?.imageScanningConfiguration?.scanOnPush, encryption: read?.encryptionConfiguration?.encryptionType },
        { mutability: repository.image_tag_mutability, scanOnPush: repository.image_scanning_configuration?.scan_on_push, encryption: repository.encryption_configuration?.[0]?.encryption_type },
      ),
    );
  }
  const lifecycles = Object.values(resources.aws_ecr_lifecycle_policy ?? {});
  for (const lifecycle of lifecycles) {
    const name = repositoryName(lifecycle.repository, resources);
    const read = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: name }));
    checks.push(equalCheck(`repository ${name}: lifecycle policy`, JSON.parse(read.lifecyclePolicyText ?? "{}"), JSON.parse(lifecycle.policy)));
  }
  const all = (await ecr.send(new DescribeRepositoriesCommand({}))).repositories ?? [];
  checks.push(equalCheck(`${wanted.length} repositories`, all.map((repository) => repository.repositoryName).sort(), wanted.map((repository) => repository.name).sort()));
  return checks;
}

function repositoryName(reference: string, resources: Record<string, Record<string, any>>): string {
  const match = /^\$\{aws_ecr_repository\.([\w-]+)\.name\}$/.exec(reference);
  return match ? resources.aws_ecr_repository?.[match[1] as string]?.name : reference;
}

async function instances(ec2: EC2Client, resources: Record<string, Record<string, any>>, outputs: Readonly<Record<string, string>>): Promise<Check[]> {
  const wanted = Object.values(resources.aws_instance ?? {});
  if (wanted.length !== 1 || !outputs.controller_instance_id) {
    return [{ what: "controller instance", ok: false, detail: `${wanted.length} aws_instance resources, output controller_instance_id ${outputs.controller_instance_id}` }];
  }
  const synthesized = wanted[0] as Record<string, any>;
  const instance = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [outputs.controller_instance_id] }))).Reservations?.[0]?.Instances?.[0];
  const metadata = instance?.MetadataOptions;
  const root = instance?.BlockDeviceMappings?.find((mapping) => mapping.DeviceName === instance.RootDeviceName);
  const volume = root?.Ebs?.VolumeId ? (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [root.Ebs.VolumeId] }))).Volumes?.[0] : undefined;
  const wantedMetadata = synthesized.metadata_options ?? {};
  const wantedRoot = synthesized.root_block_device ?? {};
  return [
    equalCheck(
      "controller instance: metadata options (IMDSv2)",
      { tokens: metadata?.HttpTokens, endpoint: metadata?.HttpEndpoint, hopLimit: metadata?.HttpPutResponseHopLimit },
      { tokens: wantedMetadata.http_tokens, endpoint: wantedMetadata.http_endpoint, hopLimit: wantedMetadata.http_put_response_hop_limit },
    ),
    equalCheck(
      "controller instance: root volume",
      { encrypted: volume?.Encrypted, type: volume?.VolumeType, size: volume?.Size, deleteOnTermination: root?.Ebs?.DeleteOnTermination },
      { encrypted: wantedRoot.encrypted, type: wantedRoot.volume_type, size: wantedRoot.volume_size, deleteOnTermination: wantedRoot.delete_on_termination },
    ),
  ];
}

/** IAM returns policy documents URL-encoded (RFC 3986). */
function parsePolicy(document: string | undefined): unknown {
  return JSON.parse(decodeURIComponent(document ?? "{}"));
}

function equalCheck(what: string, actual: unknown, wanted: unknown): Check {
  return { what, ok: isDeepStrictEqual(actual, wanted), detail: `read back ${JSON.stringify(actual)}, synthesized ${JSON.stringify(wanted)}` };
}

/**
 * Compares a read-back document with the synthesized one, where a synthesized string's Terraform
 * references (`${...}`, known only at apply) match any text. A single-element list and its only
 * element are the same in IAM's grammar (Action, Resource), so both are compared as lists.
 */
function templateCheck(what: string, actual: unknown, template: unknown): Check {
  return { what, ok: matchesTemplate(actual, template), detail: `read back ${JSON.stringify(actual)}, synthesized ${JSON.stringify(template)}` };
}

function matchesTemplate(actual: unknown, template: unknown): boolean {
  if (typeof template === "string") return typeof actual === "string" && templateRegex(template).test(actual);
  if (Array.isArray(template) || Array.isArray(actual)) {
    const a = [actual].flat();
    const t = [template].flat();
    return a.length === t.length && t.every((item, index) => matchesTemplate(a[index], item));
  }
  if (template && typeof template === "object") {
    if (!actual || typeof actual !== "object") return false;
    const keys = Object.keys(template);
    return keys.length === Object.keys(actual).length && keys.every((key) => matchesTemplate((actual as Record<string, unknown>)[key], (template as Record<string, unknown>)[key]));
  }
  return isDeepStrictEqual(actual, template);
}

function templateRegex(template: string): RegExp {
  const parts = template.split(/(?<!\$)\$\{[^}]+\}/).map((part) => part.replace(/\$\$\{/g, "${").replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".+")}$`);
}
