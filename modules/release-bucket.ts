import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Construct } from "constructs";
import { denyInsecureTransport, privateAndOwned } from "./state-bucket";

export interface ReleaseBucketProps {
  /** Globally unique bucket name; take it from the naming convention so IAM policies can scope to it. */
  readonly bucketName: string;
  /**
   * Days an overwritten or deleted object version is kept before it expires. Current versions (the
   * releases themselves) never expire: a device may roll back to, or be sent, any of them.
   * @default 30
   */
  readonly noncurrentVersionExpirationDays?: number;
}

/**
 * A private bucket for build artifacts that devices download through presigned URLs: every kind of
 * public access blocked, ACLs disabled (bucket owner enforced), versioned, encrypted at rest, TLS
 * only, old noncurrent versions expired. Readers and writers are granted by IAM, never by the
 * bucket policy.
 */
export class ReleaseBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly bucketName: string;
  readonly bucketArn: string;

  constructor(scope: Construct, id: string, props: ReleaseBucketProps) {
    super(scope, id);
    this.bucket = new S3Bucket(this, "bucket", { bucket: props.bucketName });
    this.bucketName = this.bucket.bucket;
    this.bucketArn = this.bucket.arn;

    privateAndOwned(this, this.bucket);
    new S3BucketVersioningA(this, "versioning", { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } });
    // SSE-S3: the tarballs hold no secrets (their integrity rests on the Ed25519 signature), and IoT's
    // presigned URLs then need no KMS grant for the presign role (scripts/scan/suppressions.ts).
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket: this.bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: this.bucket.id,
      rule: [
        {
          id: "expire-noncurrent-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionExpirationDays ?? 30 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
    new S3BucketPolicy(this, "tls-only", {
      bucket: this.bucket.id,
      policy: JSON.stringify({ Version: "2012-10-17", Statement: [denyInsecureTransport(this.bucket.arn)] }),
    });
  }
}
