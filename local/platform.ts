import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { IoTClient } from "@aws-sdk/client-iot";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { Testing } from "cdktf";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { randomBytes, randomUUID } from "node:crypto";
import { appendFileSync, mkdirSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { LOCAL_ACCOUNT_ID, type EnvironmentConfig } from "../config";
import type { IotPolicyDescription } from "../contracts/iot-policies";
import type { ProjectNames } from "../contracts/names";
import type { TopicRuleSpec } from "../contracts/topic-rules";
import { SERIAL_API_ROUTES } from "../contracts/serial-api";
import { SERIAL_API_STAGE } from "../stacks/api";
import { buildStacks } from "../stacks/app";
import type { IotFleetStack } from "../stacks/iot-fleet";
import { createDevicePresenceHandler } from "../functions/device-presence/handler";
import { createProvisioningHookHandler } from "../functions/provisioning-hook/handler";
import { createSerialApiHandler } from "../functions/serial-api/handler";
import { createLocalApiGateway, type LocalApiGatewayOptions } from "./api-gateway";
import { snsMessageStructureError, startAwsStandIn, type AwsStandIn } from "./aws-services";
import { openCertificateAuthority, type CertificateAuthority } from "./certificate-authority";
import { writeFileAtomically } from "../pi-agent/files";
import { localCaPath, localClaimName, localIdentityFiles, type ClaimCredentials } from "./state-files";
import { FleetProvisioning, type ProvisioningTemplate } from "./fleet-provisioning";
import { startIotBroker, type IotBroker } from "./iot-broker";
import type { LocalIotJobs } from "./iot-jobs";
import { startJobsAndReleases } from "./iot-jobs-releases";
import { IotRegistry } from "./iot-registry";
import type { ReleaseDownloads } from "./release-downloads";
import { createRulesEngine } from "./rules-engine";
import { createTables } from "./tables";

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
  /** How long an IoT Jobs "minute" lasts (rollout rate, timeouts); tests shorten it. @default 60000 */
  readonly jobsMinuteMs?: number;
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
  /** IoT Jobs: control plane (createJob, describeJob, listJobExecutions, cancelJob) behind the device MQTT API. */
  readonly jobs: LocalIotJobs;
  /** Release objects served over HTTPS behind presigned URLs (the release bucket). */
  readonly releases: ReleaseDownloads;
  stop(): Promise<void>;
}

/**
 * The platform on one machine: AWS IoT Core (MQTT over mutual TLS with policy enforcement, fleet
 * provisioning, lifecycle events, topic rules), DynamoDB (dynalite), SNS, SQS and the serial API,
 * built from the stacks and running the real function code. Each step below is one function.
 */
export async function startLocalPlatform(options: LocalPlatformOptions): Promise<LocalPlatform> {
  const { config } = options;
  const directories = prepareStateDirectory(options.stateDirectory);
  const stacks = buildStacks(Testing.app(), config);
  const names = stacks.iot.names;
  const delivery = sqsDelivery();
  const registry = new IotRegistry(config.accountId ?? LOCAL_ACCOUNT_ID, config.region);
  const services = await startAwsStandIn({
    account: registry,
    iot: registry,
    onPublish: (message) => recordAlert(directories.alertsPath, message.message),
    onSendMessage: (message) => delivery.deliver(message),
  });
  const account: LocalAccount = { accountId: registry.accountId, region: registry.region, sqsEndpoint: services.env.AWS_ENDPOINT_URL_SQS! };

  await createTables([...stacks.iot.tables, ...stacks["iot-fleet"].tables], services.env.AWS_ENDPOINT_URL_DYNAMODB!, account.region);
  const authority = await openCertificateAuthority(join(options.stateDirectory, "ca"));
  const policies = { controller: stacks.iot.policies.controller, claim: stacks["iot-fleet"].claimPolicy };
  loadIotPolicies([stacks.iot.policies.device, policies.controller, policies.claim], registry);
  const { controller, claims } = await createIdentities(config, names, policies, authority, registry, options.stateDirectory);
  const handlers = createHandlers(config, names, stacks.iot.presenceCheckQueueName, account, services, claims);
  delivery.consumers.set(localQueueUrl(account, stacks.iot.presenceCheckQueueName), (body, messageId) => {
    void handlers.devicePresence({ Records: [{ messageId, body, eventSource: "aws:sqs", receiptHandle: messageId, attributes: {}, messageAttributes: {}, md5OfBody: "", eventSourceARN: "", awsRegion: account.region }] });
  });
  const broker = await startFleetProvisioning(stacks["iot-fleet"].provisioningTemplate, account, registry, authority, handlers.provisioningHook, options);
  const documents = startRulesEngine(stacks.iot.topicRules.rules, broker, services, directories, {
    [names.lambdaFunction("device-presence")]: handlers.devicePresence,
  });
  const gateway = await startSerialApi(handlers.serialApi, account.accountId, options.apiPort);
  const overTheAir = await startJobsAndReleases(broker, registry, authority, options);

  return {
    mqtt: { host: broker.host, port: broker.port, caPath: localCaPath(options.stateDirectory) },
    api: { url: `http://127.0.0.1:${(gateway.server.address() as AddressInfo).port}/${SERIAL_API_STAGE}`, key: gateway.apiKey },
    claims: claims.map(({ batch, certificatePath, privateKeyPath }) => ({ batch, certificatePath, privateKeyPath })),
    controller: { thingName: names.controllerThing, certificatePath: controller.certificatePath, privateKeyPath: controller.privateKeyPath },
    provisioningTemplate: stacks["iot-fleet"].provisioningTemplate.templateName,
    alertsPath: directories.alertsPath,
    registry,
    services,
    jobs: overTheAir.jobs,
    releases: overTheAir.releases,
    stop: async () => {
      delivery.stop();
      await overTheAir.stop();
      await broker.close();
      await new Promise<void>((done) => gateway.server.close(() => done()));
      documents.destroy();
      await services.close();
    },
  };
}

interface PlatformDirectories {
  /** JSON lines of every alert. */
  readonly alertsPath: string;
  /** What CloudWatch Logs would hold (rule logs, rule errors). */
  readonly logsDirectory: string;
}

function prepareStateDirectory(stateDirectory: string): PlatformDirectories {
  mkdirSync(stateDirectory, { recursive: true, mode: 0o700 });
  const logsDirectory = join(stateDirectory, "logs");
  mkdirSync(logsDirectory, { recursive: true });
  return { alertsPath: join(stateDirectory, "alerts.jsonl"), logsDirectory };
}

/** SQS messages delivered to their queue's consumer after their delay, as an event source mapping would. */
function sqsDelivery() {
  const consumers = new Map<string, (body: string, messageId: string) => void>();
  const timers = new Set<NodeJS.Timeout>();
  return {
    consumers,
    deliver(message: { queueUrl: string; body: string; delaySeconds?: number; messageId: string }): void {
      const timer = setTimeout(() => {
        timers.delete(timer);
        consumers.get(message.queueUrl)?.(message.body, message.messageId);
      }, (message.delaySeconds ?? 0) * 1000);
      timers.add(timer);
    },
    stop(): void {
      for (const timer of timers) clearTimeout(timer);
    },
  };
}

/** The stacks' IoT policies, rendered for the local account. */
function loadIotPolicies(policies: readonly IotPolicyDescription[], registry: IotRegistry): void {
  const arnPrefix = `arn:aws:iot:${registry.region}:${registry.accountId}:`;
  for (const policy of policies) registry.policies.set(policy.policyName, policy.document(arnPrefix));
}

type LocalClaim = ClaimCredentials & { certificateId: string; active: boolean };

/** The controller's identity and one claim certificate per batch, as Terraform would create them. */
async function createIdentities(
  config: EnvironmentConfig,
  names: ProjectNames,
  policies: { readonly controller: IotPolicyDescription; readonly claim: IotPolicyDescription },
  authority: CertificateAuthority,
  registry: IotRegistry,
  stateDirectory: string,
) {
  const controller = await createIdentity(authority, registry, stateDirectory, "controller", policies.controller.policyName);
  registry.things.set(names.controllerThing, { thingName: names.controllerThing, groups: [], attributes: {}, principals: new Set([controller.certificateId]) });
  const claims: LocalClaim[] = [];
  for (const batch of config.fleet.batches) {
    const claim = await createIdentity(authority, registry, stateDirectory, localClaimName(batch.name), policies.claim.policyName);
    registry.certificates.get(claim.certificateId)!.status = batch.active ? "ACTIVE" : "INACTIVE";
    claims.push({ batch: batch.name, certificatePath: claim.certificatePath, privateKeyPath: claim.privateKeyPath, certificateId: claim.certificateId, active: batch.active });
  }
  return { controller, claims };
}

/**
 * The functions' handlers in this process: each factory gets the settings its stack turns into the
 * Lambda's environment (contracts/function-environments.ts), with this platform's names and ARNs,
 * and SDK clients pointed at the stand-ins.
 */
function createHandlers(config: EnvironmentConfig, names: ProjectNames, presenceCheckQueueName: string, account: LocalAccount, services: AwsStandIn, claims: readonly LocalClaim[]) {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient(services.clientConfig("dynamodb")));
  const iot = new IoTClient(services.clientConfig("iot"));
  const devicePresence = createDevicePresenceHandler(
    {
      deviceTable: names.deviceTable,
      alertsTopicArn: `arn:aws:sns:${account.region}:${account.accountId}:${names.alertsTopic}`,
      presenceCheckQueueUrl: localQueueUrl(account, presenceCheckQueueName),
      offlineGraceSeconds: config.alerts.offlineGraceSeconds,
    },
    { documents, sqs: new SQSClient(services.clientConfig("sqs")), sns: new SNSClient(services.clientConfig("sns")) },
  );
  return {
    devicePresence,
    provisioningHook: createProvisioningHookHandler(
      {
        serialTable: names.serialTable,
        activeClaimCertificates: new Map(claims.filter((claim) => claim.active).map((claim) => [claim.certificateId, claim.batch])),
        thingNamePrefix: names.prefix,
      },
      { documents, iot },
    ),
    serialApi: createSerialApiHandler({ serialTable: names.serialTable }, { documents, iot }),
  };
}

/** Values the local platform gives what Terraform would only know at apply. */
interface LocalAccount {
  readonly accountId: string;
  readonly region: string;
  /** Base URL of the local SQS, which queue URLs point at. */
  readonly sqsEndpoint: string;
}

/** A queue's URL on the local SQS. */
function localQueueUrl(account: LocalAccount, queueName: string): string {
  return `${account.sqsEndpoint}/${account.accountId}/${queueName}`;
}

/** Fleet provisioning with the iot-fleet stack's template and the real hook, behind the MQTT broker. */
async function startFleetProvisioning(
  template: IotFleetStack["provisioningTemplate"],
  account: LocalAccount,
  registry: IotRegistry,
  authority: CertificateAuthority,
  hook: ProvisioningTemplate["hook"],
  options: LocalPlatformOptions,
): Promise<IotBroker> {
  const provisioningTemplate: ProvisioningTemplate = {
    templateName: template.templateName,
    templateArn: `arn:aws:iot:${account.region}:${account.accountId}:provisioningtemplate/${template.templateName}`,
    body: template.body,
    hook,
  };
  const provisioning = new FleetProvisioning(registry, authority, provisioningTemplate, options.ownershipTokenLifetimeMs ?? 3_600_000);
  return startIotBroker({ registry, authority, provisioning, port: options.mqttPort });
}

/**
 * The `iot` stack's topic rules, from the specs it deploys, on every message the broker routes.
 * Returns the DynamoDB client the dynamodb actions write with (destroyed on stop).
 */
function startRulesEngine(
  rules: readonly TopicRuleSpec[],
  broker: IotBroker,
  services: AwsStandIn,
  directories: PlatformDirectories,
  functions: Readonly<Record<string, (event: unknown) => Promise<unknown>>>,
): DynamoDBDocumentClient {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient(services.clientConfig("dynamodb")));
  const engine = createRulesEngine(rules, {
    publishAlert: async (_topicName, message, messageStructure) => {
      // SNS refuses what it would refuse on AWS, so the action fails into the error action.
      const refusal = snsMessageStructureError(message, messageStructure);
      if (refusal) throw new Error(refusal);
      recordAlert(directories.alertsPath, message);
    },
    invokeFunction: async (functionName, event) => {
      const handler = functions[functionName];
      if (!handler) throw new Error(`no local handler for ${functionName}`);
      await handler(event);
    },
    writeLog: async (logGroupName, message) => appendFileSync(join(directories.logsDirectory, `${logGroupName.replace(/\//g, "_")}.jsonl`), `${JSON.stringify(message)}\n`),
    updateItem: async (tableName, key, attribute, value) => {
      await documents.send(new UpdateCommand({ TableName: tableName, Key: key, UpdateExpression: "SET #attribute = :value", ExpressionAttributeNames: { "#attribute": attribute }, ExpressionAttributeValues: { ":value": value } }));
    },
    reportError: (rule, error) => appendFileSync(join(directories.logsDirectory, "rule-errors.jsonl"), `${JSON.stringify({ rule, error: error.message })}\n`),
  });
  broker.onMessage(({ topic, payload }) => void engine(topic, payload));
  return documents;
}

/** The serial API behind a local API Gateway, with its API key. */
async function startSerialApi(handler: LocalApiGatewayOptions["handler"], accountId: string, port = 0): Promise<{ server: Server; apiKey: string }> {
  const apiKey = randomBytes(20).toString("hex");
  const server = createLocalApiGateway({
    stage: SERIAL_API_STAGE,
    apiKey,
    accountId,
    handler,
    routes: SERIAL_API_ROUTES,
  });
  await new Promise<void>((done) => server.listen(port, "127.0.0.1", () => done()));
  return { server, apiKey };
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
