import { Construct } from "constructs";
import type { AwsAccount } from "./aws-account";
import { ProjectRole } from "./project-role";

export interface IotJobPresignRoleProps {
  readonly roleName: string;
  readonly account: AwsAccount;
  /** Job ids (an IAM pattern such as `agent-*`) whose documents may use this role's presigned URLs. */
  readonly jobIdPattern: string;
  /** ARNs of the objects devices may download (an IAM pattern such as `arn:aws:s3:::bucket/agent/*`). */
  readonly objectArns: readonly string[];
}

/**
 * The role AWS IoT Jobs assumes to presign S3 download URLs when a device asks for a job document
 * that holds a `${aws:iot:s3-presigned-url:…}` placeholder (CreateJob `presignedUrlConfig.roleArn`).
 * IoT presigns with this role's permissions, so it reads the named objects and nothing else; the
 * trust names this account's and region's jobs (IoT developer guide, "Cross-service confused deputy
 * prevention": aws:SourceArn and aws:SourceAccount; "Create and manage jobs" uses `job/*`).
 */
export class IotJobPresignRole extends Construct {
  readonly role: ProjectRole;
  readonly roleArn: string;

  constructor(scope: Construct, id: string, props: IotJobPresignRoleProps) {
    super(scope, id);
    this.role = new ProjectRole(this, "role", {
      roleName: props.roleName,
      description: "AWS IoT Jobs: presign download URLs of job documents",
      trust: {
        principal: { Service: "iot.amazonaws.com" },
        conditions: {
          StringEquals: { "aws:SourceAccount": props.account.accountId },
          ArnLike: { "aws:SourceArn": props.account.arn("iot", `job/${props.jobIdPattern}`) },
        },
      },
    });
    this.role.allow("read-job-downloads", [
      {
        sid: "ReadJobDownloads",
        actions: ["s3:GetObject"],
        resources: props.objectArns,
        // Bucket names are global: a bucket of the same name in another account is never read
        // (s3:ResourceAccount, S3 condition keys).
        conditions: { StringEquals: { "s3:ResourceAccount": props.account.accountId } },
      },
    ]);
    this.roleArn = this.role.roleArn;
  }
}
