import { Testing } from "cdktf";
import { AwsAccount } from "../../modules/aws-account";
import { GithubOidc, type GithubSubject } from "../../modules/github-oidc";
import { resources, statements } from "../helpers/synth";

/** The trust conditions of one role that `who` may assume. */
function trustConditions(who: GithubSubject | GithubSubject[]) {
  const synthesized = JSON.parse(
    Testing.synthScope((scope) => {
      const github = new GithubOidc(scope, "github", { account: new AwsAccount(scope, "account", "eu-west-1"), repository: "acme/app" });
      github.role("role", { roleName: "acme-dev-role", description: "test", who });
    }),
  );
  const roles = Object.values(resources(synthesized, "aws_iam_role"));
  expect(roles).toHaveLength(1);
  return statements(JSON.parse(roles[0].assume_role_policy))[0]?.Condition;
}

describe("GithubOidc roles", () => {
  it("match branch and pull-request subjects exactly (StringEquals)", () => {
    expect(trustConditions([{ pullRequest: true }, { branch: "main" }])).toEqual({
      StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": ["repo:acme/app:pull_request", "repo:acme/app:ref:refs/heads/main"] },
    });
  });

  it("match a tag pattern with StringLike, the audience still exactly", () => {
    expect(trustConditions({ tag: "agent-v*" })).toEqual({
      StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
      StringLike: { "token.actions.githubusercontent.com:sub": "repo:acme/app:ref:refs/tags/agent-v*" },
    });
  });

  it("put every subject under one operator when one is a pattern (two operators on one key would both have to match)", () => {
    expect(trustConditions([{ branch: "main" }, { tag: "v*" }])).toEqual({
      StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
      StringLike: { "token.actions.githubusercontent.com:sub": ["repo:acme/app:ref:refs/heads/main", "repo:acme/app:ref:refs/tags/v*"] },
    });
  });
});
