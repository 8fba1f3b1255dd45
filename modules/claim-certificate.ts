import { IotCertificate } from "@cdktf/provider-aws/lib/iot-certificate";
import { IotPolicyAttachment } from "@cdktf/provider-aws/lib/iot-policy-attachment";
import type { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { Construct } from "constructs";
import type { ProjectIotPolicy } from "./iot-policy";
import { AMAZON_ROOT_CA_1 } from "./iot-thing-identity";
import { storeJsonSecret } from "./json-secret";

export interface ClaimCertificateProps {
  readonly batch: string;
  /** False retires the batch: the certificate goes inactive and can no longer connect. */
  readonly active: boolean;
  readonly policy: ProjectIotPolicy;
  readonly secretName: string;
  /** The only principals (role ARNs) that may read the secret's value; everyone else is denied. */
  readonly readerArns: readonly string[];
  /** What a device image needs besides the certificate: endpoint, template, client id prefix. */
  readonly deviceSettings: Readonly<Record<string, string>>;
}

/**
 * The claim (bootstrap) certificate of one manufacturing batch, limited by the claim policy to
 * fleet provisioning, with everything a device image needs stored as one secret. Like every key
 * Terraform generates, the private key is also in (encrypted) state.
 */
export class ClaimCertificate extends Construct {
  readonly certificate: IotCertificate;
  readonly certificateId: string;
  readonly secret: SecretsmanagerSecret;

  constructor(scope: Construct, id: string, props: ClaimCertificateProps) {
    super(scope, id);
    this.certificate = new IotCertificate(this, "certificate", { active: props.active });
    this.certificateId = this.certificate.id;
    new IotPolicyAttachment(this, "policy-attachment", { policy: props.policy.policyName, target: this.certificate.arn });
    this.secret = storeJsonSecret(this, {
      secretName: props.secretName,
      description: `Claim certificate of manufacturing batch ${props.batch} (fleet provisioning only)`,
      value: {
        ...props.deviceSettings,
        batch: props.batch,
        certificatePem: this.certificate.certificatePem,
        privateKey: this.certificate.privateKey,
        caPem: AMAZON_ROOT_CA_1,
      },
      readerArns: props.readerArns,
    });
  }
}
