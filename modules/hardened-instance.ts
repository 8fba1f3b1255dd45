import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { EipAssociation } from "@cdktf/provider-aws/lib/eip-association";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { Construct } from "constructs";

export interface HardenedInstanceProps {
  /** The instance's `Name` tag. */
  readonly name: string;
  /** SSM public parameter holding the AMI id, e.g. `/aws/service/ami-amazon-linux-latest/…`. */
  readonly amiParameter: string;
  readonly instanceType: string;
  readonly subnetId: string;
  readonly securityGroupIds: readonly string[];
  readonly instanceProfileName: string;
  readonly rootVolumeGiB: number;
  /** Cloud-init user data; a change replaces the instance (it only runs on first boot). */
  readonly userData: string;
  /**
   * IMDSv2 response hop limit.
   * @default 1 - only the host itself; 2 lets a container on it reach the instance role
   */
  readonly metadataHopLimit?: number;
  /** @default - no Elastic IP; the instance keeps the subnet's public address, if any */
  readonly elasticIpAllocationId?: string;
}

/**
 * One EC2 instance with secure defaults: IMDSv2 only, an encrypted gp3 root volume deleted with it,
 * EBS-optimised, standard CPU credits (a busy burstable instance slows down instead of running up a
 * bill), and a new AMI never replacing it on an unrelated apply (`ignore_changes`; roll it with
 * `terraform apply -replace`).
 */
export class HardenedInstance extends Construct {
  readonly instance: Instance;
  readonly instanceId: string;

  constructor(scope: Construct, id: string, props: HardenedInstanceProps) {
    super(scope, id);
    const ami = new DataAwsSsmParameter(this, "ami", { name: props.amiParameter });
    this.instance = new Instance(this, "instance", {
      ami: ami.value,
      instanceType: props.instanceType,
      subnetId: props.subnetId,
      vpcSecurityGroupIds: [...props.securityGroupIds],
      iamInstanceProfile: props.instanceProfileName,
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: props.metadataHopLimit ?? 1 },
      rootBlockDevice: { volumeType: "gp3", volumeSize: props.rootVolumeGiB, encrypted: true, deleteOnTermination: true },
      creditSpecification: { cpuCredits: "standard" },
      ebsOptimized: true,
      userData: props.userData,
      userDataReplaceOnChange: true,
      lifecycle: { ignoreChanges: ["ami"] },
      tags: { Name: props.name },
    });
    this.instanceId = this.instance.id;
    if (props.elasticIpAllocationId) {
      new EipAssociation(this, "eip-association", { allocationId: props.elasticIpAllocationId, instanceId: this.instance.id });
    }
  }
}
