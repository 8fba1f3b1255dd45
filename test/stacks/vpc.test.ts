import { resources, onlyResource, synthAll, testConfig } from "../helpers/synth";

describe("vpc stack", () => {
  const vpc = synthAll().vpc;

  it("creates the VPC and a public subnet that gives out no automatic public IPs", () => {
    expect(onlyResource(vpc, "aws_vpc")).toMatchObject({ cidr_block: "10.20.0.0/16", enable_dns_hostnames: true, enable_dns_support: true });
    expect(onlyResource(vpc, "aws_subnet")).toMatchObject({
      cidr_block: "10.20.1.0/24",
      availability_zone: "eu-west-1a",
      map_public_ip_on_launch: false,
    });
  });

  it("routes the public subnet to an internet gateway", () => {
    const gateway = Object.keys(resources(vpc, "aws_internet_gateway"))[0];
    const table = Object.keys(resources(vpc, "aws_route_table"))[0];
    // No inline routes: they would conflict with aws_route and depend on the provider's attribute list.
    expect(onlyResource(vpc, "aws_route_table").route).toBeUndefined();
    expect(onlyResource(vpc, "aws_route")).toEqual(
      expect.objectContaining({
        route_table_id: `\${aws_route_table.${table}.id}`,
        destination_cidr_block: "0.0.0.0/0",
        gateway_id: `\${aws_internet_gateway.${gateway}.id}`,
      }),
    );
    const association = onlyResource(vpc, "aws_route_table_association");
    expect(association.subnet_id).toMatch(/^\$\{aws_subnet\..+\.id\}$/);
    expect(association.route_table_id).toMatch(/^\$\{aws_route_table\..+\.id\}$/);
  });

  it("allocates the controller's Elastic IP here, so it outlives instance replacements", () => {
    expect(onlyResource(vpc, "aws_eip")).toMatchObject({ domain: "vpc" });
    expect(vpc.output?.controller_eip_allocation_id?.value).toMatch(/aws_eip\..+\.allocation_id/);
  });

  it("CKV2_AWS_12: the default security group allows nothing", () => {
    expect(onlyResource(vpc, "aws_default_security_group")).toMatchObject({ ingress: [], egress: [] });
  });

  it("controller ingress comes only from the config allowlists", () => {
    const config = testConfig({ adminCidrs: ["198.51.100.0/24"], apiCidrs: ["203.0.113.0/24", "192.0.2.10/32"] });
    const ingress = Object.values(resources(synthAll(config).vpc, "aws_vpc_security_group_ingress_rule"));
    expect(ingress.map((rule) => [rule.cidr_ipv4, rule.from_port, rule.to_port, rule.ip_protocol]).sort()).toEqual(
      [
        ["192.0.2.10/32", 8080, 8080, "tcp"],
        ["198.51.100.0/24", 22, 22, "tcp"],
        ["203.0.113.0/24", 8080, 8080, "tcp"],
      ].sort(),
    );
  });

  it("opens no ingress at all when the allowlists are empty", () => {
    const config = testConfig({ adminCidrs: [], apiCidrs: [] });
    expect(resources(synthAll(config).vpc, "aws_vpc_security_group_ingress_rule")).toEqual({});
  });

  it("keys each rule by its CIDR, so reordering an allowlist replaces nothing", () => {
    const ids = (apiCidrs: string[]) => Object.keys(resources(synthAll(testConfig({ apiCidrs })).vpc, "aws_vpc_security_group_ingress_rule")).sort();
    expect(ids(["192.0.2.0/24", "198.51.100.0/24"])).toEqual(ids(["198.51.100.0/24", "192.0.2.0/24"]));
  });

  it("lets the controller out only to HTTPS and MQTT over TLS", () => {
    const egress = Object.values(resources(vpc, "aws_vpc_security_group_egress_rule"));
    expect(egress.map((rule) => rule.from_port).sort()).toEqual([443, 8883]);
  });

  it("#8.13 CKV2_AWS_11: the VPC's flow logs (all traffic) go to a log group with retention, through a role only VPC Flow Logs of this account may assume", () => {
    const [vpcId] = Object.keys(resources(vpc, "aws_vpc"));
    const [groupId, group] = Object.entries(resources(vpc, "aws_cloudwatch_log_group"))[0]!;
    expect(Object.keys(resources(vpc, "aws_cloudwatch_log_group")).length).toBe(1);
    expect(group).toEqual({ name: "/smarthome/dev/vpc/flow-logs", retention_in_days: 30 });
    const [roleId, role] = Object.entries(resources(vpc, "aws_iam_role"))[0]!;
    expect(Object.keys(resources(vpc, "aws_iam_role")).length).toBe(1);
    expect(onlyResource(vpc, "aws_flow_log")).toMatchObject({
      vpc_id: `\${aws_vpc.${vpcId}.id}`,
      traffic_type: "ALL",
      log_destination_type: "cloud-watch-logs",
      log_destination: `\${aws_cloudwatch_log_group.${groupId}.arn}`,
      iam_role_arn: `\${aws_iam_role.${roleId}.arn}`,
    });
    const trust = JSON.parse(role.assume_role_policy).Statement[0];
    expect(trust.Principal).toEqual({ Service: "vpc-flow-logs.amazonaws.com" });
    expect(trust.Condition.StringEquals["aws:SourceAccount"]).toMatch(/aws_caller_identity/);
    expect(trust.Condition.ArnLike["aws:SourceArn"]).toMatch(/:ec2:eu-west-1:.+:vpc-flow-log\/\*$/);
    const policy = JSON.parse(onlyResource(vpc, "aws_iam_role_policy").policy).Statement;
    expect(policy).toEqual([expect.objectContaining({ Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], Resource: [`\${aws_cloudwatch_log_group.${groupId}.arn}:*`] })]);
  });

  it("exports the values later stacks read", () => {
    expect(Object.keys(vpc.output ?? {}).sort()).toEqual([
      "controller_eip_allocation_id",
      "controller_public_ip",
      "controller_security_group_id",
      "public_subnet_id",
      "vpc_id",
    ]);
  });
});
