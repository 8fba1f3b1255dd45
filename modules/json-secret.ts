import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretPolicy } from "@cdktf/provider-aws/lib/secretsmanager-secret-policy";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Fn } from "cdktf";
import type { Construct } from "constructs";

/**
 * A secret holding one JSON object (values may be Terraform references), recoverable for 7 days
 * after deletion, whose value only the named readers may get: the resource policy denies
 * `GetSecretValue` to every other principal, administrators included. Creates `secret`,
 * `secret-value` and `secret-policy` in `scope`.
 */
export function storeJsonSecret(
  scope: Construct,
  props: { secretName: string; description: string; value: Readonly<Record<string, string>>; readerArns: readonly string[] },
): SecretsmanagerSecret {
  if (props.readerArns.length === 0) throw new Error(`secret ${props.secretName} needs at least one reader`);
  const secret = new SecretsmanagerSecret(scope, "secret", { name: props.secretName, description: props.description, recoveryWindowInDays: 7 });
  new SecretsmanagerSecretVersion(scope, "secret-value", { secretId: secret.id, secretString: Fn.jsonencode(props.value) });
  new SecretsmanagerSecretPolicy(scope, "secret-policy", {
    secretArn: secret.arn,
    blockPublicPolicy: true,
    policy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "OnlyNamedReaders",
          Effect: "Deny",
          Principal: "*",
          Action: "secretsmanager:GetSecretValue",
          Resource: "*",
          Condition: { ArnNotEquals: { "aws:PrincipalArn": [...props.readerArns] } },
        },
      ],
    }),
  });
  return secret;
}
