import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";

export interface PortAllowlist {
  /** Says what the port is for; becomes each rule's description. */
  readonly purpose: string;
  readonly port: number;
  readonly cidrs: readonly string[];
}

export interface EgressPort {
  readonly purpose: string;
  readonly port: number;
  /** @default "0.0.0.0/0" */
  readonly cidr?: string;
}

export interface AllowlistedSecurityGroupProps {
  readonly name: string;
  readonly description: string;
  readonly vpcId: string;
  /** TCP ports and the networks allowed to reach each; nothing else gets in. */
  readonly ingress: readonly PortAllowlist[];
  /** TCP ports the members may connect out to; nothing else gets out. */
  readonly egress: readonly EgressPort[];
}

/**
 * A security group whose every rule comes from an allowlist. One rule per network and port, each
 * with a description, keyed by its CIDR so reordering a list replaces nothing.
 */
export class AllowlistedSecurityGroup extends Construct {
  readonly securityGroup: SecurityGroup;
  readonly securityGroupId: string;

  constructor(scope: Construct, id: string, props: AllowlistedSecurityGroupProps) {
    super(scope, id);
    this.securityGroup = new SecurityGroup(this, "security-group", {
      name: props.name,
      description: props.description,
      vpcId: props.vpcId,
      tags: { Name: props.name },
      lifecycle: { createBeforeDestroy: true },
    });
    this.securityGroupId = this.securityGroup.id;

    for (const allow of props.ingress) {
      for (const cidr of new Set(allow.cidrs)) {
        new VpcSecurityGroupIngressRule(this, `ingress-${allow.port}-${ruleKey(cidr)}`, {
          securityGroupId: this.securityGroup.id,
          description: `${allow.purpose} from ${cidr}`,
          ipProtocol: "tcp",
          fromPort: allow.port,
          toPort: allow.port,
          cidrIpv4: cidr,
        });
      }
    }
    for (const out of props.egress) {
      const cidr = out.cidr ?? "0.0.0.0/0";
      new VpcSecurityGroupEgressRule(this, `egress-${out.port}-${ruleKey(cidr)}`, {
        securityGroupId: this.securityGroup.id,
        description: out.purpose,
        ipProtocol: "tcp",
        fromPort: out.port,
        toPort: out.port,
        cidrIpv4: cidr,
      });
    }
  }
}

function ruleKey(cidr: string): string {
  return cidr.replace(/[./]/g, "-");
}
