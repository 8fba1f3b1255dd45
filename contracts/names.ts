/**
 * The naming convention for every resource the project creates. Stacks name resources with it, and
 * IAM policies in earlier stacks scope to ARNs built from it before those resources exist.
 */
export interface ProjectNames {
  /** `<project>-<env>`: the start of every resource name. */
  readonly prefix: string;
  /** Role names; IAM limits them to 64 characters. */
  role(purpose: string): string;
  /** Lambda function names. */
  lambdaFunction(purpose: string): string;
  /** Matches every Lambda function of the project, for IAM resources. */
  readonly lambdaFunctionPattern: string;
  /** ECR repository of the controller image. */
  readonly controllerRepository: string;
  /** Secrets Manager secret holding the controller's IoT certificate, key, endpoint and CA. */
  readonly controllerSecret: string;
  /** Secrets Manager secret holding the bearer token of the controller's HTTP API. */
  readonly controllerApiTokenSecret: string;
  /** IoT thing name and MQTT client id of the controller. */
  readonly controllerThing: string;
  /** CloudWatch log group of the controller container. */
  readonly controllerLogGroup: string;
  /** CloudWatch log groups the project creates itself (Lambda groups are `/aws/lambda/<function>`). */
  logGroup(purpose: string): string;
  /** Matches every log group `logGroup()` names. */
  readonly logGroupPattern: string;
  /** The device table: presence and last response per thing. */
  readonly deviceTable: string;
  /** SNS topic for alerts. */
  readonly alertsTopic: string;
  /** Secrets Manager secret holding the Slack incoming-webhook URL (the value is put by an operator). */
  readonly slackWebhookSecret: string;
  /** SQS queue names. */
  queue(purpose: string): string;
  /** EventBridge rule names. */
  schedule(purpose: string): string;
  /** IoT topic rule names allow only `[a-zA-Z0-9_]`. */
  iotRule(purpose: string): string;
  /** Matches every IoT topic rule of the project, for IAM conditions. */
  readonly iotRulePattern: string;
  /** First levels of every MQTT topic the project uses. */
  readonly topicRoot: string;
  /** Fleet provisioning template (IoT allows 36 characters). */
  readonly provisioningTemplate: string;
  /**
   * Client ids devices use while provisioning with a claim certificate. Deliberately not under
   * `prefix`: the presence rule follows only `<prefix>-…` clients.
   */
  readonly provisioningClientPrefix: string;
  /** The serial registry table. */
  readonly serialTable: string;
  /** IoT policy attached to every device certificate (the iot stack creates it, the template names it). */
  readonly devicePolicy: string;
  /**
   * IAM/IoT policy wildcard over every device's thing name (`deviceThingName()` of any serial). It
   * also covers the controller's thing: a policy cannot carve one name out without a Deny.
   */
  readonly deviceThingNamePattern: string;
  /** IoT thing type of every device. */
  readonly deviceThingType: string;
  /** IoT thing group every device joins when it provisions. */
  readonly deviceThingGroup: string;
  /** Secrets Manager secret of one batch's claim certificate, key and device settings (iot-fleet stack). */
  claimSecret(batch: string): string;
  /** Alias of the KMS key that encrypts Terraform state (the state stack creates it; every backend names it). */
  readonly stateKeyAlias: string;
  /**
   * The agent-release bucket (iot-fleet stack). S3 names are global per partition, so the account id
   * makes it unique without a config value; at most 29 + 16 + 12 = 57 of S3's 63 characters.
   * Nobody relies on the name alone: the release script passes the account as ExpectedBucketOwner
   * and the IAM policies require it as aws:ResourceAccount.
   */
  agentReleaseBucket(accountId: string): string;
  /** Role IoT assumes to presign the download URLs of agent-release jobs (iot-fleet stack). */
  readonly agentReleasePresignRole: string;
  /** Role the agent-release workflow assumes through GitHub OIDC (roles stack). */
  readonly githubAgentReleaseRole: string;
}

export function projectNames(project: string, environment: string): ProjectNames {
  const prefix = `${project}-${environment}`;
  const rulePrefix = `${prefix.replace(/-/g, "_")}_`;
  return {
    prefix,
    role: (purpose) => `${prefix}-${purpose}`,
    lambdaFunction: (purpose) => `${prefix}-${purpose}`,
    lambdaFunctionPattern: `${prefix}-*`,
    controllerRepository: `${prefix}/controller`,
    controllerSecret: `${prefix}/controller/iot-identity`,
    controllerApiTokenSecret: `${prefix}/controller/api-token`,
    controllerThing: `${prefix}-controller`,
    controllerLogGroup: `/${project}/${environment}/controller`,
    logGroup: (purpose) => `/${project}/${environment}/${purpose}`,
    logGroupPattern: `/${project}/${environment}/*`,
    deviceTable: `${prefix}-devices`,
    alertsTopic: `${prefix}-alerts`,
    slackWebhookSecret: `${prefix}/alerts/slack-webhook`,
    queue: (purpose) => `${prefix}-${purpose}`,
    schedule: (purpose) => `${prefix}-${purpose}`,
    iotRule: (purpose) => `${rulePrefix}${purpose.replace(/-/g, "_")}`,
    iotRulePattern: `${rulePrefix}*`,
    topicRoot: `${project}/${environment}`,
    provisioningTemplate: `${prefix}-fleet`,
    provisioningClientPrefix: `provisioning-${prefix}-`,
    serialTable: `${prefix}-serials`,
    devicePolicy: `${prefix}-device`,
    deviceThingNamePattern: `${prefix}-*`,
    deviceThingType: `${prefix}-device`,
    deviceThingGroup: `${prefix}-devices`,
    claimSecret: (batch) => `${prefix}/claim/${batch}`,
    stateKeyAlias: `alias/${prefix}-terraform-state`,
    agentReleaseBucket: (accountId) => `${prefix}-agent-releases-${accountId}`,
    agentReleasePresignRole: `${prefix}-agent-release-presign`,
    githubAgentReleaseRole: `${prefix}-github-agent-release`,
  };
}
