import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Fn } from "cdktf";
import type { Construct } from "constructs";

/**
 * A secret holding one JSON object (values may be Terraform references), recoverable for 7 days
 * after deletion. Creates `secret` and `secret-value` in `scope`.
 */
export function storeJsonSecret(scope: Construct, props: { secretName: string; description: string; value: Readonly<Record<string, string>> }): SecretsmanagerSecret {
  const secret = new SecretsmanagerSecret(scope, "secret", { name: props.secretName, description: props.description, recoveryWindowInDays: 7 });
  new SecretsmanagerSecretVersion(scope, "secret-value", { secretId: secret.id, secretString: Fn.jsonencode(props.value) });
  return secret;
}
