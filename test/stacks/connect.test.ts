import { onlyResource, resources, synthAll } from "../helpers/synth";

describe("connect stack: EC2 Instance Connect Endpoint", () => {
  const connect = synthAll().connect;
  const vpcOutput = (name: string) => `\${data.terraform_remote_state.remote-state-vpc.outputs.${name}}`;

  it("puts the endpoint in the public subnet with its own security group", () => {
    const endpoint = onlyResource(connect, "aws_ec2_instance_connect_endpoint");
    expect(endpoint.subnet_id).toBe(vpcOutput("public_subnet_id"));
    expect(endpoint.preserve_client_ip).toBe(false);
    const group = Object.keys(resources(connect, "aws_security_group"))[0];
    expect(endpoint.security_group_ids).toEqual([`\${aws_security_group.${group}.id}`]);
  });

  it("lets the endpoint reach port 22 of the controller and nothing else", () => {
    const egress = onlyResource(connect, "aws_vpc_security_group_egress_rule");
    expect(egress).toMatchObject({ from_port: 22, to_port: 22, ip_protocol: "tcp", referenced_security_group_id: vpcOutput("controller_security_group_id") });
    expect(egress).not.toHaveProperty("cidr_ipv4");
  });

  it("admits SSH to the controller from the endpoint's group only, never from a CIDR", () => {
    const ingress = onlyResource(connect, "aws_vpc_security_group_ingress_rule");
    expect(ingress).toMatchObject({ security_group_id: vpcOutput("controller_security_group_id"), from_port: 22, to_port: 22 });
    expect(ingress.referenced_security_group_id).toMatch(/^\$\{aws_security_group\./);
    expect(ingress).not.toHaveProperty("cidr_ipv4");
  });
});
