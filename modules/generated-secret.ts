import { DataAwsSecretsmanagerRandomPassword } from "@cdktf/provider-aws/lib/data-aws-secretsmanager-random-password";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Construct } from "constructs";

export interface GeneratedSecretProps {
  readonly secretName: string;
  readonly description: string;
  /** Length of the generated value, letters and digits only (no punctuation, no spaces). */
  readonly length: number;
  /** @default 7 */
  readonly recoveryWindowInDays?: number;
}

/**
 * A secret whose value Secrets Manager generates once (GetRandomPassword) and a later apply never
 * changes (`ignore_changes`): rotate it by putting a new value and restarting its readers.
 */
export class GeneratedSecret extends Construct {
  readonly secret: SecretsmanagerSecret;
  readonly secretName: string;
  readonly secretArn: string;

  constructor(scope: Construct, id: string, props: GeneratedSecretProps) {
    super(scope, id);
    this.secret = new SecretsmanagerSecret(this, "secret", {
      name: props.secretName,
      description: props.description,
      recoveryWindowInDays: props.recoveryWindowInDays ?? 7,
    });
    const generated = new DataAwsSecretsmanagerRandomPassword(this, "generated-value", {
      passwordLength: props.length,
      excludePunctuation: true,
      includeSpace: false,
    });
    new SecretsmanagerSecretVersion(this, "version", {
      secretId: this.secret.id,
      secretString: generated.randomPassword,
      lifecycle: { ignoreChanges: ["secret_string"] },
    });
    this.secretName = this.secret.name;
    this.secretArn = this.secret.arn;
  }
}
