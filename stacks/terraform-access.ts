import type { EnvironmentConfig } from "../config";
import type { ProjectNames } from "../contracts/names";
import type { AwsAccount } from "../modules/aws-account";
import type { PolicyStatement } from "../modules/iam-policy";

/**
 * What Terraform needs to read (plan) and change (apply) for every stack of this repo, per AWS
 * service, scoped to the project's names. Resources whose ids AWS picks (EC2, certificates, API
 * Gateway) are scoped to this account and region instead. A stack that starts using a new service
 * adds it here.
 */
interface ServiceAccess {
  readonly sid: string;
  readonly read: readonly string[];
  readonly write: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: PolicyStatement["conditions"];
  readonly unscopedBecause?: string;
}

function servicesTerraformManages(names: ProjectNames, account: AwsAccount, config: EnvironmentConfig): ServiceAccess[] {
  const p = names.prefix;
  const crud = (service: string, extra: readonly string[] = []) => [
    `${service}:Create*`,
    `${service}:Delete*`,
    `${service}:Update*`,
    `${service}:Tag*`,
    `${service}:Untag*`,
    ...extra,
  ];
  return [
    {
      sid: "Ec2Describe",
      // What the AWS provider reads for the vpc, connect and ec2 stacks' resources, listed rather
      // than ec2:Describe*. The Service Authorization Reference gives these no resource type (only
      // the ec2:Region condition), so they need "*"; the region condition narrows them.
      read: [
        "ec2:DescribeAddresses",
        "ec2:DescribeAddressesAttribute",
        "ec2:DescribeFlowLogs",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceConnectEndpoints",
        "ec2:DescribeInstanceCreditSpecifications",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeInstances",
        "ec2:DescribeInternetGateways",
        "ec2:DescribeNetworkAcls",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeRouteTables",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeTags",
        "ec2:DescribeVolumes",
        "ec2:DescribeVpcs",
      ],
      write: [],
      resources: ["*"],
      conditions: { StringEquals: { "aws:RequestedRegion": config.region } },
      unscopedBecause: "these EC2 Describe actions support no resource-level permissions (Service Authorization Reference, Amazon EC2)",
    },
    {
      sid: "Ec2Resources",
      // The two Describe actions that do take a resource ARN (vpc, instance) are scoped with the rest.
      read: ["ec2:Get*", "ec2:DescribeInstanceAttribute", "ec2:DescribeVpcAttribute"],
      write: crud("ec2", [
        "ec2:Modify*",
        "ec2:Associate*",
        "ec2:Disassociate*",
        "ec2:Attach*",
        "ec2:Detach*",
        "ec2:AllocateAddress",
        "ec2:ReleaseAddress",
        "ec2:AuthorizeSecurityGroup*",
        "ec2:RevokeSecurityGroup*",
        "ec2:Replace*",
        "ec2:RunInstances",
        "ec2:StartInstances",
        "ec2:StopInstances",
        "ec2:TerminateInstances",
      ]),
      // EC2 ids are assigned by AWS, so names cannot scope them; region and account can.
      resources: [account.arn("ec2", "*"), `arn:${account.partition}:ec2:${account.region}::image/*`],
    },
    {
      // A fresh account has no EC2 Instance Connect service-linked role; creating the endpoint creates
      // it (EC2 User Guide, "Grant permissions to use EC2 Instance Connect Endpoint").
      sid: "InstanceConnectServiceLinkedRole",
      read: [],
      write: ["iam:CreateServiceLinkedRole"],
      resources: [account.globalArn("iam", "role/aws-service-role/ec2-instance-connect.amazonaws.com/*")],
      conditions: { StringEquals: { "iam:AWSServiceName": "ec2-instance-connect.amazonaws.com" } },
    },
    {
      sid: "AmiParameters",
      read: ["ssm:GetParameter", "ssm:GetParameters"],
      write: [],
      resources: [`arn:${account.partition}:ssm:${account.region}::parameter/aws/service/ami-amazon-linux-latest/*`],
    },
    {
      sid: "Iam",
      read: ["iam:Get*", "iam:List*"],
      write: crud("iam", [
        "iam:Put*",
        "iam:Attach*",
        "iam:Detach*",
        "iam:AddRoleToInstanceProfile",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:AddClientIDToOpenIDConnectProvider",
        "iam:RemoveClientIDFromOpenIDConnectProvider",
        "iam:SetDefaultPolicyVersion",
      ]),
      resources: [
        account.globalArn("iam", `role/${p}-*`),
        account.globalArn("iam", `instance-profile/${p}-*`),
        account.globalArn("iam", `policy/${p}-*`),
        account.globalArn("iam", "oidc-provider/token.actions.githubusercontent.com"),
      ],
    },
    {
      sid: "Ecr",
      read: ["ecr:Describe*", "ecr:List*", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy"],
      write: [
        "ecr:CreateRepository",
        "ecr:PutLifecyclePolicy",
        "ecr:DeleteLifecyclePolicy",
        "ecr:PutImageScanningConfiguration",
        "ecr:PutImageTagMutability",
        "ecr:SetRepositoryPolicy",
        "ecr:DeleteRepositoryPolicy",
        "ecr:TagResource",
        "ecr:UntagResource",
      ],
      resources: [account.arn("ecr", `repository/${names.controllerRepository}`)],
    },
    {
      sid: "Iot",
      read: ["iot:Describe*", "iot:Get*", "iot:List*"],
      write: crud("iot", [
        "iot:Attach*",
        "iot:Detach*",
        "iot:Replace*",
        "iot:Enable*",
        "iot:Disable*",
        "iot:Set*",
        "iot:AddThingToThingGroup",
        "iot:RemoveThingFromThingGroup",
        "iot:DeprecateThingType",
      ]),
      resources: [
        account.arn("iot", `thing/${p}-*`),
        account.arn("iot", `thinggroup/${p}-*`),
        account.arn("iot", `thingtype/${p}-*`),
        account.arn("iot", `policy/${p}-*`),
        account.arn("iot", `rule/${names.iotRulePattern}`),
        account.arn("iot", `provisioningtemplate/${p}-*`),
        // Certificate ids are assigned by AWS.
        account.arn("iot", "cert/*"),
      ],
    },
    {
      sid: "IotAccount",
      read: ["iot:DescribeEndpoint", "iot:DescribeEventConfigurations", "iot:GetV2LoggingOptions"],
      write: ["iot:CreateKeysAndCertificate", "iot:UpdateEventConfigurations", "iot:SetV2LoggingOptions"],
      resources: ["*"],
      unscopedBecause: "these IoT actions act on the account's settings and support no resource-level permissions",
    },
    {
      sid: "Lambda",
      read: ["lambda:Get*", "lambda:List*"],
      write: crud("lambda", ["lambda:Publish*", "lambda:Put*", "lambda:AddPermission", "lambda:RemovePermission"]),
      resources: [account.arn("lambda", `function:${names.lambdaFunctionPattern}`)],
    },
    {
      sid: "LambdaEventSources",
      read: ["lambda:ListEventSourceMappings"],
      write: ["lambda:CreateEventSourceMapping"],
      resources: ["*"],
      conditions: { StringLike: { "lambda:FunctionArn": account.arn("lambda", `function:${names.lambdaFunctionPattern}`) } },
      unscopedBecause: "Lambda creates and lists event source mappings on no resource; the condition scopes them to project functions",
    },
    {
      sid: "LambdaEventSourceMappings",
      // The provider reads and writes a mapping's tags (default tags apply to it too).
      read: ["lambda:GetEventSourceMapping", "lambda:ListTags"],
      write: ["lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping", "lambda:TagResource", "lambda:UntagResource"],
      // Mapping ids are assigned by AWS.
      resources: [account.arn("lambda", "event-source-mapping:*")],
    },
    {
      sid: "LogGroups",
      read: ["logs:DescribeLogGroups"],
      write: [],
      resources: [account.arn("logs", "log-group:*")],
    },
    {
      sid: "Logs",
      read: ["logs:ListTagsForResource"],
      write: ["logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:TagResource", "logs:UntagResource"],
      resources: [
        account.arn("logs", `log-group:/aws/lambda/${names.lambdaFunctionPattern}`),
        account.arn("logs", `log-group:${names.logGroupPattern}`),
      ],
    },
    {
      sid: "Sns",
      read: ["sns:Get*", "sns:List*"],
      write: ["sns:CreateTopic", "sns:DeleteTopic", "sns:Set*", "sns:Subscribe", "sns:Unsubscribe", "sns:TagResource", "sns:UntagResource"],
      resources: [account.arn("sns", `${p}-*`)],
    },
    {
      sid: "Sqs",
      read: ["sqs:Get*", "sqs:List*"],
      write: ["sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"],
      resources: [account.arn("sqs", `${p}-*`)],
    },
    {
      sid: "Events",
      read: ["events:Describe*", "events:List*"],
      write: ["events:PutRule", "events:DeleteRule", "events:PutTargets", "events:RemoveTargets", "events:TagResource", "events:UntagResource"],
      resources: [account.arn("events", `rule/${p}-*`)],
    },
    {
      sid: "DynamoDb",
      read: ["dynamodb:Describe*", "dynamodb:ListTagsOfResource"],
      // Table-level actions only: Delete* would include DeleteItem.
      write: [
        "dynamodb:CreateTable",
        "dynamodb:DeleteTable",
        "dynamodb:UpdateTable",
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:UpdateTimeToLive",
        "dynamodb:TagResource",
        "dynamodb:UntagResource",
      ],
      resources: [account.arn("dynamodb", `table/${p}-*`)],
    },
    {
      // The iot-fleet stack's agent-release bucket, at bucket level only: object actions name object
      // ARNs, so these grant no object reads or writes. The provider reads the bucket's settings
      // one Get action each (HeadBucket is s3:ListBucket) and tags it through S3's TagResource API.
      sid: "AgentReleaseBucket",
      read: ["s3:Get*", "s3:ListBucket", "s3:ListTagsForResource"],
      write: [
        "s3:CreateBucket",
        "s3:DeleteBucket",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutBucketVersioning",
        "s3:PutEncryptionConfiguration",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketOwnershipControls",
        "s3:PutBucketTagging",
        "s3:TagResource",
        "s3:UntagResource",
      ],
      resources: [account.s3Arn(names.agentReleaseBucket(account.accountId))],
    },
    {
      sid: "SecretsManager",
      // Refreshing a secret version reads its value: state holds it anyway.
      read: ["secretsmanager:Describe*", "secretsmanager:GetResourcePolicy", "secretsmanager:GetSecretValue", "secretsmanager:ListSecretVersionIds"],
      write: crud("secretsmanager", ["secretsmanager:PutSecretValue", "secretsmanager:PutResourcePolicy"]),
      resources: [account.arn("secretsmanager", `secret:${p}/*`)],
    },
    // Issue #12: the ec2 stack generates the controller API token (data aws_secretsmanager_random_password, read at plan).
    // GetRandomPassword lists no resource type: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
    {
      sid: "GenerateApiToken",
      read: ["secretsmanager:GetRandomPassword"],
      write: [],
      resources: ["*"],
      unscopedBecause: "secretsmanager:GetRandomPassword acts on no resource and supports no resource-level permissions",
    },
    {
      sid: "ApiGateway",
      read: ["apigateway:GET"],
      write: ["apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"],
      // API Gateway ARNs carry no account and its ids are assigned by AWS; the region scopes them.
      resources: [`arn:${account.partition}:apigateway:${config.region}::/*`],
    },
  ];
}

/** ARNs of the roles Terraform runs as (plan, deploy): the only readers of state besides break-glass. */
export function terraformRoleArns(names: ProjectNames, account: AwsAccount): string[] {
  return [account.globalArn("iam", `role/${names.role("github-plan")}`), account.globalArn("iam", `role/${names.role("github-deploy")}`)];
}

/** Terraform state of this environment: list, read, the S3 lock files, and the state key. */
function stateAccess(names: ProjectNames, config: EnvironmentConfig, account: AwsAccount, mode: "plan" | "apply"): PolicyStatement[] {
  const objects = mode === "apply" ? `${config.name}/*` : `${config.name}/*.tflock`;
  return [
    {
      sid: "StateList",
      actions: ["s3:ListBucket"],
      resources: [account.s3Arn(config.stateBucket)],
      conditions: { StringLike: { "s3:prefix": [`${config.name}/*`] } },
    },
    { sid: "StateRead", actions: ["s3:GetObject"], resources: [account.s3Arn(config.stateBucket, `${config.name}/*`)] },
    { sid: mode === "apply" ? "StateWrite" : "StateLock", actions: ["s3:PutObject", "s3:DeleteObject"], resources: [account.s3Arn(config.stateBucket, objects)] },
    {
      // State and lock files are encrypted with the state key (the backend's kms_key_id); the S3
      // backend docs list these three actions. The key id is AWS's, so its alias scopes it.
      sid: "StateKey",
      actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
      resources: [account.arn("kms", "key/*")],
      conditions: {
        "ForAnyValue:StringEquals": { "kms:ResourceAliases": [names.stateKeyAlias] },
        StringEquals: { "kms:ViaService": `s3.${config.region}.amazonaws.com` },
      },
    },
  ];
}

/** Everything `terraform plan` reads, plus the state lock. */
export function terraformPlanStatements(names: ProjectNames, account: AwsAccount, config: EnvironmentConfig): PolicyStatement[] {
  const services = servicesTerraformManages(names, account, config).filter((service) => service.read.length > 0);
  return [
    ...stateAccess(names, config, account, "plan"),
    ...services.map((service) => ({
      sid: `${service.sid}Read`,
      actions: service.read,
      resources: service.resources,
      conditions: service.conditions,
      unscopedBecause: service.unscopedBecause,
    })),
  ];
}

/** What `terraform apply` changes, beyond what plan reads. */
export function terraformApplyStatements(names: ProjectNames, account: AwsAccount, config: EnvironmentConfig): PolicyStatement[] {
  const services = servicesTerraformManages(names, account, config).filter((service) => service.write.length > 0);
  return [
    ...stateAccess(names, config, account, "apply"),
    ...services.map((service) => ({
      sid: `${service.sid}Write`,
      actions: service.write,
      resources: service.resources,
      conditions: service.conditions,
      unscopedBecause: service.unscopedBecause,
    })),
    {
      sid: "PassProjectRoles",
      actions: ["iam:PassRole"],
      resources: [account.globalArn("iam", `role/${names.prefix}-*`)],
      conditions: {
        StringEquals: {
          "iam:PassedToService": ["ec2.amazonaws.com", "lambda.amazonaws.com", "iot.amazonaws.com", "apigateway.amazonaws.com", "vpc-flow-logs.amazonaws.com"],
        },
      },
    },
  ];
}
