import type { EnvironmentInput } from "../schema";

/**
 * The default environment. It synthesizes on a fresh clone with no AWS account; before the first
 * deploy set `stateBucket` (globally unique), `github.repository`, `alerts.emails`, and `accountId`;
 * before the first Pi image, `fleet.releasePublicKey` (docs/agent-releases.md "The signing key").
 */
export const dev: EnvironmentInput = {
  name: "dev",
  region: "eu-west-1",
  project: "smarthome",
  stateBucket: "smarthome-dev-terraform-state",
  adminCidrs: [],
  // TEST-NET-3 (RFC 5737): a placeholder that reaches nobody until it is replaced.
  apiCidrs: ["203.0.113.0/24"],
  alerts: { emails: ["alerts@example.com"] },
  github: { repository: "example-org/smart-home-platform" },
  controller: { instanceType: "t4g.nano", imageTag: "bootstrap" },
};
