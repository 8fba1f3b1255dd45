import { Testing } from "cdktf";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { StateBucket } from "../../modules/state-bucket";
import { onlyResource, statements, synthAll } from "../helpers/synth";

describe("state stack: the Terraform state bucket", () => {
  const synthesized = Testing.synthScope((scope) => new StateBucket(scope, "state", { bucketName: "acme-dev-tfstate" }));
  const state = synthAll().state;

  it("names the bucket from config and refuses destroy", () => {
    expect(synthesized).toHaveResourceWithProperties(S3Bucket, { bucket: "acme-dev-tfstate", lifecycle: { prevent_destroy: true } });
  });

  it("CKV_AWS_21: versioning is enabled", () => {
    expect(synthesized).toHaveResourceWithProperties(S3BucketVersioningA, { versioning_configuration: { status: "Enabled" } });
  });

  it("CKV_AWS_19 / CKV_AWS_145: encrypted at rest with KMS", () => {
    expect(synthesized).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [expect.objectContaining({ apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms" } })],
    });
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

  it("denies every request that does not use TLS", () => {
    const policy = JSON.parse(onlyResource(state, "aws_s3_bucket_policy").policy);
    expect(statements(policy)).toEqual([
      expect.objectContaining({
        Effect: "Deny",
        Principal: "*",
        Action: ["s3:*"],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    ]);
    expect(statements(policy)[0]?.Resource).toHaveLength(2);
  });

  it("exports the bucket name and ARN", () => {
    expect(Object.keys(state.output ?? {}).sort()).toEqual(["state_bucket_arn", "state_bucket_name"]);
    expect(onlyResource(state, "aws_s3_bucket").bucket).toBe("smarthome-dev-terraform-state");
  });
});
