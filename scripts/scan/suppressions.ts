/**
 * What the checkov scan (`npm run scan`) accepts, and why: the one source for the scan and for the
 * "Skipped checkov checks" section of docs/security.md (written by `npm run scan:docs`, checked by
 * test/scan/docs.test.ts).
 *
 * - `skippedChecks`: checks that do not apply to this platform anywhere, by id.
 * - `resourceSuppressions`: known false positives on one resource of one stack.
 *
 * Both must keep matching a failed check: an entry that matches nothing fails the scan, so a fixed
 * resource or a renamed address cannot leave a stale suppression behind. Never add a real gap here.
 */
import type { StackId } from "../../contracts/stack-outputs";

export interface SkippedCheck {
  /** checkov check id, e.g. `CKV_AWS_50`. */
  readonly checkId: string;
  /** checkov's name of the check, for the docs. */
  readonly title: string;
  /** Why it does not apply here, with the source when it rests on AWS or checkov behaviour. */
  readonly reason: string;
}

export interface ResourceSuppression {
  /** The stack, as `cdktf synth` names its folder under `cdktf.out/stacks/`. */
  readonly stack: StackId;
  /** Terraform address in the stack's `cdk.tf.json`, `type.name`. */
  readonly address: string;
  readonly checkId: string;
  /** Why this resource is a false positive, with the source. */
  readonly reason: string;
}

export const skippedChecks: readonly SkippedCheck[] = [
  {
    checkId: "CKV_AWS_50",
    title: "X-Ray tracing is enabled for Lambda",
    reason: "adds cost and a `*`-resource permission; the functions are small and write structured JSON logs",
  },
  {
    checkId: "CKV_AWS_115",
    title: "Lambda function-level concurrent execution limit",
    reason: "the functions are throttled by their event sources (API usage plan, SQS batch mapping, one schedule); reserved concurrency would take from the account's pool",
  },
  {
    checkId: "CKV_AWS_117",
    title: "Lambda function inside a VPC",
    reason: "the functions reach only AWS APIs; a VPC would need NAT or interface endpoints and adds nothing",
  },
  {
    checkId: "CKV_AWS_173",
    title: "Lambda environment variables encrypted with a CMK",
    reason: "the environment holds only resource names (contracts/function-environments.ts), no secrets; Lambda encrypts it at rest with an AWS managed key",
  },
  {
    checkId: "CKV_AWS_272",
    title: "Lambda validates code signing",
    reason: "code signing needs an AWS Signer profile and a signing step; the bundles are built from this repo by CI and only the deploy role can update function code",
  },
  {
    checkId: "CKV_AWS_158",
    title: "CloudWatch log group encrypted by KMS",
    reason:
      "CloudWatch Logs always encrypts log data at rest (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html); the logs hold no secrets, so a CMK would add a key policy per group and no protection",
  },
  {
    checkId: "CKV_AWS_338",
    title: "CloudWatch log groups retain logs for at least 1 year",
    reason: "every log group has a configured retention (CKV_AWS_66, tested); a year of function logs costs more than it helps a home platform",
  },
  {
    checkId: "CKV_AWS_73",
    title: "API Gateway has X-Ray tracing enabled",
    reason: "a low-volume API used by CI; access logs and the function's structured logs cover it",
  },
  {
    checkId: "CKV_AWS_120",
    title: "API Gateway caching is enabled",
    reason: "caching would serve stale serial states to CI; the API is low-volume",
  },
  {
    checkId: "CKV_AWS_225",
    title: "API Gateway method setting caching is enabled",
    reason: "same as CKV_AWS_120: no caching of serial states",
  },
  {
    checkId: "CKV_AWS_237",
    title: "Create before destroy for API Gateway",
    reason:
      "a replacement REST API gets a new id and invoke URL, so create-before-destroy cannot avoid the outage for CI; changes roll out through a new `aws_api_gateway_deployment`",
  },
  {
    checkId: "CKV2_AWS_29",
    title: "Public API Gateway protected by WAF",
    reason: "a regional web ACL costs more than the rest of the stack; the API key's usage plan throttles, and the API only registers serials",
  },
  {
    checkId: "CKV2_AWS_51",
    title: "API Gateway endpoints use client certificate authentication",
    reason:
      "a stage's client certificate is what API Gateway presents to an HTTP backend (https://docs.aws.amazon.com/apigateway/latest/developerguide/getting-started-client-side-ssl-authentication.html); our backend is a Lambda proxy integration, and callers authenticate with the API key",
  },
  {
    checkId: "CKV_AWS_126",
    title: "Detailed monitoring enabled for EC2 instances",
    reason: "costs more than the t4g.nano it watches; basic monitoring is enough for one instance",
  },
  {
    checkId: "CKV_AWS_119",
    title: "DynamoDB tables encrypted with a KMS customer managed key",
    reason: "the tables are encrypted at rest with the AWS managed key (`server_side_encryption.enabled`); no cross-account access that a key policy would control",
  },
  {
    checkId: "CKV_AWS_149",
    title: "Secrets Manager secret encrypted with a KMS CMK",
    reason:
      "AWS recommends the `aws/secretsmanager` key unless a secret is shared across accounts; access is limited by each secret's resource policy instead",
  },
  {
    checkId: "CKV2_AWS_57",
    title: "Secrets Manager secrets have automatic rotation enabled",
    reason:
      "the secrets hold X.509 device certificates and keys (controller identity, claim certificates): rotating one means issuing a new certificate through Terraform, not a rotation Lambda",
  },
  {
    checkId: "CKV_AWS_144",
    title: "S3 bucket has cross-region replication enabled",
    reason:
      "a single-region platform; the state bucket is versioned, and a replica would copy the private keys in state to a second region; the agent-release bucket is versioned and CI can rebuild any release from its tag",
  },
  {
    checkId: "CKV2_AWS_62",
    title: "S3 buckets have event notifications enabled",
    reason: "nothing consumes the state bucket's or the agent-release bucket's object events (a release is rolled out by the IoT job the release script creates)",
  },
];

export const resourceSuppressions: readonly ResourceSuppression[] = [
  {
    stack: "connect",
    address: "aws_vpc_security_group_ingress_rule.instance-connect_target-ingress-from-endpoint_1333F689",
    checkId: "CKV_AWS_24",
    reason:
      "the rule's only source is `referenced_security_group_id` (the endpoint's group); checkov 3 knows only `security_groups`/`source_security_group_id` and reads a rule without a CIDR as open to the world (AbsSecurityGroupUnrestrictedIngress.contains_violation)",
  },
  {
    stack: "vpc",
    address: "aws_security_group.controller-security-group_0C550F3A",
    checkId: "CKV2_AWS_5",
    reason: "attached to the controller instance in the ec2 stack (`vpc_security_group_ids` from remote state); checkov's graph sees one stack",
  },
  {
    stack: "vpc",
    address: "aws_eip.controller-eip",
    checkId: "CKV2_AWS_19",
    reason: "associated with the controller instance by `aws_eip_association` in the ec2 stack; checkov's graph sees one stack",
  },
  {
    stack: "state",
    address: "aws_s3_bucket.state-bucket_log-bucket_AD24E3EA",
    checkId: "CKV_AWS_145",
    reason:
      "the state bucket's access-log bucket uses SSE-S3, the encryption S3 server access log delivery works with without a key policy for the logging service (https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html; SSE-KMS needs a grant to logging.s3.amazonaws.com, aws/aws-cdk#25350); the logs hold request metadata, not state",
  },
  {
    stack: "iot-fleet",
    address: "aws_s3_bucket.agent-release-bucket_AB93FF12",
    checkId: "CKV_AWS_145",
    reason:
      "the agent releases are encrypted at rest with SSE-S3: they hold no secrets (the agent and its Node runtime) and devices trust them by their Ed25519 signature, not by who can read them; with SSE-KMS every IoT-presigned download would also need kms:Decrypt for the presign role (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html)",
  },
  {
    stack: "iot-fleet",
    address: "aws_s3_bucket.agent-release-bucket_AB93FF12",
    checkId: "CKV_AWS_18",
    reason:
      "only the agent-release role writes (CI on an agent-v* tag: its AssumeRoleWithWebIdentity is in CloudTrail, the run in GitHub) and devices read only through URLs IoT presigns per job execution; server access logs would need a log bucket of their own (the state log bucket admits only the state bucket, and its stack is applied by an administrator)",
  },
  {
    stack: "api",
    address: "aws_lambda_function.serial-api_function_F4430364",
    checkId: "CKV_AWS_116",
    reason:
      "invoked synchronously by API Gateway (Lambda proxy integration), which returns the error to the caller; a dead-letter queue only receives failed asynchronous invocations (https://docs.aws.amazon.com/lambda/latest/api/API_DeadLetterConfig.html)",
  },
  {
    stack: "iot-fleet",
    address: "aws_lambda_function.hook_provisioning-hook_function_2CE860E1",
    checkId: "CKV_AWS_116",
    reason:
      "the pre-provisioning hook is invoked synchronously by RegisterThing, which waits for `allowProvisioning` and fails the request if the function fails (https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html); a dead-letter queue only receives failed asynchronous invocations",
  },
];
