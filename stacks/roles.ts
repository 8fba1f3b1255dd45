import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config";
import { AGENT_RELEASE_KEY_PREFIX, agentReleaseJobPrefix } from "../contracts/agent-release";
import { deviceTopicRules, topicRuleRoleStatements, type TopicRulesDefinition } from "../contracts/topic-rules";
import { anyDeviceTopicFilter, anyDeviceTopicPattern } from "../contracts/topics";
import { AwsAccount } from "../modules/aws-account";
import { GithubOidc } from "../modules/github-oidc";
import { ProjectRole, sharedPolicies } from "../modules/project-role";
import { TableReference } from "../modules/project-table";
import { ProjectStack } from "./project-stack";
import { terraformApplyStatements, terraformPlanStatements } from "./terraform-access";

export interface RolesStackOptions {
  /** The topic rules whose actions the IoT rule roles run; give the `iot` stack the same. @default deviceTopicRules */
  readonly topicRules?: TopicRulesDefinition;
}

/**
 * The roles other stacks and services assume, which must exist before those stacks: the controller
 * instance's role and profile, the GitHub OIDC provider with the plan, deploy and agent-release
 * roles, and the IoT topic-rule roles. Resources of later stacks are named by the convention in
 * contracts/names.ts, so these policies scope to their ARNs before they exist.
 *
 * Not here: each Lambda's role (made with its function, `ProjectFunction`), the API Gateway logging
 * role (`api`), and the IoT roles for fleet provisioning and release downloads (`iot-fleet`); each
 * sits next to the resource it serves.
 */
export class RolesStack extends ProjectStack<"roles"> {
  constructor(scope: Construct, config: EnvironmentConfig, options: RolesStackOptions = {}) {
    super(scope, "roles", { config });
    const account = new AwsAccount(this, "account", config.region);
    const names = this.names;

    // --- The controller instance -------------------------------------------------------------
    const controller = new ProjectRole(this, "controller-instance-role", {
      roleName: names.role("controller"),
      description: "Smart-home controller EC2 instance",
      trust: { principal: { Service: "ec2.amazonaws.com" } },
    });
    controller.allow("pull-controller-image", [
      {
        sid: "RegistryLogin",
        actions: ["ecr:GetAuthorizationToken"],
        resources: ["*"],
        unscopedBecause: "ecr:GetAuthorizationToken issues a registry-wide token and supports no resource-level permissions",
      },
      {
        sid: "PullControllerImage",
        actions: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
        resources: [account.arn("ecr", `repository/${names.controllerRepository}`)],
      },
    ]);
    controller.allow("read-iot-identity", [
      {
        sid: "ReadControllerIdentity",
        actions: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        // Secrets Manager appends six random characters to a secret's ARN.
        resources: [account.arn("secretsmanager", `secret:${names.controllerSecret}-??????`)],
      },
    ]);
    controller.allow("controller-topics", [
      {
        sid: "ConnectAsController",
        actions: ["iot:Connect"],
        resources: [account.arn("iot", `client/${names.controllerThing}`)],
      },
      {
        sid: "PublishCommands",
        actions: ["iot:Publish"],
        resources: [account.arn("iot", `topic/${anyDeviceTopicPattern(names.topicRoot, "commands")}`)],
      },
      {
        sid: "SubscribeResponsesAndErrors",
        actions: ["iot:Subscribe"],
        resources: (["responses", "errors"] as const).map((kind) =>
          account.arn("iot", `topicfilter/${anyDeviceTopicFilter(names.topicRoot, kind)}`),
        ),
      },
      {
        sid: "ReceiveResponsesAndErrors",
        actions: ["iot:Receive"],
        resources: (["responses", "errors"] as const).map((kind) =>
          account.arn("iot", `topic/${anyDeviceTopicPattern(names.topicRoot, kind)}`),
        ),
      },
    ]);
    controller.allow("invoke-project-functions", [
      {
        sid: "InvokeProjectFunctions",
        actions: ["lambda:InvokeFunction"],
        resources: [account.arn("lambda", `function:${names.lambdaFunctionPattern}`)],
      },
    ]);
    controller.allow("write-controller-logs", [
      {
        sid: "WriteControllerLogs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [account.arn("logs", `log-group:${names.controllerLogGroup}:*`)],
      },
    ]);
    // Issue #12, the controller app: its HTTP API token, and the device table it lists devices from
    // (created later by the iot stack, so known here by its name from the naming contract).
    controller.allow("controller-api", [
      {
        sid: "ReadApiToken",
        actions: ["secretsmanager:GetSecretValue"],
        resources: [account.arn("secretsmanager", `secret:${names.controllerApiTokenSecret}-??????`)],
      },
    ]);
    TableReference.fromAttributes(this, "device-table", { tableName: names.deviceTable, tableArn: account.arn("dynamodb", `table/${names.deviceTable}`) }).grant(controller, [
      "dynamodb:GetItem",
      "dynamodb:Scan",
    ]);
    // Session Manager: an audited shell and patching with no inbound port.
    controller.attachPolicy("ssm-core", account.managedPolicyArn("AmazonSSMManagedInstanceCore"));
    const instanceProfile = new IamInstanceProfile(this, "controller-instance-profile", {
      name: names.role("controller"),
      role: controller.roleName,
    });

    // --- GitHub Actions: plan on pull requests, deploy from the deploy branch --------------------
    const github = new GithubOidc(this, "github-oidc", {
      account,
      repository: config.github.repository,
      existingProviderArn: config.github.existingOidcProviderArn,
    });
    // Split into several managed policies if they outgrow IAM's 6,144-character limit.
    const terraformRead = sharedPolicies(this, "terraform-read-policy", {
      policyName: `${names.prefix}-terraform-read`,
      description: "Read what Terraform manages for this project and lock its state (plan)",
      statements: terraformPlanStatements(names, account, config),
    });
    const terraformWrite = sharedPolicies(this, "terraform-write-policy", {
      policyName: `${names.prefix}-terraform-write`,
      description: "Change what Terraform manages for this project (apply)",
      statements: terraformApplyStatements(names, account, config),
    });

    // Pull requests plan (plan.yml); the nightly drift check plans from the deploy branch (drift.yml).
    const plan = github.role("github-plan-role", {
      roleName: names.role("github-plan"),
      description: "GitHub Actions: terraform plan on pull requests and the nightly drift check (read-only)",
      who: [{ pullRequest: true }, { branch: config.github.deployBranch }],
    });
    terraformRead.forEach((policy, index) => plan.attachPolicy(`terraform-read${index ? `-${index + 1}` : ""}`, policy.policyArn));

    const deployRoleName = names.role("github-deploy");
    const deploy = github.role("github-deploy-role", {
      roleName: deployRoleName,
      description: `GitHub Actions: apply, push the controller image and redeploy it (${config.github.deployBranch} only)`,
      who: { branch: config.github.deployBranch },
    });
    [...terraformRead, ...terraformWrite].forEach((policy) => deploy.attachPolicy(policy.node.id.replace(/-policy/, ""), policy.policyArn));
    deploy.allow("continuous-delivery", [
      {
        sid: "RegistryLogin",
        actions: ["ecr:GetAuthorizationToken"],
        resources: ["*"],
        unscopedBecause: "ecr:GetAuthorizationToken issues a registry-wide token and supports no resource-level permissions",
      },
      {
        sid: "PushControllerImage",
        actions: [
          "ecr:BatchCheckLayerAvailability",
          "ecr:BatchGetImage",
          "ecr:CompleteLayerUpload",
          "ecr:GetDownloadUrlForLayer",
          "ecr:InitiateLayerUpload",
          "ecr:PutImage",
          "ecr:UploadLayerPart",
        ],
        resources: [account.arn("ecr", `repository/${names.controllerRepository}`)],
      },
      {
        sid: "SshTunnelThroughEndpoint",
        actions: ["ec2-instance-connect:OpenTunnel"],
        resources: [account.arn("ec2", "instance-connect-endpoint/*")],
        conditions: { NumericEquals: { "ec2-instance-connect:remotePort": "22" } },
      },
      {
        sid: "SshKeyToProjectInstances",
        actions: ["ec2-instance-connect:SendSSHPublicKey"],
        resources: [account.arn("ec2", "instance/*")],
        conditions: {
          StringEquals: {
            "ec2:osuser": "ec2-user",
            "aws:ResourceTag/Project": config.project,
            "aws:ResourceTag/Environment": config.name,
          },
        },
      },
    ]);
    deploy.allow("guardrails", [
      {
        sid: "KeepImages",
        effect: "Deny",
        actions: ["ecr:DeleteRepository", "ecr:BatchDeleteImage"],
        resources: [account.arn("ecr", `repository/${names.controllerRepository}`)],
      },
      {
        // CI cannot widen its own permissions: changes to the GitHub roles need an administrator.
        sid: "NoSelfEscalation",
        effect: "Deny",
        actions: ["iam:Put*", "iam:Attach*", "iam:Detach*", "iam:Update*", "iam:Delete*", "iam:Create*", "iam:Tag*", "iam:Untag*"],
        resources: [
          account.globalArn("iam", `role/${names.role("github-plan")}`),
          account.globalArn("iam", `role/${deployRoleName}`),
          account.globalArn("iam", `role/${names.githubAgentReleaseRole}`),
          account.globalArn("iam", `policy/${names.prefix}-terraform-*`),
          account.globalArn("iam", "oidc-provider/token.actions.githubusercontent.com"),
        ],
      },
    ]);

    // --- GitHub Actions: release the Pi agent on an agent-v* tag (agent-release.yml) ------------
    // Upload the tarball and create an IoT job, nothing else: no Terraform, no state. IAM policy
    // scoping from the Service Authorization Reference (AWS IoT): CreateJob takes the job and
    // every target (thing, thinggroup) as resources; DescribeJob the job.
    const releaseBucket = names.agentReleaseBucket(account.accountId);
    const agentRelease = github.role("github-agent-release-role", {
      roleName: names.githubAgentReleaseRole,
      description: "GitHub Actions: upload a Pi agent release and create its IoT job (agent-v* tags only)",
      who: { tag: "agent-v*" },
    });
    const releaseJobs = account.arn("iot", `job/${agentReleaseJobPrefix(names.prefix)}*`);
    const releaseTargets = [account.arn("iot", `thinggroup/${names.deviceThingGroup}`), account.arn("iot", `thing/${names.deviceThingNamePattern}`)];
    agentRelease.allow("release-agent", [
      {
        sid: "UploadReleases",
        actions: ["s3:PutObject", "s3:GetObject"],
        resources: [account.s3Arn(releaseBucket, `${AGENT_RELEASE_KEY_PREFIX}*`)],
        // Bucket names are global: never upload to a same-named bucket in another account.
        conditions: { StringEquals: { "s3:ResourceAccount": account.accountId } },
      },
      {
        // Without s3:ListBucket, HeadObject of a release not yet uploaded answers 403 instead of 404
        // (S3 API reference, HeadObject, "Permissions"); the bucket holds only releases.
        sid: "FindReleases",
        actions: ["s3:ListBucket"],
        resources: [account.s3Arn(releaseBucket)],
        conditions: { StringEquals: { "s3:ResourceAccount": account.accountId } },
      },
      {
        // The script checks every target before it uploads anything (a clear error for a typo).
        sid: "CheckTargets",
        actions: ["iot:DescribeThingGroup", "iot:DescribeThing"],
        resources: releaseTargets,
      },
      { sid: "CreateReleaseJobs", actions: ["iot:CreateJob"], resources: [releaseJobs, ...releaseTargets] },
      { sid: "DescribeReleaseJobs", actions: ["iot:DescribeJob"], resources: [releaseJobs] },
      {
        sid: "PassPresignRole",
        actions: ["iam:PassRole"],
        resources: [account.globalArn("iam", `role/${names.agentReleasePresignRole}`)],
        conditions: { StringEquals: { "iam:PassedToService": "iot.amazonaws.com" } },
      },
    ]);

    // --- Roles IoT Core assumes to run topic rule actions --------------------------------------
    const iotTrust = {
      principal: { Service: "iot.amazonaws.com" },
      conditions: {
        StringEquals: { "aws:SourceAccount": account.accountId },
        ArnLike: { "aws:SourceArn": account.arn("iot", `rule/${names.iotRulePattern}`) },
      },
    };
    // What each role may do follows from the rules' actions (contracts/topic-rules.ts).
    const ruleStatements = topicRuleRoleStatements((options.topicRules ?? deviceTopicRules)(names), names, (service, resource) => account.arn(service, resource));
    const iotAlerts = new ProjectRole(this, "iot-alerts-role", {
      roleName: names.role("iot-alerts"),
      description: "IoT topic rules: publish device errors to the alerts topic",
      trust: iotTrust,
    });
    iotAlerts.allow("publish-alerts", ruleStatements["iot-alerts"]);
    const iotRules = new ProjectRole(this, "iot-rules-role", {
      roleName: names.role("iot-rules"),
      description: "IoT topic rules: log device responses and record them in the device table",
      trust: iotTrust,
    });
    iotRules.allow("log-and-record-responses", ruleStatements["iot-rules"]);

    this.exportOutputs({
      controller_instance_profile_name: instanceProfile.name,
      controller_instance_role_arn: controller.roleArn,
      github_plan_role_arn: plan.roleArn,
      github_deploy_role_arn: deploy.roleArn,
      github_agent_release_role_arn: agentRelease.roleArn,
      iot_alerts_role_arn: iotAlerts.roleArn,
      iot_rules_role_arn: iotRules.roleArn,
    });
  }
}
