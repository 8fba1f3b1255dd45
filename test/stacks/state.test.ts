import { Testing } from "cdktf";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { StateBucket } from "../../modules/state-bucket";
import { stackIds } from "../../contracts/stack-outputs";
import { defaultConfig, onlyResource, resources, statements, synthAll, testConfig } from "../helpers/synth";

describe("state stack: the Terraform state bucket", () => {
  const synthesized = Testing.synthScope(
    (scope) =>
      new StateBucket(scope, "state", {
        bucketName: "acme-dev-tfstate",
        keyAlias: "alias/acme-dev-terraform-state",
        accountId: "123456789012",
        partition: "aws",
        stateReaderArns: ["arn:aws:iam::123456789012:role/acme-dev-github-plan"],
      }),
  );
  const state = synthAll().state;

  it("names the bucket from config and refuses destroy", () => {
    expect(synthesized).toHaveResourceWithProperties(S3Bucket, { bucket: "acme-dev-tfstate", lifecycle: { prevent_destroy: true } });
  });

  it("CKV_AWS_21: versioning is enabled", () => {
    expect(synthesized).toHaveResourceWithProperties(S3BucketVersioningA, { versioning_configuration: { status: "Enabled" } });
  });

  const bucketId = (stack: any, bucketName: string) => {
    const found = Object.entries(resources(stack, "aws_s3_bucket")).filter(([, bucket]) => bucket.bucket === bucketName);
    expect(found.length).toBe(1);
    return `\${aws_s3_bucket.${found[0]![0]}.id}`;
  };

  it("#8.7 CKV_AWS_19 / CKV_AWS_145: encrypted at rest with the state bucket's own rotating key, which every backend names", () => {
    const key = onlyResource(state, "aws_kms_key");
    expect(key).toMatchObject({ enable_key_rotation: true, lifecycle: { prevent_destroy: true } });
    const [keyId] = Object.keys(resources(state, "aws_kms_key"));
    expect(onlyResource(state, "aws_kms_alias")).toEqual({ name: "alias/smarthome-dev-terraform-state", target_key_id: `\${aws_kms_key.${keyId}.key_id}` });
    const encryption = Object.values(resources(state, "aws_s3_bucket_server_side_encryption_configuration")).find(
      (e) => e.bucket === bucketId(state, "smarthome-dev-terraform-state"),
    );
    expect(encryption.rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: `\${aws_kms_key.${keyId}.arn}` }, bucket_key_enabled: true },
    ]);
    // Without kms_key_id the backend's encrypt = true writes AES256 objects, whatever the bucket's default.
    const remote = stackIds.filter((id) => id !== "state");
    expect(remote.length).toBe(8);
    for (const id of remote) {
      expect(synthAll()[id].terraform.backend.s3.kms_key_id).toBe("arn:aws:kms:eu-west-1:123456789012:alias/smarthome-dev-terraform-state");
    }
  });

  it("#8.7 without an account id the backend names the key by its alias, resolved in the caller's account", () => {
    const stacks = synthAll(testConfig({ accountId: undefined }));
    expect(defaultConfig.accountId).toBe("123456789012");
    expect(stacks.iot.terraform.backend.s3.kms_key_id).toBe("alias/smarthome-dev-terraform-state");
  });

  it("#8.7 the Terraform roles may use the state key through S3 only", () => {
    const policies = Object.values(resources(synthAll().roles, "aws_iam_policy")).map((policy) => statements(JSON.parse(policy.policy)));
    expect(policies.length).toBeGreaterThanOrEqual(2);
    const keyStatements = policies.flat().filter((s) => s.Sid === "StateKey");
    expect(keyStatements.length).toBe(2); // read (plan) and write (apply)
    for (const statement of keyStatements) {
      expect(statement.Action).toEqual(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]);
      expect(statement.Resource).toEqual([expect.stringMatching(/:kms:eu-west-1:\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}:key\/\*$/)]);
      expect(statement.Condition).toEqual({
        "ForAnyValue:StringEquals": { "kms:ResourceAliases": ["alias/smarthome-dev-terraform-state"] },
        StringEquals: { "kms:ViaService": "s3.eu-west-1.amazonaws.com" },
      });
    }
  });

  it("#8.13 CKV_AWS_18: server access logs go to a separate, private, SSE-S3 bucket only S3 log delivery for this bucket writes", () => {
    const stateBucket = bucketId(state, "smarthome-dev-terraform-state");
    const logBucket = bucketId(state, "smarthome-dev-terraform-state-logs");
    expect(onlyResource(state, "aws_s3_bucket_logging")).toEqual({ bucket: stateBucket, target_bucket: logBucket, target_prefix: "state-bucket/" });
    const byBucket = (type: string) => Object.values(resources(state, type)).filter((r) => r.bucket === logBucket);
    expect(byBucket("aws_s3_bucket_server_side_encryption_configuration")).toEqual([{ bucket: logBucket, rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } }] }]);
    expect(byBucket("aws_s3_bucket_public_access_block")).toEqual([
      { bucket: logBucket, block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true },
    ]);
    expect(byBucket("aws_s3_bucket_versioning").length).toBe(1);
    expect(byBucket("aws_s3_bucket_lifecycle_configuration").length).toBe(1);
    const [policy] = byBucket("aws_s3_bucket_policy");
    const delivery = statements(JSON.parse(policy.policy)).find((s) => s.Sid === "StateBucketAccessLogDelivery");
    expect(delivery).toMatchObject({ Effect: "Allow", Principal: { Service: "logging.s3.amazonaws.com" }, Action: ["s3:PutObject"] });
    expect(delivery?.Condition.ArnLike["aws:SourceArn"]).toMatch(/aws_s3_bucket\..+\.arn/);
  });

  it("CKV_AWS_53..56 / CKV2_AWS_6: every public access block setting is on", () => {
    expect(synthesized).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });

  it("CKV2_AWS_65: ACLs are disabled", () => {
    expect(synthesized).toHaveResourceWithProperties(S3BucketOwnershipControls, { rule: { object_ownership: "BucketOwnerEnforced" } });
  });

  const statePolicy = (stack: any) => {
    const policies = Object.values(resources(stack, "aws_s3_bucket_policy")).filter((p) => p.bucket === bucketId(stack, "smarthome-dev-terraform-state"));
    expect(policies.length).toBe(1);
    return statements(JSON.parse(policies[0].policy));
  };

  it("denies every request that does not use TLS", () => {
    const tls = statePolicy(state).find((s) => s.Sid === "DenyInsecureTransport");
    expect(tls).toMatchObject({ Effect: "Deny", Principal: "*", Action: ["s3:*"], Condition: { Bool: { "aws:SecureTransport": "false" } } });
    expect(tls?.Resource).toHaveLength(2);
  });

  it("#8.13 denies reading, writing and listing state to every principal but the Terraform roles and the break-glass admin", () => {
    const only = (stack: any) => statePolicy(stack).find((s) => s.Sid === "OnlyTerraformReadsState");
    const deny = only(state);
    expect(deny).toMatchObject({ Effect: "Deny", Principal: "*" });
    expect(deny?.Action).toEqual(expect.arrayContaining(["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:ListBucket"]));
    expect(deny?.Resource).toEqual([expect.stringMatching(/aws_s3_bucket\..+\.arn/), expect.stringMatching(/aws_s3_bucket\..+\.arn\}\/\*$/)]);
    expect(deny?.Condition.ArnNotEquals["aws:PrincipalArn"]).toEqual([
      expect.stringMatching(/^arn:\$\{data\.aws_partition\.[\w-]+\.partition\}:iam::\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}:role\/smarthome-dev-github-plan$/),
      expect.stringMatching(/:role\/smarthome-dev-github-deploy$/),
    ]);
    const admin = "arn:aws:iam::123456789012:role/BreakGlass";
    expect(only(synthAll(testConfig({ breakGlassAdminRoleArn: admin })).state)?.Condition.ArnNotEquals["aws:PrincipalArn"]).toEqual([
      expect.stringMatching(/github-plan$/),
      expect.stringMatching(/github-deploy$/),
      admin,
    ]);
  });

  it("exports the bucket name and ARN", () => {
    expect(Object.keys(state.output ?? {}).sort()).toEqual(["state_bucket_arn", "state_bucket_name"]);
    expect(Object.values(resources(state, "aws_s3_bucket")).map((bucket) => bucket.bucket).sort()).toEqual(["smarthome-dev-terraform-state", "smarthome-dev-terraform-state-logs"]);
  });
});
