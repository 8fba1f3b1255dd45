import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { randomBytes, randomUUID } from "node:crypto";
import { appendFileSync, mkdirSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { EnvironmentConfig } from "../config";
import type { IotPolicyDocument } from "../contracts/iot-policies";
import type { StackId } from "../contracts/stack-outputs";
import { SERIAL_API_ROUTES, SERIAL_API_STAGE } from "../stacks/api";
import { createLocalApiGateway } from "./api-gateway";
import { snsMessageStructureError, startAwsStandIn, type AwsStandIn } from "./aws-services";
import { openCertificateAuthority, type CertificateAuthority } from "./certificate-authority";
import { writeFileAtomically } from "./files";
import { localCaPath, localClaimName, localIdentityFiles, type ClaimCredentials } from "./state-files";
import { FleetProvisioning, type ProvisioningTemplate } from "./fleet-provisioning";
import { startIotBroker, type IotBroker } from "./iot-broker";
import { IotRegistry } from "./iot-registry";
import { createRulesEngine, type RuleAction, type TopicRule } from "./rules-engine";
import { resolveReferences, synthesizeStacks, type LocalAccount, type StackJson } from "./synthesized";
import { createTablesFromStack } from "./tables";

export interface LocalPlatformOptions {
  readonly config: EnvironmentConfig;
  /** Keys, certificates and logs (ignored by git). The CA is created here once and reused. */
  readonly stateDirectory: string;
  /** @default 0 - any free port */
  readonly mqttPort?: number;
  /** @default 0 - any free port */
  readonly apiPort?: number;
  /** @default 3600000 (one hour, as IoT Core) */
  readonly ownershipTokenLifetimeMs?: number;
}

export type { ClaimCredentials };

export interface LocalPlatform {
  readonly mqtt: { readonly host: string; readonly port: number; readonly caPath: string };
  readonly api: { readonly url: string; readonly key: string };
  readonly claims: readonly ClaimCredentials[];
  readonly controller: { readonly thingName: string; readonly certificatePath: string; readonly privateKeyPath: string };
  readonly provisioningTemplate: string;
  /** JSON lines of every alert (what SNS would send). */
  readonly alertsPath: string;
  readonly registry: IotRegistry;
  readonly services: AwsStandIn;
  stop(): Promise<void>;
}

/**
 * The platform on one machine: AWS IoT Core (MQTT over mutual TLS with policy enforcement, fleet
 * provisioning, lifecycle events, topic rules), DynamoDB (dynalite), SNS, SQS and the serial API,
 * built from the synthesized stacks and running the real function code.
 */
export async function startLocalPlatform(options: LocalPlatformOptions): Promise<LocalPlatform> {
  const { config, stateDirectory } = options;
  mkdirSync(stateDirectory, { recursive: true, mode: 0o700 });
  const alertsPath = join(stateDirectory, "alerts.jsonl");
  const logsDirectory = join(stateDirectory, "logs");
  mkdirSync(logsDirectory, { recursive: true });
  const stacks = synthesizeStacks(config);

  // AWS services the functions call; SQS messages are delivered to their consumer after their delay.
  const consumers = new Map<string, (body: string, messageId: string) => void>();
  const timers = new Set<NodeJS.Timeout>();
  const registry = new IotRegistry("000000000000", config.region);
  const services = await startAwsStandIn({
    iot: registry,
    onPublish: (message) => recordAlert(alertsPath, message.message),
    onSendMessage: (message) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        consumers.get(message.queueUrl)?.(message.body, message.messageId);
      }, (message.delaySeconds ?? 0) * 1000);
      timers.add(timer);
    },
  });
  const account: LocalAccount = { accountId: registry.accountId, region: registry.region, sqsEndpoint: services.env.AWS_ENDPOINT_URL_SQS! };
  const resolve = (text: string, stackId: StackId) => resolveReferences(text, stackId, stacks, account);
  for (const stackId of ["iot", "iot-fleet"] as const) await createTablesFromStack(stacks[stackId], services.env.AWS_ENDPOINT_URL_DYNAMODB!);

  // IoT registry, CA, policies, and the identities Terraform would create.
  const authority = await openCertificateAuthority(join(stateDirectory, "ca"));
  for (const stackId of ["iot", "iot-fleet"] as const) {
    for (const policy of Object.values(stacks[stackId].resource?.aws_iot_policy ?? {})) {
      registry.policies.set(policy.name, JSON.parse(resolve(policy.policy, stackId)) as IotPolicyDocument);
    }
  }
  const names = { controllerThing: `${config.project}-${config.name}-controller`, prefix: `${config.project}-${config.name}` };
  const controller = await createIdentity(authority, registry, stateDirectory, "controller", `${names.prefix}-controller`);
  registry.things.set(names.controllerThing, { thingName: names.controllerThing, groups: [], attributes: {}, principals: new Set([controller.certificateId]) });
  const claims: (ClaimCredentials & { certificateId: string; active: boolean })[] = [];
  for (const batch of config.fleet.batches) {
    const claim = await createIdentity(authority, registry, stateDirectory, localClaimName(batch.name), `${names.prefix}-claim`);
    registry.certificates.get(claim.certificateId)!.status = batch.active ? "ACTIVE" : "INACTIVE";
    claims.push({ batch: batch.name, certificatePath: claim.certificatePath, privateKeyPath: claim.privateKeyPath, certificateId: claim.certificateId, active: batch.active });
  }

  // The functions, loaded in this process with the environment the stacks give them.
  Object.assign(process.env, services.env, functionEnvironment(stacks, resolve), {
    ACTIVE_CLAIM_CERTIFICATES: JSON.stringify(claims.filter((claim) => claim.active).map((claim) => ({ batch: claim.batch, certificateId: claim.certificateId }))),
  });
  const handlers = {
    "device-presence": (await import("../functions/device-presence")).handler as (event: unknown) => Promise<unknown>,
    "provisioning-hook": (await import("../functions/provisioning-hook")).handler as (event: unknown) => Promise<{ allowProvisioning: boolean }>,
    "serial-api": (await import("../functions/serial-api")).handler,
  };
  consumers.set(resolve(presenceQueueUrl(stacks), "iot"), (body, messageId) => {
    void handlers["device-presence"]({ Records: [{ messageId, body, eventSource: "aws:sqs", receiptHandle: messageId, attributes: {}, messageAttributes: {}, md5OfBody: "", eventSourceARN: "", awsRegion: account.region }] });
  });

  // Fleet provisioning with the synthesized template and the real hook.
  const template = Object.values(stacks["iot-fleet"].resource?.aws_iot_provisioning_template ?? {})[0];
  const provisioningTemplate: ProvisioningTemplate = {
    templateName: template.name,
    templateArn: `arn:aws:iot:${account.region}:${account.accountId}:provisioningtemplate/${template.name}`,
    body: JSON.parse(resolve(template.template_body, "iot-fleet")),
    hook: handlers["provisioning-hook"],
  };
  const provisioning = new FleetProvisioning(registry, authority, provisioningTemplate, options.ownershipTokenLifetimeMs ?? 3_600_000);
  const broker: IotBroker = await startIotBroker({ registry, authority, provisioning, port: options.mqttPort });

  // Topic rules, with the same handler code as the Lambdas.
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: services.env.AWS_ENDPOINT_URL_DYNAMODB, region: account.region }));
  const rules = createRulesEngine(topicRules(stacks, resolve), {
    publishAlert: async (_topicArn, message, messageStructure) => {
      // SNS refuses what it would refuse on AWS, so the action fails into the error action.
      const refusal = snsMessageStructureError(message, messageStructure);
      if (refusal) throw new Error(refusal);
      recordAlert(alertsPath, message);
    },
    invokeFunction: async (functionName, event) => {
      const handler = handlers[functionName.slice(names.prefix.length + 1) as keyof typeof handlers] as ((event: unknown) => Promise<unknown>) | undefined;
      if (!handler) throw new Error(`no local handler for ${functionName}`);
      await handler(event);
    },
    writeLog: async (logGroupName, message) => appendFileSync(join(logsDirectory, `${logGroupName.replace(/\//g, "_")}.jsonl`), `${JSON.stringify(message)}\n`),
    updateItem: async (tableName, key, attribute, value) => {
      await documents.send(new UpdateCommand({ TableName: tableName, Key: key, UpdateExpression: "SET #attribute = :value", ExpressionAttributeNames: { "#attribute": attribute }, ExpressionAttributeValues: { ":value": value } }));
    },
    reportError: (rule, error) => appendFileSync(join(logsDirectory, "rule-errors.jsonl"), `${JSON.stringify({ rule, error: error.message })}\n`),
  });
  broker.onMessage(({ topic, payload }) => void rules(topic, payload));

  // The serial API behind a local API Gateway, with its API key.
  const apiKey = randomBytes(20).toString("hex");
  const gateway: Server = createLocalApiGateway({
    stage: SERIAL_API_STAGE,
    apiKey,
    handler: handlers["serial-api"],
    routes: SERIAL_API_ROUTES.map((route) => ({ method: route.method, resource: route.path, bodySchema: route.bodySchema?.schema })),
  });
  await new Promise<void>((done) => gateway.listen(options.apiPort ?? 0, "127.0.0.1", () => done()));

  return {
    mqtt: { host: broker.host, port: broker.port, caPath: localCaPath(stateDirectory) },
    api: { url: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/${SERIAL_API_STAGE}`, key: apiKey },
    claims: claims.map(({ batch, certificatePath, privateKeyPath }) => ({ batch, certificatePath, privateKeyPath })),
    controller: { thingName: names.controllerThing, certificatePath: controller.certificatePath, privateKeyPath: controller.privateKeyPath },
    provisioningTemplate: template.name,
    alertsPath,
    registry,
    services,
    stop: async () => {
      for (const timer of timers) clearTimeout(timer);
      await broker.close();
      await new Promise<void>((done) => gateway.close(() => done()));
      documents.destroy();
      await services.close();
    },
  };
}

async function createIdentity(authority: CertificateAuthority, registry: IotRegistry, directory: string, name: string, policyName: string) {
  const issued = await authority.issue();
  const { certificatePath, privateKeyPath } = localIdentityFiles(directory, name);
  writeFileAtomically(certificatePath, issued.certificatePem, 0o644);
  writeFileAtomically(privateKeyPath, issued.privateKeyPem!, 0o600);
  registry.addCertificate(issued.certificateId, issued.certificatePem, "ACTIVE");
  registry.attachPolicy(policyName, issued.certificateId);
  return { certificateId: issued.certificateId, certificatePath, privateKeyPath };
}

function recordAlert(path: string, message: string): void {
  const line = JSON.stringify({ at: new Date().toISOString(), id: randomUUID(), message });
  appendFileSync(path, `${line}\n`);
  console.log(`[alert] ${message}`);
}

/** Every function's environment from the synthesized stacks, resolved; one value per name. */
function functionEnvironment(stacks: Record<StackId, StackJson>, resolve: (text: string, stackId: StackId) => string): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const stackId of ["iot", "iot-fleet", "api"] as const) {
    for (const fn of Object.values(stacks[stackId].resource?.aws_lambda_function ?? {})) {
      for (const [name, value] of Object.entries<string>(fn.environment?.variables ?? {})) {
        if (value.startsWith("${jsonencode(")) continue; // computed by the platform itself
        const resolved = resolve(value, stackId);
        if (environment[name] !== undefined && environment[name] !== resolved) throw new Error(`functions disagree on ${name}`);
        environment[name] = resolved;
      }
    }
  }
  return environment;
}

function presenceQueueUrl(stacks: Record<StackId, StackJson>): string {
  const presence = Object.values(stacks.iot.resource?.aws_lambda_function ?? {}).find((fn) => fn.environment?.variables?.PRESENCE_CHECK_QUEUE_URL);
  return presence.environment.variables.PRESENCE_CHECK_QUEUE_URL;
}

function topicRules(stacks: Record<StackId, StackJson>, resolve: (text: string, stackId: StackId) => string): TopicRule[] {
  return Object.values(stacks.iot.resource?.aws_iot_topic_rule ?? {}).map((rule) => {
    const actions: RuleAction[] = [
      ...(rule.sns ?? []).map((sns: any) => ({ kind: "sns" as const, topicArn: resolve(sns.target_arn, "iot"), messageFormat: sns.message_format })),
      ...(rule.lambda ?? []).map((lambda: any) => ({ kind: "lambda" as const, functionName: resolve(lambda.function_arn, "iot").split(":").pop() as string })),
      ...(rule.cloudwatch_logs ?? []).map((logs: any) => ({ kind: "cloudwatch_logs" as const, logGroupName: resolve(logs.log_group_name, "iot") })),
      ...(rule.dynamodb ?? []).map((table: any) => ({
        kind: "dynamodb" as const,
        tableName: resolve(table.table_name, "iot"),
        hashKeyField: table.hash_key_field,
        hashKeyValue: resolve(table.hash_key_value, "iot"),
        payloadField: table.payload_field,
      })),
    ];
    return { name: rule.name, sql: resolve(rule.sql, "iot"), actions };
  });
}
