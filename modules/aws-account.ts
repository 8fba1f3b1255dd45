import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { Construct } from "constructs";

/**
 * The account and partition the stack deploys into, known at plan time, and ARNs built from them.
 * Lets a policy name resources of later stacks by the naming convention before they exist.
 */
export class AwsAccount extends Construct {
  readonly accountId: string;
  readonly partition: string;

  constructor(
    scope: Construct,
    id: string,
    readonly region: string,
  ) {
    super(scope, id);
    this.accountId = new DataAwsCallerIdentity(this, "caller").accountId;
    this.partition = new DataAwsPartition(this, "partition").partition;
  }

  /** ARN of a regional resource in this account, e.g. `arn("lambda", "function:name")`. */
  arn(service: string, resource: string): string {
    return `arn:${this.partition}:${service}:${this.region}:${this.accountId}:${resource}`;
  }

  /** ARN of a global (IAM) resource in this account. */
  globalArn(service: string, resource: string): string {
    return `arn:${this.partition}:${service}::${this.accountId}:${resource}`;
  }

  /** ARN of an S3 bucket, or of objects in it. */
  s3Arn(bucket: string, objectKey?: string): string {
    return `arn:${this.partition}:s3:::${bucket}${objectKey === undefined ? "" : `/${objectKey}`}`;
  }

  /** ARN of an AWS managed IAM policy. */
  managedPolicyArn(name: string): string {
    return `arn:${this.partition}:iam::aws:policy/${name}`;
  }
}
