import type { BillableInventory } from "./inventory";
import { charge, priceTable, type PriceId } from "./prices";

/** The workload `npm run cost` prices; each is a command-line flag. */
export interface Workload {
  /** Devices connected all month. */
  readonly devices: number;
  /** MQTT messages each device publishes a day (responses to commands and errors). Default 4. */
  readonly messagesPerDevicePerDay: number;
  /** Commands the controller sends a day, across the fleet. Default: 4 per device. */
  readonly commandsPerDay: number;
  /** Agent releases rolled out to the whole fleet a month (npm run release:agent). Default 1. */
  readonly agentReleasesPerMonth: number;
}

/**
 * Assumptions behind the quantities the stacks do not fix. Each is a documented estimate, not a
 * measurement; docs/cost.md lists them.
 */
export const assumptions = {
  /** AWS prices a month as 730 hours. */
  hoursPerMonth: 730,
  daysPerMonth: 730 / 24,
  /** Share of device messages that are errors (error rule → SNS → e-mail), the rest are responses. */
  errorShare: 0.01,
  /** Each device drops and re-opens its connection once a day (two lifecycle events). */
  reconnectsPerDevicePerDay: 1,
  /**
   * Metered MQTT messages per delivered QoS 1 publish: the PUBLISH in, the PUBLISH out, and the
   * receiver's PUBACK, which AWS IoT meters as one 5 KB message on MQTT 3.1.1
   * (https://aws.amazon.com/iot-core/pricing/additional-details/, "MQTT PUBACK (received from device)").
   */
  messagesPerDeliveredQos1Publish: 3,
  /** Metered messages per reconnect: CONNECT and SUBSCRIBE (CONNACK, SUBACK, pings are free). */
  messagesPerReconnect: 2,
  /** Billed duration of one invocation of each Lambda, in milliseconds. */
  invocationMs: 100,
  dailyCheckMs: 2_000,
  /** CloudWatch Logs bytes per Lambda invocation (START/END/REPORT lines and one JSON log line). */
  logBytesPerInvocation: 600,
  /** Bytes the response rule writes to CloudWatch Logs per response. */
  logBytesPerResponse: 500,
  /** Bytes the controller container logs a day. */
  controllerLogBytesPerDay: 1_000_000,
  /** Device table item size: one read request unit reads 4 KB (eventually consistent: half a unit). */
  deviceItemBytes: 1_000,
  /**
   * A Lambda event source mapping long-polls its SQS queue even when idle, and each receive is a
   * billed request (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html describes the
   * polling). AWS does not publish how many pollers an idle mapping keeps: this estimate takes 5
   * pollers with 20-second waits (3 receives a minute each).
   */
  idlePollsPerQueuePerMonth: 5 * 3 * 60 * 730,
  /** The controller reads its identity secret on each start. */
  secretReadsPerMonth: 30,
  /** Controller image: a 0.15 GB base plus 0.05 GB of new layers per kept tag. */
  imageBaseGb: 0.15,
  imageLayerGbPerTag: 0.05,
  /** Terraform state: 9 state files and their versions, and CI runs reading and writing them. */
  stateGb: 0.05,
  ciRunsPerMonth: 60,
  stateReadsPerRun: 9 * 4,
  stateWritesPerRun: 9 * 2,
  /** Onboarding one device: IoT registry operations (CreateThing, AttachThingPrincipal, AddThingToThingGroup). */
  registryOperationsPerOnboarding: 3,
  /** CreateCertificateFromCsr and RegisterThing, each a request and a reply. */
  messagesPerOnboarding: 4,
  /**
   * An agent release tarball: Node.js 22 for linux-arm64 and the agent bundle
   * (pi-agent/build.ts), measured 46.3 MB on 2026-11-28. Each device downloads it once per release.
   */
  agentReleaseTarballGb: 0.0463,
  /** A device's job execution: notify-next, then StartNextPendingJobExecution and UpdateJobExecution, each a request and a reply. */
  messagesPerJobExecution: 5,
  /** The release bucket keeps every release (only overwritten versions expire): a year of them is priced. */
  storedReleaseMonths: 12,
} as const;

export interface CostLine {
  readonly service: string;
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

export interface CostReport {
  readonly priceTableVersion: string;
  readonly priceRegion: string;
  readonly stackRegion: string;
  readonly workload: Workload;
  readonly monthly: readonly CostLine[];
  readonly monthlyTotal: number;
  readonly perDevicePerMonth: number;
  /** One-time: onboarding `devices` devices (serial registration and fleet provisioning). */
  readonly onboarding: readonly CostLine[];
  readonly onboardingTotal: number;
}

const ARM64 = "arm64";

/** Bad workload input gets an error naming the field. */
export function checkWorkload(workload: Workload): Workload {
  for (const [field, value] of Object.entries(workload)) {
    if (!Number.isFinite(value) || value < 0) throw new Error(`${field} must be a number >= 0, got ${value}`);
  }
  if (!Number.isInteger(workload.devices) || workload.devices < 1) throw new Error(`devices must be a whole number >= 1, got ${workload.devices}`);
  return workload;
}

/** The monthly and one-time cost of one environment for a workload. */
export function estimateCost(inventory: BillableInventory, input: Workload): CostReport {
  const workload = checkWorkload(input);
  const a = assumptions;
  const monthly: CostLine[] = [];
  const line = (into: CostLine[], service: string, item: string, price: PriceId, quantity: number) =>
    into.push({ service, item, quantity, unit: priceTable.prices[price].unit, usd: charge(price, quantity) });

  const perMonth = (perDay: number) => perDay * a.daysPerMonth;
  const { devices } = workload;
  const deviceMessages = perMonth(devices * workload.messagesPerDevicePerDay);
  const responses = deviceMessages * (1 - a.errorShare);
  const errors = deviceMessages * a.errorShare;
  const commands = perMonth(workload.commandsPerDay);
  const lifecycleEvents = perMonth(devices * a.reconnectsPerDevicePerDay * 2);
  const disconnects = lifecycleEvents / 2;
  const alertPublishes = errors + perMonth(1); // error alerts and the daily digest

  // --- IoT Core ------------------------------------------------------------------------------
  line(monthly, "IoT Core", "connectivity (devices and the controller, all month)", "iotConnectivityMinutes", (devices + 1) * a.hoursPerMonth * 60);
  // A command is delivered to a device, a device message to the controller: both at QoS 1.
  line(
    monthly, "IoT Core", "messages (commands, device messages, PUBACKs, reconnects)", "iotMessages",
    a.messagesPerDeliveredQos1Publish * (commands + deviceMessages) + a.messagesPerReconnect * disconnects,
  );
  line(monthly, "IoT Core", "registry operations (only at onboarding, below)", "iotRegistryOperations", 0);
  line(monthly, "IoT Core", "rules triggered (responses, errors, lifecycle events)", "iotRulesTriggered", responses + errors + lifecycleEvents);
  line(
    monthly, "IoT Core", "rule actions executed", "iotRuleActions",
    responses * inventory.ruleActions.responses + errors * inventory.ruleActions.errors + lifecycleEvents * inventory.ruleActions.lifecycle,
  );

  // --- DynamoDB (on demand) ------------------------------------------------------------------
  const provisioned = inventory.tables.filter((table) => table.billingMode !== "PAY_PER_REQUEST");
  if (provisioned.length > 0) throw new Error(`tables ${provisioned.map((t) => t.name).join(", ")} are not on-demand; the price table prices on-demand only`);
  const readUnitsPerScan = Math.ceil((devices * a.deviceItemBytes) / 4096) / 2;
  line(monthly, "DynamoDB", "writes (last response, presence events)", "dynamodbWriteRequestUnits", responses + lifecycleEvents);
  line(monthly, "DynamoDB", "reads (offline checks, daily scan)", "dynamodbReadRequestUnits", disconnects * 0.5 + perMonth(readUnitsPerScan));
  line(monthly, "DynamoDB", "storage (device items)", "dynamodbStorageGbMonth", (devices * a.deviceItemBytes) / 1e9);

  // --- SNS -----------------------------------------------------------------------------------
  line(monthly, "SNS", "publishes (error alerts, daily digest)", "snsPublishes", alertPublishes);
  line(monthly, "SNS", `e-mail deliveries (${inventory.emailSubscriptions} subscriptions)`, "snsEmailDeliveries", alertPublishes * inventory.emailSubscriptions);

  // --- SQS -----------------------------------------------------------------------------------
  line(
    monthly, "SQS", "requests (delayed offline checks: send, receive, delete; idle long polls)", "sqsRequests",
    disconnects * 3 + inventory.polledQueues * a.idlePollsPerQueuePerMonth,
  );

  // --- Lambda (arm64) ------------------------------------------------------------------------
  const x86 = Object.entries(inventory.functions).filter(([, fn]) => fn.architecture !== ARM64);
  if (x86.length > 0) throw new Error(`functions ${x86.map(([name]) => name).join(", ")} are not arm64; the price table prices arm64 only`);
  const memoryGb = (suffix: string) => {
    const match = Object.entries(inventory.functions).find(([name]) => name.endsWith(`-${suffix}`));
    return match ? match[1].memoryMb / 1024 : 0;
  };
  const presenceInvocations = lifecycleEvents + disconnects; // each event, and each delayed check
  const dailyChecks = memoryGb("daily-check") > 0 ? perMonth(1) : 0;
  line(monthly, "Lambda", "requests (presence events and checks, daily check)", "lambdaRequests", presenceInvocations + dailyChecks);
  line(
    monthly, "Lambda", "compute (arm64 GB-seconds)", "lambdaArmGbSeconds",
    presenceInvocations * memoryGb("device-presence") * (a.invocationMs / 1000) + dailyChecks * memoryGb("daily-check") * (a.dailyCheckMs / 1000),
  );

  // --- EC2, public IPv4, EBS -----------------------------------------------------------------
  for (const instance of inventory.instances) {
    if (instance.instanceType !== "t4g.nano") throw new Error(`instance ${instance.id} is ${instance.instanceType}; the price table prices t4g.nano only`);
    if (instance.cpuCredits !== "standard") throw new Error(`instance ${instance.id} uses ${instance.cpuCredits} credits; only standard credits have a fixed price`);
    if (instance.rootVolumeType !== "gp3") throw new Error(`instance ${instance.id} has a ${instance.rootVolumeType} root volume; the price table prices gp3 only`);
    line(monthly, "EC2", `${instance.id}: t4g.nano, standard credits`, "ec2T4gNanoHours", a.hoursPerMonth);
    line(monthly, "EBS", `${instance.id}: gp3 root volume, ${instance.rootVolumeGb} GB`, "ebsGp3GbMonth", instance.rootVolumeGb);
  }
  line(monthly, "Public IPv4", `${inventory.publicIpv4Addresses} Elastic IP(s)`, "publicIpv4Hours", inventory.publicIpv4Addresses * a.hoursPerMonth);

  // --- Secrets Manager, KMS, ECR, API Gateway ------------------------------------------------
  line(monthly, "Secrets Manager", `${inventory.secrets} secret(s)`, "secretsManagerSecretMonths", inventory.secrets);
  line(monthly, "Secrets Manager", "API calls (controller starts)", "secretsManagerApiCalls", a.secretReadsPerMonth);
  if (inventory.kmsKeys > 0) line(monthly, "KMS", `${inventory.kmsKeys} customer managed key(s)`, "kmsKeyMonths", inventory.kmsKeys);
  line(monthly, "ECR", `image storage (${inventory.keptImages} tags kept)`, "ecrStorageGbMonth", a.imageBaseGb + a.imageLayerGbPerTag * inventory.keptImages);
  line(monthly, "API Gateway", `REST API calls (${inventory.restApis} API; only at onboarding, below)`, "apiGatewayRestRequests", 0);

  // --- CloudWatch Logs -----------------------------------------------------------------------
  const lambdaLogBytesPerDay = ((presenceInvocations + dailyChecks) / a.daysPerMonth) * a.logBytesPerInvocation;
  const responseLogBytesPerDay = (responses / a.daysPerMonth) * a.logBytesPerResponse;
  const bytesPerDay = lambdaLogBytesPerDay + responseLogBytesPerDay + (inventory.instances.length > 0 ? a.controllerLogBytesPerDay : 0);
  const shortestRetention = Math.min(...inventory.logGroups.map((group) => group.retentionDays || 365));
  line(monthly, "CloudWatch Logs", "ingestion (Lambda, responses, controller)", "cloudwatchLogsIngestionGb", perMonth(bytesPerDay) / 1e9);
  line(monthly, "CloudWatch Logs", `storage (${shortestRetention}-day retention)`, "cloudwatchLogsStorageGbMonth", (bytesPerDay * shortestRetention) / 1e9);

  // --- S3 ------------------------------------------------------------------------------------
  line(monthly, "S3", `Terraform state (${inventory.buckets} bucket)`, "s3StandardGbMonth", a.stateGb * inventory.buckets);
  line(monthly, "S3", "state reads (CI runs)", "s3GetRequests", a.ciRunsPerMonth * a.stateReadsPerRun);
  line(monthly, "S3", "state writes and lists (CI runs)", "s3PutRequests", a.ciRunsPerMonth * a.stateWritesPerRun);

  // --- Agent releases over the air (IoT Jobs, presigned S3 downloads) -----------------------------
  if (inventory.agentReleaseBuckets > 0 && workload.agentReleasesPerMonth > 0) {
    const executions = devices * workload.agentReleasesPerMonth;
    line(monthly, "IoT Jobs", `job executions (${workload.agentReleasesPerMonth} release(s) to every device)`, "iotJobsRemoteActions", executions);
    line(monthly, "IoT Jobs", "Jobs MQTT messages (notify, start, update)", "iotMessages", executions * a.messagesPerJobExecution);
    line(monthly, "S3", "release downloads (GET)", "s3GetRequests", executions);
    line(monthly, "Data transfer", "release downloads to devices", "dataTransferOutGb", executions * a.agentReleaseTarballGb);
    line(monthly, "S3", "release storage", "s3StandardGbMonth", workload.agentReleasesPerMonth * a.storedReleaseMonths * a.agentReleaseTarballGb);
  }

  // --- One time: onboarding the fleet --------------------------------------------------------
  const onboarding: CostLine[] = [];
  line(onboarding, "API Gateway", "serial registrations (POST /serials)", "apiGatewayRestRequests", devices);
  line(onboarding, "Lambda", "requests (serial API, pre-provisioning hook)", "lambdaRequests", 2 * devices);
  line(
    onboarding, "Lambda", "compute (arm64 GB-seconds)", "lambdaArmGbSeconds",
    devices * (memoryGb("serial-api") + memoryGb("provisioning-hook")) * (a.invocationMs / 1000),
  );
  line(onboarding, "DynamoDB", "serial writes (register, provision)", "dynamodbWriteRequestUnits", 2 * devices);
  line(onboarding, "DynamoDB", "serial reads (hook)", "dynamodbReadRequestUnits", devices);
  line(onboarding, "Fleet provisioning", "IoT messages (CreateCertificateFromCsr, RegisterThing)", "iotMessages", a.messagesPerOnboarding * devices);
  line(onboarding, "Fleet provisioning", "IoT registry operations", "iotRegistryOperations", a.registryOperationsPerOnboarding * devices);

  const sum = (lines: CostLine[]) => lines.reduce((total, next) => total + next.usd, 0);
  const monthlyTotal = sum(monthly);
  return {
    priceTableVersion: priceTable.version,
    priceRegion: priceTable.region,
    stackRegion: inventory.region,
    workload,
    monthly,
    monthlyTotal,
    perDevicePerMonth: monthlyTotal / devices,
    onboarding,
    onboardingTotal: sum(onboarding),
  };
}
