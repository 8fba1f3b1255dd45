import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketLoggingA } from "@cdktf/provider-aws/lib/s3-bucket-logging";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Construct } from "constructs";

/** The bucket that receives the state bucket's server access logs (S3 bucket names end at 63). */
export function accessLogBucketName(stateBucket: string): string {
  return `${stateBucket}-logs`;
}

/**
 * The state key as the S3 backend's `kms_key_id` names it: the alias ARN when the account is known,
 * else the alias name, which KMS resolves in the caller's account (S3 API reference, SSE-KMS key id).
 * Terraform's S3 backend accepts both forms.
 */
export function stateKmsKeyId(keyAlias: string, region: string, accountId: string | undefined): string {
  if (!accountId) return keyAlias;
  const partition = region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
  return `arn:${partition}:kms:${region}:${accountId}:${keyAlias}`;
}

export interface StateBucketProps {
  readonly bucketName: string;
  /** Alias of the customer managed key state objects are encrypted with, e.g. `alias/acme-dev-terraform-state`. */
  readonly keyAlias: string;
  /** The account that owns the bucket (a Terraform reference is fine): the key policy's root and log delivery's source. */
  readonly accountId: string;
  readonly partition: string;
  /**
   * The only principals (role ARNs, as `aws:PrincipalArn` reports them) that may read, write or list
   * state objects: the Terraform roles and the break-glass administrator. Everyone else, account
   * administrators included, is denied by the bucket policy.
   */
  readonly stateReaderArns: readonly string[];
  /**
   * Days a superseded state version is kept before it expires; versions are how a bad apply is
   * rolled back.
   * @default 90
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * Days server access logs are kept.
   * @default 365
   */
  readonly accessLogExpirationDays?: number;
}

/**
 * An S3 bucket fit for Terraform state: versioned, encrypted with its own customer managed key,
 * private, TLS-only, access-logged to a separate bucket, readable only by named roles, and protected
 * from `destroy`. State holds secrets (the controller's and the claim certificates' private keys).
 */
export class StateBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly bucketName: string;
  readonly bucketArn: string;
  readonly key: KmsKey;
  readonly logBucket: S3Bucket;

  constructor(scope: Construct, id: string, props: StateBucketProps) {
    super(scope, id);
    this.key = new KmsKey(this, "key", {
      description: `Terraform state in ${props.bucketName}`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      // The key's own policy only delegates to IAM (the account's default key policy); who may use
      // the key is the Terraform roles' IAM policies, and who may read state is the bucket policy.
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "EnableIamPolicies",
            Effect: "Allow",
            Principal: { AWS: `arn:${props.partition}:iam::${props.accountId}:root` },
            Action: "kms:*",
            Resource: "*",
          },
        ],
      }),
      lifecycle: { preventDestroy: true },
    });
    new KmsAlias(this, "key-alias", { name: props.keyAlias, targetKeyId: this.key.keyId });

    this.bucket = new S3Bucket(this, "bucket", {
      bucket: props.bucketName,
      lifecycle: { preventDestroy: true },
    });
    this.bucketName = this.bucket.bucket;
    this.bucketArn = this.bucket.arn;
    this.logBucket = this.accessLogBucket(props);

    new S3BucketVersioningA(this, "versioning", {
      bucket: this.bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    // The backend also names this key (kms_key_id): without it, `encrypt = true` writes AES256 and
    // overrides this default.
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket: this.bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: this.key.arn }, bucketKeyEnabled: true }],
    });
    privateAndOwned(this, this.bucket);
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: this.bucket.id,
      rule: [
        {
          id: "expire-old-state-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionExpirationDays ?? 90 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
    new S3BucketLoggingA(this, "access-logging", {
      bucket: this.bucket.id,
      targetBucket: this.logBucket.id,
      targetPrefix: "state-bucket/",
    });
    const objects = `${this.bucket.arn}/*`;
    new S3BucketPolicy(this, "tls-only", {
      bucket: this.bucket.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          denyInsecureTransport(this.bucket.arn),
          {
            // State holds private keys: only Terraform's roles and the break-glass administrator read,
            // write or list it. Bucket settings stay with IAM, so an administrator is never locked
            // out of the bucket itself (and the account root can always delete a bucket policy).
            Sid: "OnlyTerraformReadsState",
            Effect: "Deny",
            Principal: "*",
            Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucket", "s3:ListBucketVersions", "s3:RestoreObject"],
            Resource: [this.bucket.arn, objects],
            Condition: { ArnNotEquals: { "aws:PrincipalArn": [...props.stateReaderArns] } },
          },
        ],
      }),
    });
  }

  /**
   * Where S3 delivers the state bucket's server access logs: a separate bucket (logging a bucket into
   * itself logs its own log writes), SSE-S3 as server access log delivery requires of its target,
   * written only by the S3 logging service for this bucket (S3 User Guide, "Enabling Amazon S3 server
   * access logging": a bucket policy for logging.s3.amazonaws.com with aws:SourceArn/SourceAccount).
   */
  private accessLogBucket(props: StateBucketProps): S3Bucket {
    const logs = new S3Bucket(this, "log-bucket", { bucket: accessLogBucketName(props.bucketName) });
    new S3BucketVersioningA(this, "log-versioning", { bucket: logs.id, versioningConfiguration: { status: "Enabled" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "log-encryption", {
      bucket: logs.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    privateAndOwned(this, logs, "log-");
    new S3BucketLifecycleConfiguration(this, "log-lifecycle", {
      bucket: logs.id,
      rule: [
        {
          id: "expire-access-logs",
          status: "Enabled",
          filter: [{ prefix: "" }],
          expiration: [{ days: props.accessLogExpirationDays ?? 365 }],
          noncurrentVersionExpiration: [{ noncurrentDays: 7 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
    new S3BucketPolicy(this, "log-delivery", {
      bucket: logs.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          denyInsecureTransport(logs.arn),
          {
            Sid: "StateBucketAccessLogDelivery",
            Effect: "Allow",
            Principal: { Service: "logging.s3.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: `${logs.arn}/state-bucket/*`,
            Condition: { ArnLike: { "aws:SourceArn": this.bucket.arn }, StringEquals: { "aws:SourceAccount": props.accountId } },
          },
        ],
      }),
    });
    return logs;
  }
}

/** Refuses every request to a bucket and its objects that does not use TLS (S3 security best practices: the aws:SecureTransport condition). */
export function denyInsecureTransport(bucketArn: string) {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/**
 * Every kind of public access blocked and ACLs disabled (bucket owner enforced), so only IAM grants
 * reach the objects. Construct ids `<idPrefix>public-access-block` and `<idPrefix>ownership` in `scope`.
 */
export function privateAndOwned(scope: Construct, bucket: S3Bucket, idPrefix = ""): void {
  new S3BucketPublicAccessBlock(scope, `${idPrefix}public-access-block`, {
    bucket: bucket.id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  new S3BucketOwnershipControls(scope, `${idPrefix}ownership`, {
    bucket: bucket.id,
    rule: { objectOwnership: "BucketOwnerEnforced" },
  });
}
