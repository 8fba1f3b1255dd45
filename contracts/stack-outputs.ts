/**
 * The outputs each stack exports for later stacks (read through S3 remote state) and for CI/CD.
 * Output names are a public contract: a consumer in another stack, or a workflow, reads them by
 * name, so they are written here once and never derived from construct ids.
 */
export const stackOutputs = {
  state: {
    state_bucket_name: "S3 bucket holding every stack's Terraform state",
    state_bucket_arn: "ARN of the state bucket",
  },
  vpc: {
    vpc_id: "ID of the VPC",
    public_subnet_id: "ID of the public subnet the controller runs in",
    controller_security_group_id: "Security group of the controller instance",
    controller_eip_allocation_id: "Allocation ID of the controller's Elastic IP",
    controller_public_ip: "Public IPv4 address of the controller (Elastic IP)",
  },
  connect: {
    instance_connect_endpoint_id: "ID of the EC2 Instance Connect Endpoint (aws ec2-instance-connect ssh --instance-connect-endpoint-id)",
    instance_connect_security_group_id: "Security group of the EC2 Instance Connect Endpoint",
  },
  roles: {
    controller_instance_profile_name: "Instance profile of the controller instance",
    controller_instance_role_arn: "IAM role of the controller instance",
    github_plan_role_arn: "Role GitHub Actions assumes to plan on pull requests",
    github_deploy_role_arn: "Role GitHub Actions assumes to deploy from the deploy branch",
    github_agent_release_role_arn: "Role GitHub Actions assumes to release the Pi agent on an agent-v* tag",
    iot_alerts_role_arn: "Role IoT topic rules assume to publish alerts to SNS",
    iot_rules_role_arn: "Role IoT topic rules assume to write CloudWatch Logs and DynamoDB",
  },
  ecr: {
    controller_repository_name: "ECR repository of the controller image",
    controller_repository_url: "Registry URL of the controller image (docker push target)",
    controller_repository_arn: "ARN of the controller image repository",
  },
  ec2: {
    controller_instance_id: "ID of the controller instance (CD connects to it through the endpoint)",
    controller_public_ip: "Public IPv4 address of the controller",
  },
  iot: {
    iot_data_endpoint: "The account's AWS IoT Core ATS data endpoint (MQTT over TLS, port 8883)",
    device_policy_name: "IoT policy every provisioned device gets",
    controller_thing_name: "Thing name and MQTT client id of the controller",
    controller_secret_arn: "Secrets Manager secret with the controller's IoT identity",
    alerts_topic_arn: "SNS topic for alerts (device errors, offline devices, daily summary)",
    device_table_name: "DynamoDB table of device presence and last responses",
    slack_webhook_secret_name: "Secret to put the Slack webhook URL in (empty when Slack is off)",
  },
  "iot-fleet": {
    serial_table_name: "DynamoDB serial registry",
    serial_table_arn: "ARN of the serial registry",
    provisioning_template_name: "Fleet provisioning template devices register with",
    claim_certificate_secrets: "JSON map of batch name to the secret holding its claim certificate and key",
    thing_group_name: "Thing group of provisioned devices",
    agent_release_bucket_name: "S3 bucket of Pi agent releases (npm run release:agent uploads to it)",
    agent_release_presign_role_arn: "Role IoT assumes to presign agent-release download URLs in job documents",
  },
  api: {
    serial_api_url: "Base URL of the serial API (stage included)",
    serial_api_key_id: "ID of the API key; its value: aws apigateway get-api-key --api-key <id> --include-value",
  },
} as const satisfies Record<string, Record<string, string>>;

/** Stack ids, in the user's deployment order. `cdktf deploy <id> …` takes these. */
export type StackId = keyof typeof stackOutputs;
export const stackIds = Object.keys(stackOutputs) as StackId[];

export type OutputName<S extends StackId> = keyof (typeof stackOutputs)[S] & string;

/** Key of a stack's state in the state bucket. */
export function stateKey(environment: string, stack: StackId): string {
  return `${environment}/${stack}.tfstate`;
}
