import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { Construct } from "constructs";
import type { AwsAccount } from "./aws-account";
import { ProjectRole } from "./project-role";

const GITHUB_TOKEN_HOST = "token.actions.githubusercontent.com";
const STS_AUDIENCE = "sts.amazonaws.com";

export interface GithubOidcProps {
  readonly account: AwsAccount;
  /** `owner/repo` whose workflows may assume the roles. */
  readonly repository: string;
  /**
   * An account holds one provider per URL; pass its ARN to reuse it.
   * @default - a new provider is created
   */
  readonly existingProviderArn?: string;
}

/**
 * Which workflow runs may assume a role: the token's `sub` claim. A `tag` may end in `*` (a push of
 * any matching tag, e.g. `agent-v*`).
 */
export type GithubSubject = { readonly pullRequest: true } | { readonly branch: string } | { readonly tag: string };

/**
 * GitHub Actions' OIDC identity provider, and roles that trust it on both the audience and the
 * subject: without a `sub` condition any repository on GitHub could assume them.
 */
export class GithubOidc extends Construct {
  readonly providerArn: string;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: GithubOidcProps,
  ) {
    super(scope, id);
    // IAM verifies GitHub's certificate against its own trusted CAs; no thumbprint is needed.
    this.providerArn =
      props.existingProviderArn ??
      new IamOpenidConnectProvider(this, "provider", { url: `https://${GITHUB_TOKEN_HOST}`, clientIdList: [STS_AUDIENCE] }).arn;
  }

  /** The `sub` claim of a run of this repository. */
  subject(who: GithubSubject): string {
    const run = "pullRequest" in who ? "pull_request" : "tag" in who ? `ref:refs/tags/${who.tag}` : `ref:refs/heads/${who.branch}`;
    return `repo:${this.props.repository}:${run}`;
  }

  /**
   * A role that only runs matching `who` of this repository can assume. Several subjects are one
   * StringEquals key with a list of values, which IAM evaluates as OR ("Conditions with multiple
   * context keys or values", docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html).
   * When a subject holds a `*`, the subjects are matched with StringLike instead (one operator for
   * all of them: two operators on one key would both have to match).
   */
  role(id: string, props: { roleName: string; description: string; who: GithubSubject | readonly GithubSubject[] }): ProjectRole {
    const subjects = [props.who].flat().map((who) => this.subject(who));
    const sub = { [`${GITHUB_TOKEN_HOST}:sub`]: subjects.length === 1 ? (subjects[0] as string) : subjects };
    const wildcard = subjects.some((subject) => subject.includes("*"));
    return new ProjectRole(this, id, {
      roleName: props.roleName,
      description: props.description,
      trust: {
        principal: { Federated: this.providerArn },
        action: "sts:AssumeRoleWithWebIdentity",
        conditions: {
          StringEquals: { [`${GITHUB_TOKEN_HOST}:aud`]: STS_AUDIENCE, ...(wildcard ? {} : sub) },
          ...(wildcard ? { StringLike: sub } : {}),
        },
      },
    });
  }
}
