/**
 * Over-the-air agent releases (issue #11): the iot-fleet stack's release bucket and presign role,
 * the roles stack's GitHub release role, and what the Terraform roles gain to apply them. Tests
 * over the synthesized JSON, named after the checkov checks they mirror where one exists.
 */
import { agentReleaseJobId, agentReleaseJobPrefix, agentReleaseObjectKey } from "../../contracts/agent-release";
import { projectNames } from "../../contracts/names";
import { githubOidcTrustStatement } from "../helpers/github-oidc";
import { onlyResource, resources, statements, synthAll, type StackJson } from "../helpers/synth";

const stacks = synthAll();
const fleet = stacks["iot-fleet"];
const roles = stacks.roles;
const ACCOUNT = "${data.aws_caller_identity.account_caller_1C5BE04F.account_id}";
const PARTITION = "${data.aws_partition.account_partition_32ACE770.partition}";
const BUCKET = `smarthome-dev-agent-releases-${ACCOUNT}`;
const OBJECTS = `arn:${PARTITION}:s3:::${BUCKET}/agent/*`;
const JOBS = `arn:${PARTITION}:iot:eu-west-1:${ACCOUNT}:job/smarthome-dev-agent-*`;
const GROUP = `arn:${PARTITION}:iot:eu-west-1:${ACCOUNT}:thinggroup/smarthome-dev-devices`;
const THINGS = `arn:${PARTITION}:iot:eu-west-1:${ACCOUNT}:thing/smarthome-dev-*`;

function roleNamed(stack: StackJson, name: string): [string, any] {
  const found = Object.entries(resources(stack, "aws_iam_role")).filter(([, role]) => role.name === name);
  expect(found).toHaveLength(1);
  return found[0] as [string, any];
}

function inlineStatements(stack: StackJson, roleName: string) {
  const [roleId] = roleNamed(stack, roleName);
  const policies = Object.values(resources(stack, "aws_iam_role_policy")).filter((policy) => policy.role === `\${aws_iam_role.${roleId}.id}`);
  return policies.flatMap((policy) => statements(JSON.parse(policy.policy)));
}

/** The one resource of `type` that configures the release bucket. */
function forReleaseBucket(type: string): any {
  const bucketId = Object.entries(resources(fleet, "aws_s3_bucket")).find(([, bucket]) => bucket.bucket === BUCKET)?.[0];
  const found = Object.values(resources(fleet, type)).filter((resource) => resource.bucket === `\${aws_s3_bucket.${bucketId}.id}`);
  expect(found).toHaveLength(1);
  return found[0];
}

describe("the agent-release bucket (iot-fleet stack)", () => {
  it("is named by the convention with the account id (S3 names are global), the only bucket of the stack", () => {
    expect(onlyResource(fleet, "aws_s3_bucket")).toEqual({ bucket: BUCKET });
    expect(projectNames("a".repeat(16), "b".repeat(12)).agentReleaseBucket("123456789012").length).toBeLessThanOrEqual(63);
    expect(onlyResource(fleet, "aws_s3_bucket").force_destroy).toBeUndefined();
  });

  it("CKV2_AWS_6: blocks every kind of public access", () => {
    const block = forReleaseBucket("aws_s3_bucket_public_access_block");
    expect(block).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
  });

  it("CKV2_AWS_65: ACLs are disabled (bucket owner enforced)", () => {
    expect(forReleaseBucket("aws_s3_bucket_ownership_controls").rule).toEqual({ object_ownership: "BucketOwnerEnforced" });
  });

  it("CKV_AWS_21: is versioned", () => {
    expect(forReleaseBucket("aws_s3_bucket_versioning").versioning_configuration).toEqual({ status: "Enabled" });
  });

  it("CKV_AWS_19: encrypts at rest by default", () => {
    expect(forReleaseBucket("aws_s3_bucket_server_side_encryption_configuration").rule).toEqual([{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }]);
  });

  it("CKV2_AWS_61: expires old noncurrent versions and incomplete uploads, never a current release", () => {
    const [rule, ...others] = forReleaseBucket("aws_s3_bucket_lifecycle_configuration").rule;
    expect(others).toEqual([]);
    expect(rule).toEqual({
      id: "expire-noncurrent-versions",
      status: "Enabled",
      filter: [{ prefix: "" }],
      noncurrent_version_expiration: [{ noncurrent_days: 30 }],
      abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
    });
  });

  it("its policy only refuses requests without TLS (aws:SecureTransport); readers and writers are granted by IAM", () => {
    const policy = statements(JSON.parse(forReleaseBucket("aws_s3_bucket_policy").policy));
    expect(policy).toEqual([
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: ["s3:*"],
        Resource: [expect.stringMatching(/^\$\{aws_s3_bucket\.agent-release-bucket_\w+\.arn\}$/), expect.stringMatching(/^\$\{aws_s3_bucket\.agent-release-bucket_\w+\.arn\}\/\*$/)],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
  });

  it("the object key of every release is under the prefix the grants stop at", () => {
    expect(agentReleaseObjectKey("1.4.0")).toBe("agent/1.4.0/smart-home-agent-1.4.0-linux-arm64.tar.gz");
    expect(agentReleaseJobId("smarthome-dev", "1.4.0", "7").startsWith(agentReleaseJobPrefix("smarthome-dev"))).toBe(true);
  });
});

describe("the presign role IoT assumes for job downloads (iot-fleet stack)", () => {
  const [, role] = roleNamed(fleet, "smarthome-dev-agent-release-presign");

  it("trusts IoT for this account's and region's agent-release jobs only (confused deputy)", () => {
    expect(statements(JSON.parse(role.assume_role_policy))).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "iot.amazonaws.com" },
        Action: ["sts:AssumeRole"],
        Resource: [],
        Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT }, ArnLike: { "aws:SourceArn": JOBS } },
      },
    ]);
  });

  it("reads release objects of the bucket in this account and nothing else", () => {
    expect(inlineStatements(fleet, "smarthome-dev-agent-release-presign")).toEqual([
      { Sid: "ReadJobDownloads", Effect: "Allow", Action: ["s3:GetObject"], Resource: [OBJECTS], Condition: { StringEquals: { "s3:ResourceAccount": ACCOUNT } } },
    ]);
    expect(Object.values(resources(fleet, "aws_iam_role_policy_attachment")).filter((attachment) => attachment.role.includes("presign"))).toEqual([]);
  });

  it("the stack exports the bucket name and the role ARN", () => {
    expect(fleet.output?.agent_release_bucket_name?.value).toMatch(/^\$\{aws_s3_bucket\.agent-release-bucket_\w+\.bucket\}$/);
    expect(fleet.output?.agent_release_presign_role_arn?.value).toMatch(/^\$\{aws_iam_role\.agent-release-presign-role_\w+\.arn\}$/);
  });
});

describe("the GitHub agent-release role (roles stack)", () => {
  const [, role] = roleNamed(roles, "smarthome-dev-github-agent-release");
  const granted = inlineStatements(roles, "smarthome-dev-github-agent-release");

  it("trusts only a push of an agent-v* tag of this repository, on both aud and sub", () => {
    expect(statements(JSON.parse(role.assume_role_policy))).toEqual([
      githubOidcTrustStatement({
        StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
        StringLike: { "token.actions.githubusercontent.com:sub": "repo:example-org/smart-home-platform:ref:refs/tags/agent-v*" },
      }),
    ]);
  });

  it("may only upload and find releases, check targets, create and describe agent jobs, and pass the presign role to IoT", () => {
    expect(granted).toEqual([
      { Sid: "UploadReleases", Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject"], Resource: [OBJECTS], Condition: { StringEquals: { "s3:ResourceAccount": ACCOUNT } } },
      { Sid: "FindReleases", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [`arn:${PARTITION}:s3:::${BUCKET}`], Condition: { StringEquals: { "s3:ResourceAccount": ACCOUNT } } },
      { Sid: "CheckTargets", Effect: "Allow", Action: ["iot:DescribeThingGroup", "iot:DescribeThing"], Resource: [GROUP, THINGS] },
      { Sid: "CreateReleaseJobs", Effect: "Allow", Action: ["iot:CreateJob"], Resource: [JOBS, GROUP, THINGS] },
      { Sid: "DescribeReleaseJobs", Effect: "Allow", Action: ["iot:DescribeJob"], Resource: [JOBS] },
      {
        Sid: "PassPresignRole",
        Effect: "Allow",
        Action: ["iam:PassRole"],
        Resource: [`arn:${PARTITION}:iam::${ACCOUNT}:role/smarthome-dev-agent-release-presign`],
        Condition: { StringEquals: { "iam:PassedToService": "iot.amazonaws.com" } },
      },
    ]);
    const [roleId] = roleNamed(roles, "smarthome-dev-github-agent-release");
    expect(Object.values(resources(roles, "aws_iam_role_policy_attachment")).filter((attachment) => attachment.role === `\${aws_iam_role.${roleId}.name}`)).toEqual([]);
  });

  it("is exported for the workflow's AGENT_RELEASE_ROLE_ARN variable, and the deploy role cannot change it", () => {
    expect(roles.output?.github_agent_release_role_arn?.value).toMatch(/^\$\{aws_iam_role\.github-oidc_github-agent-release-role_\w+\.arn\}$/);
    const deny = Object.values(resources(roles, "aws_iam_role_policy"))
      .flatMap((policy) => statements(JSON.parse(policy.policy)))
      .filter((statement) => statement.Sid === "NoSelfEscalation");
    expect(deny).toHaveLength(1);
    expect(deny[0]?.Resource).toContain(`arn:${PARTITION}:iam::${ACCOUNT}:role/smarthome-dev-github-agent-release`);
  });
});

describe("what the Terraform roles gain to apply the release bucket", () => {
  const managed = Object.values(resources(roles, "aws_iam_policy")).map((policy) => ({ name: policy.name as string, statements: statements(JSON.parse(policy.policy)) }));
  const bucketStatements = (policyPrefix: string) =>
    managed.filter(({ name }) => name.startsWith(policyPrefix)).flatMap(({ statements: all }) => all.filter((statement) => statement.Sid?.startsWith("AgentReleaseBucket")));

  it("plan reads the bucket's settings; deploy creates, configures and deletes it; both at bucket level only", () => {
    const read = bucketStatements("smarthome-dev-terraform-read");
    const write = bucketStatements("smarthome-dev-terraform-write");
    expect(read.map((statement) => statement.Sid)).toEqual(["AgentReleaseBucketRead"]);
    expect(write.map((statement) => statement.Sid)).toEqual(["AgentReleaseBucketWrite"]);
    expect(read[0]?.Action).toEqual(["s3:Get*", "s3:ListBucket", "s3:ListTagsForResource"]);
    expect(write[0]?.Action).toEqual(expect.arrayContaining(["s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketPolicy", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration", "s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls"]));
    // Object ARNs never: Terraform neither reads nor writes releases.
    for (const statement of [...read, ...write]) expect(statement.Resource).toEqual([`arn:${PARTITION}:s3:::${BUCKET}`]);
    expect(write[0]?.Action.filter((action) => /Object/.test(action))).toEqual([]);
  });
});
