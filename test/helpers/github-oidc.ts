/** The one trust statement a GitHub OIDC role may have, with the given conditions (as the stacks render it). */
export function githubOidcTrustStatement(condition: Record<string, Record<string, string | readonly string[]>>) {
  return {
    Effect: "Allow",
    Principal: { Federated: expect.stringMatching(/^\$\{aws_iam_openid_connect_provider\..+\.arn\}$/) },
    Action: ["sts:AssumeRoleWithWebIdentity"],
    Resource: [],
    Condition: condition,
  };
}
