import { controllerPolicyDocument, devicePolicyDocument } from "../../contracts/iot-policies";
import { onlyResource, resources, statements, synthAll, testConfig, type StackJson } from "../helpers/synth";

const iot = synthAll().iot;
const ACCOUNT = /\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}/;

function byName(stack: StackJson, type: string, name: string, attribute = "name"): [string, any] {
  const found = Object.entries(resources(stack, type)).find(([, resource]) => resource[attribute] === name);
  if (!found) throw new Error(`no ${type} with ${attribute} ${name}`);
  return found;
}

/** Inline policies of a role, by the role's name. */
function rolePolicies(stack: StackJson, roleName: string) {
  const [roleId] = byName(stack, "aws_iam_role", roleName);
  return Object.values(resources(stack, "aws_iam_role_policy"))
    .filter((policy) => policy.role === `\${aws_iam_role.${roleId}.id}`)
    .flatMap((policy) => statements(JSON.parse(policy.policy)));
}

/** Terraform's view of an escaped string: `$${` is a literal `${`. */
const unescape = (text: string) => text.replace(/\$\$\{/g, "${");

describe("iot stack", () => {
  describe("IoT policies", () => {
    it("synthesizes the contract's device and controller documents, variables escaped for Terraform", () => {
      const [, device] = byName(iot, "aws_iot_policy", "smarthome-dev-device");
      const [, controller] = byName(iot, "aws_iot_policy", "smarthome-dev-controller");
      expect(device.policy).toContain("client/$${iot:Connection.Thing.ThingName}");
      const arnPrefix = JSON.parse(unescape(device.policy)).Statement[0].Resource[0].replace(/client\/.*$/, "");
      expect(arnPrefix).toMatch(/^arn:\$\{data\.aws_partition\.[\w-]+\.partition\}:iot:eu-west-1:\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}:$/);
      expect(JSON.parse(unescape(device.policy))).toEqual(devicePolicyDocument({ arnPrefix, topicRoot: "smarthome/dev" }));
      expect(JSON.parse(controller.policy)).toEqual(controllerPolicyDocument({ arnPrefix, topicRoot: "smarthome/dev" }, "smarthome-dev-controller"));
    });
  });

  describe("controller identity", () => {
    it("is a thing with an active certificate, the controller policy, and an exclusive attachment", () => {
      expect(onlyResource(iot, "aws_iot_thing")).toMatchObject({ name: "smarthome-dev-controller" });
      expect(onlyResource(iot, "aws_iot_certificate")).toEqual({ active: true });
      const [policyId] = byName(iot, "aws_iot_policy", "smarthome-dev-controller");
      expect(onlyResource(iot, "aws_iot_policy_attachment")).toMatchObject({ policy: `\${aws_iot_policy.${policyId}.name}`, target: expect.stringMatching(/aws_iot_certificate\..+\.arn/) });
      expect(onlyResource(iot, "aws_iot_thing_principal_attachment")).toMatchObject({ thing_principal_type: "EXCLUSIVE_THING" });
    });

    it("stores certificate, key, ATS endpoint and Amazon Root CA 1 as one JSON secret", () => {
      const [endpointId, endpoint] = Object.entries(iot.data?.aws_iot_endpoint ?? {})[0]!;
      expect(endpoint).toEqual({ endpoint_type: "iot:Data-ATS" });
      const [secretId] = byName(iot, "aws_secretsmanager_secret", "smarthome-dev/controller/iot-identity");
      const version = Object.values(resources(iot, "aws_secretsmanager_secret_version")).find((v) => v.secret_id === `\${aws_secretsmanager_secret.${secretId}.id}`);
      expect(version.secret_string).toMatch(/^\$\{jsonencode\(/);
      for (const field of ["certificatePem", "privateKey", "endpoint", "thingName", "caPem"]) expect(version.secret_string).toContain(`"${field}"`);
      expect(version.secret_string).toContain(`data.aws_iot_endpoint.${endpointId}.endpoint_address`);
      expect(version.secret_string).toMatch(/aws_iot_certificate\.[\w-]+\.private_key/);
      expect(version.secret_string).toContain("MIIDQTCCAimgAwIBAgITBmyfz5m");
    });

    it("lets only the instance role (and Terraform's roles, which refresh it) read the secret", () => {
      const policy = JSON.parse(onlyResource(iot, "aws_secretsmanager_secret_policy").policy);
      expect(policy.Statement).toEqual([
        expect.objectContaining({
          Effect: "Deny",
          Principal: "*",
          Action: "secretsmanager:GetSecretValue",
          Condition: {
            ArnNotEquals: {
              "aws:PrincipalArn": [
                "${data.terraform_remote_state.remote-state-roles.outputs.controller_instance_role_arn}",
                "${data.terraform_remote_state.remote-state-roles.outputs.github_plan_role_arn}",
                "${data.terraform_remote_state.remote-state-roles.outputs.github_deploy_role_arn}",
              ],
            },
          },
        }),
      ]);
      expect(onlyResource(iot, "aws_secretsmanager_secret_policy").block_public_policy).toBe(true);
    });

    it("#8.8 a configured break-glass admin role may read it too, so an administrator can refresh the stack", () => {
      const admin = "arn:aws:iam::123456789012:role/BreakGlass";
      const stack = synthAll(testConfig({ breakGlassAdminRoleArn: admin })).iot;
      const policy = JSON.parse(onlyResource(stack, "aws_secretsmanager_secret_policy").policy);
      expect(policy.Statement).toHaveLength(1);
      expect(policy.Statement[0].Condition.ArnNotEquals["aws:PrincipalArn"]).toEqual([
        "${data.terraform_remote_state.remote-state-roles.outputs.controller_instance_role_arn}",
        "${data.terraform_remote_state.remote-state-roles.outputs.github_plan_role_arn}",
        "${data.terraform_remote_state.remote-state-roles.outputs.github_deploy_role_arn}",
        admin,
      ]);
    });
  });

  describe("alerts", () => {
    it("CKV_AWS_26: the topic is encrypted; each configured address is subscribed", () => {
      expect(onlyResource(iot, "aws_sns_topic")).toMatchObject({ name: "smarthome-dev-alerts", kms_master_key_id: "alias/aws/sns" });
      expect(Object.values(resources(iot, "aws_sns_topic_subscription"))).toEqual([expect.objectContaining({ protocol: "email", endpoint: "alerts@example.com" })]);
    });

    it("Slack is off by default: no webhook secret, no formatter", () => {
      expect(Object.values(resources(iot, "aws_lambda_function")).map((f) => f.function_name)).not.toContain("smarthome-dev-alert-formatter");
      expect(iot.output?.slack_webhook_secret_name?.value).toBe("");
    });

    it("with Slack on: a webhook secret (no value in config), a formatter subscribed to the topic, reading only that secret", () => {
      const stack = synthAll(testConfig({ alerts: { emails: [], slack: true } })).iot;
      const [secretId, secret] = byName(stack, "aws_secretsmanager_secret", "smarthome-dev/alerts/slack-webhook");
      expect(secret).not.toHaveProperty("secret_string");
      expect(Object.values(resources(stack, "aws_secretsmanager_secret_version"))).toHaveLength(1);
      const [, formatter] = byName(stack, "aws_lambda_function", "smarthome-dev-alert-formatter", "function_name");
      expect(formatter.environment.variables).toEqual({ SLACK_WEBHOOK_SECRET_ID: `\${aws_secretsmanager_secret.${secretId}.name}` });
      expect(Object.values(resources(stack, "aws_sns_topic_subscription"))).toEqual([expect.objectContaining({ protocol: "lambda" })]);
      expect(rolePolicies(stack, "smarthome-dev-alert-formatter").find((s) => s.Sid === "ReadSlackWebhook")?.Resource).toEqual([`\${aws_secretsmanager_secret.${secretId}.arn}`]);
      const permission = Object.values(resources(stack, "aws_lambda_permission")).find((p) => p.principal === "sns.amazonaws.com");
      expect(permission).toMatchObject({ source_arn: expect.stringMatching(/aws_sns_topic\..+\.arn/), source_account: expect.stringMatching(ACCOUNT) });
    });
  });

  describe("topic rules", () => {
    const rules = Object.values(resources(iot, "aws_iot_topic_rule"));
    const rule = (name: string) => rules.find((r) => r.name === name);

    it("have names IoT accepts, are enabled, and each has an error action", () => {
      expect(rules.map((r) => r.name).sort()).toEqual(["smarthome_dev_device_errors_to_alerts", "smarthome_dev_device_responses", "smarthome_dev_presence_events"]);
      for (const r of rules) {
        expect(r.name).toMatch(/^[a-zA-Z0-9_]+$/);
        expect(r.enabled).toBe(true);
        expect(r.error_action.cloudwatch_logs).toMatchObject({ role_arn: "${data.terraform_remote_state.remote-state-roles.outputs.iot_rules_role_arn}" });
      }
    });

    it("errors → the alerts topic, with the thing name added", () => {
      const errors = rule("smarthome_dev_device_errors_to_alerts");
      expect(errors.sql).toBe("SELECT *, topic(4) AS thingName FROM 'smarthome/dev/devices/+/errors'");
      expect(errors.sns).toEqual([
        { target_arn: expect.stringMatching(/aws_sns_topic\..+\.arn/), role_arn: "${data.terraform_remote_state.remote-state-roles.outputs.iot_alerts_role_arn}", message_format: "RAW" },
      ]);
    });

    it("responses → CloudWatch Logs and the device table's lastResponse", () => {
      const responses = rule("smarthome_dev_device_responses");
      expect(responses.sql).toBe("SELECT *, topic(4) AS thingName, timestamp() AS receivedAt FROM 'smarthome/dev/devices/+/responses'");
      expect(responses.cloudwatch_logs).toEqual([expect.objectContaining({ log_group_name: expect.stringMatching(/aws_cloudwatch_log_group\.device-topic-rules_response-logs_/) })]);
      expect(responses.dynamodb).toEqual([
        expect.objectContaining({ hash_key_field: "thingName", hash_key_value: "$${topic(4)}", operation: "UPDATE", payload_field: "lastResponse" }),
      ]);
      expect(onlyResource(iot, "aws_dynamodb_table").name).toBe("smarthome-dev-devices");
    });

    it("lifecycle events of project clients → the presence function, which only this rule in this account may invoke (CKV_AWS_364)", () => {
      const presenceRule = rule("smarthome_dev_presence_events");
      expect(presenceRule.sql).toBe("SELECT * FROM '$aws/events/presence/+/+' WHERE startswith(clientId, 'smarthome-dev-') AND (eventType = 'connected' OR eventType = 'disconnected')");
      expect(presenceRule.lambda).toEqual([{ function_arn: expect.stringMatching(/aws_lambda_function\.offline-detection_device-presence_function_/) }]);
      const [ruleId] = Object.entries(resources(iot, "aws_iot_topic_rule")).find(([, r]) => r.name === "smarthome_dev_presence_events")!;
      const permission = Object.values(resources(iot, "aws_lambda_permission")).find((p) => p.principal === "iot.amazonaws.com");
      expect(permission).toMatchObject({ action: "lambda:InvokeFunction", source_arn: `\${aws_iot_topic_rule.${ruleId}.arn}`, source_account: expect.stringMatching(ACCOUNT) });
    });

    it("#8.16 CKV_AWS_364: every Lambda permission names a source ARN and account", () => {
      const permissions = Object.values(resources(iot, "aws_lambda_permission"));
      expect(permissions.length).toBe(2); // the presence rule and the daily schedule
      for (const permission of permissions) {
        expect(permission.source_arn).toBeTruthy();
        expect(permission.source_account).toMatch(ACCOUNT);
      }
    });
  });

  describe("device table", () => {
    const table = onlyResource(iot, "aws_dynamodb_table");
    it("CKV_AWS_28: point-in-time recovery; deletion protection; encrypted; on demand", () => {
      expect(table).toMatchObject({
        hash_key: "thingName",
        billing_mode: "PAY_PER_REQUEST",
        point_in_time_recovery: { enabled: true },
        deletion_protection_enabled: true,
        server_side_encryption: { enabled: true },
      });
    });
  });

  describe("functions", () => {
    const functions = Object.values(resources(iot, "aws_lambda_function"));

    it.each(functions.map((f) => [f.function_name, f]))("%s: nodejs22.x on arm64, JSON logs into its own group, code from a bundled zip (CKV_AWS_363)", (_name, fn) => {
      expect(fn).toMatchObject({ runtime: "nodejs22.x", architectures: ["arm64"], handler: "index.handler", logging_config: { log_format: "JSON" } });
      expect(fn.source_code_hash).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      expect(fn.filename).toMatch(/^assets\/.+\.zip$/);
      const group = Object.values(resources(iot, "aws_cloudwatch_log_group")).find((g) => g.name === `/aws/lambda/${fn.function_name}`);
      expect(group?.retention_in_days).toBe(30);
    });

    it("device-presence: reads and writes the device table, publishes alerts, queues and consumes its checks; nothing else", () => {
      const policies = rolePolicies(iot, "smarthome-dev-device-presence");
      expect(policies.map((s) => s.Sid).sort()).toEqual(["ConsumeQueue", "KeepFailedEvents", "PublishAlerts", "ReadWriteTable", "SendToQueue", "WriteOwnLogs"]);
      const [, presence] = byName(iot, "aws_lambda_function", "smarthome-dev-device-presence", "function_name");
      expect(Object.keys(presence.environment.variables).sort()).toEqual(["ALERTS_TOPIC_ARN", "DEVICE_TABLE", "OFFLINE_GRACE_SECONDS", "PRESENCE_CHECK_QUEUE_URL"]);
      expect(presence.environment.variables.OFFLINE_GRACE_SECONDS).toBe("300");
    });

    it("CKV_AWS_116: the presence function, invoked asynchronously by IoT, keeps failed events in a dead-letter queue", () => {
      const [, presence] = byName(iot, "aws_lambda_function", "smarthome-dev-device-presence", "function_name");
      const [queueId] = byName(iot, "aws_sqs_queue", "smarthome-dev-presence-events-dead-letters");
      expect(presence.dead_letter_config).toEqual({ target_arn: `\${aws_sqs_queue.${queueId}.arn}` });
    });

    it("#8.13 CKV_AWS_116: the daily check, invoked asynchronously by EventBridge, keeps failed runs in an encrypted dead-letter queue", () => {
      const [, dailyCheck] = byName(iot, "aws_lambda_function", "smarthome-dev-daily-check", "function_name");
      const [queueId, queue] = byName(iot, "aws_sqs_queue", "smarthome-dev-daily-check-dead-letters");
      expect(dailyCheck.dead_letter_config).toEqual({ target_arn: `\${aws_sqs_queue.${queueId}.arn}` });
      expect(queue).toMatchObject({ sqs_managed_sse_enabled: true, message_retention_seconds: 14 * 24 * 3600 });
      expect(rolePolicies(iot, "smarthome-dev-daily-check").find((s) => s.Sid === "KeepFailedEvents")).toMatchObject({
        Action: ["sqs:SendMessage"],
        Resource: [`\${aws_sqs_queue.${queueId}.arn}`],
      });
    });

    it("daily-check: reads the device table, publishes alerts and dead-letters failed runs; nothing else", () => {
      expect(rolePolicies(iot, "smarthome-dev-daily-check").map((s) => s.Sid).sort()).toEqual(["KeepFailedEvents", "PublishAlerts", "ReadTable", "WriteOwnLogs"]);
      const readTable = rolePolicies(iot, "smarthome-dev-daily-check").find((s) => s.Sid === "ReadTable");
      expect(readTable?.Action).not.toContain("dynamodb:PutItem");
    });

    it("the delay queue is encrypted, dead-letters what keeps failing, and reports partial batch failures", () => {
      const queues = Object.values(resources(iot, "aws_sqs_queue"));
      expect(queues.map((q) => q.name).sort()).toEqual([
        "smarthome-dev-daily-check-dead-letters",
        "smarthome-dev-presence-checks",
        "smarthome-dev-presence-checks-dead-letters",
        "smarthome-dev-presence-events-dead-letters",
      ]);
      for (const queue of queues) expect(queue.sqs_managed_sse_enabled).toBe(true);
      const main = queues.find((q) => q.name === "smarthome-dev-presence-checks");
      expect(JSON.parse(main.redrive_policy)).toEqual({ deadLetterTargetArn: expect.stringMatching(/aws_sqs_queue\..+dead-letters.+\.arn/), maxReceiveCount: 5 });
      expect(onlyResource(iot, "aws_lambda_event_source_mapping")).toMatchObject({ function_response_types: ["ReportBatchItemFailures"] });
    });

    it("the daily check runs on the configured schedule", () => {
      expect(onlyResource(iot, "aws_cloudwatch_event_rule")).toMatchObject({ name: "smarthome-dev-daily-check", schedule_expression: "cron(0 7 * * ? *)" });
      expect(onlyResource(iot, "aws_cloudwatch_event_target").arn).toMatch(/aws_lambda_function\.daily-device-check_daily-check_function_/);
      expect(Object.values(resources(iot, "aws_lambda_permission")).find((p) => p.principal === "events.amazonaws.com")?.source_arn).toMatch(/aws_cloudwatch_event_rule/);
    });
  });

  it("exports what the controller, fleet provisioning and operators need", () => {
    expect(Object.keys(iot.output ?? {}).sort()).toEqual([
      "alerts_topic_arn",
      "controller_secret_arn",
      "controller_thing_name",
      "device_policy_name",
      "device_table_name",
      "iot_data_endpoint",
      "slack_webhook_secret_name",
    ]);
  });
});
