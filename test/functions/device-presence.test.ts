import { GetCommand, ScanCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { SQSEvent } from "aws-lambda";
import { deviceOfflineAlertSchema } from "../../contracts/alerts";
import type { DeviceRecord } from "../../contracts/device-table";
import type { AwsStandIn } from "../../local/aws-services";
import { startFunctionTestbed, type FunctionTestbed } from "../helpers/function-testbed";
import { captureFunctionLogs } from "../helpers/logs";

/**
 * The device-presence function through its real entry point (`handler`), with the lifecycle event
 * payloads of the AWS documentation, against dynalite and the local SNS/SQS stand-in.
 */
const TABLE = "smarthome-dev-devices";
const TOPIC = "arn:aws:sns:eu-west-1:123456789012:smarthome-dev-alerts";
const MINUTE = 60_000;

let aws: AwsStandIn;
let documents: DynamoDBDocumentClient;
let presence: typeof import("../../functions/device-presence");
const logs = captureFunctionLogs();
let nextDevice = 0;
/** The SQS client sends to the queue URL's host, so the queue lives on the stand-in. */
let QUEUE: string;

/** The documentation's connect payload, for one of our things. */
function connected(clientId: string, versionNumber: number, timestamp: number) {
  return {
    clientId,
    timestamp,
    eventType: "connected",
    sessionIdentifier: `session-${versionNumber}`,
    principalIdentifier: "12345678901234567890123456789012",
    ipAddress: "192.0.2.0",
    versionNumber,
  };
}

/** The documentation's disconnect payload. */
function disconnected(clientId: string, versionNumber: number, timestamp: number, disconnectReason = "MQTT_KEEP_ALIVE_TIMEOUT") {
  return {
    clientId,
    timestamp,
    eventType: "disconnected",
    sessionIdentifier: `session-${versionNumber}`,
    principalIdentifier: "12345678901234567890123456789012",
    clientInitiatedDisconnect: false,
    disconnectReason,
    versionNumber,
  };
}

function aDevice(): string {
  nextDevice += 1;
  return `smarthome-dev-SN${1000 + nextDevice}`;
}

async function record(thingName: string): Promise<DeviceRecord | undefined> {
  const { Item } = await documents.send(new GetCommand({ TableName: TABLE, Key: { thingName }, ConsistentRead: true }));
  return Item as DeviceRecord | undefined;
}

function checksFor(thingName: string) {
  return aws.sentMessages.filter((message) => JSON.parse(message.body).thingName === thingName);
}

/** What Lambda delivers once the queue's delay has passed. */
function sqsDelivery(bodies: string[]): SQSEvent {
  return {
    Records: bodies.map((body, index) => ({
      messageId: `message-${index}-${Math.random()}`,
      receiptHandle: "handle",
      body,
      attributes: { ApproximateReceiveCount: "1", SentTimestamp: "0", SenderId: "x", ApproximateFirstReceiveTimestamp: "0" },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:smarthome-dev-presence-checks",
      awsRegion: "eu-west-1",
    })),
  };
}

function alertsFor(thingName: string) {
  return aws.published.filter((message) => message.message.includes(thingName));
}

let testbed: FunctionTestbed;

beforeAll(async () => {
  testbed = await startFunctionTestbed("iot", (stand) => {
    QUEUE = `${stand.env.AWS_ENDPOINT_URL_SQS}/123456789012/smarthome-dev-presence-checks`;
    return { DEVICE_TABLE: TABLE, ALERTS_TOPIC_ARN: TOPIC, PRESENCE_CHECK_QUEUE_URL: QUEUE, OFFLINE_GRACE_SECONDS: "300" };
  });
  ({ aws, documents } = testbed);
  presence = await import("../../functions/device-presence");
});

afterAll(() => testbed.close());

describe("device-presence function", () => {
  it("connect: records the device as connected", async () => {
    const thing = aDevice();
    await presence.handler(connected(thing, 1, 1_700_000_000_000));
    expect(await record(thing)).toMatchObject({ thingName: thing, connected: true, lastConnectedAt: 1_700_000_000_000, eventOrder: 2 });
    expect(checksFor(thing)).toEqual([]);
  });

  it("disconnect: records the reason and queues one offline check delayed by the grace period", async () => {
    const thing = aDevice();
    await presence.handler(connected(thing, 1, 1_700_000_000_000));
    await presence.handler(disconnected(thing, 1, 1_700_000_060_000));
    expect(await record(thing)).toMatchObject({ connected: false, lastDisconnectedAt: 1_700_000_060_000, lastDisconnectReason: "MQTT_KEEP_ALIVE_TIMEOUT", checkScheduledFor: 3 });
    const checks = checksFor(thing);
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ queueUrl: QUEUE, delaySeconds: 300 });
    expect(JSON.parse(checks[0]!.body)).toEqual({ thingName: thing, eventOrder: 3, disconnectedAt: 1_700_000_060_000, disconnectReason: "MQTT_KEEP_ALIVE_TIMEOUT" });
  });

  it("duplicate: the same disconnect twice changes nothing and queues nothing more", async () => {
    const thing = aDevice();
    const event = disconnected(thing, 4, 1_700_000_000_000);
    await presence.handler(event);
    const before = await record(thing);
    await presence.handler(event);
    expect(await record(thing)).toEqual(before);
    expect(checksFor(thing)).toHaveLength(1);
  });

  it("out of order: a connect that arrives after its own disconnect does not bring the device back", async () => {
    const thing = aDevice();
    await presence.handler(disconnected(thing, 5, 1_700_000_030_000));
    await presence.handler(connected(thing, 5, 1_700_000_000_000));
    expect(await record(thing)).toMatchObject({ connected: false, eventOrder: 11 });
  });

  it("out of order: an old disconnect arriving after a newer connect is ignored", async () => {
    const thing = aDevice();
    await presence.handler(connected(thing, 7, 1_700_000_100_000));
    await presence.handler(disconnected(thing, 6, 1_700_000_000_000));
    expect(await record(thing)).toMatchObject({ connected: true, eventOrder: 14 });
    expect(checksFor(thing)).toEqual([]);
  });

  it("a version reset after an hour offline is still newer (the timestamp decides beyond the clock skew)", async () => {
    const thing = aDevice();
    await presence.handler(disconnected(thing, 9, 1_700_000_000_000));
    await presence.handler(connected(thing, 0, 1_700_000_000_000 + 65 * MINUTE));
    expect(await record(thing)).toMatchObject({ connected: true, eventOrder: 0 });
  });

  it("reconnect within the grace period: the delayed check raises nothing", async () => {
    const thing = aDevice();
    await presence.handler(disconnected(thing, 1, 1_700_000_000_000));
    await presence.handler(connected(thing, 2, 1_700_000_020_000));
    const result = await presence.handler(sqsDelivery(checksFor(thing).map((message) => message.body)));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(alertsFor(thing)).toEqual([]);
  });

  it("offline past the grace period: exactly one alert, even when the check is delivered twice", async () => {
    const thing = aDevice();
    await presence.handler(connected(thing, 3, 1_700_000_000_000));
    await presence.handler(disconnected(thing, 3, 1_700_000_090_000, "CONNECTION_LOST"));
    const [check] = checksFor(thing).map((message) => message.body);
    await presence.handler(sqsDelivery([check!]));
    await presence.handler(sqsDelivery([check!]));
    const alerts = alertsFor(thing);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ topicArn: TOPIC, subject: `Device offline: ${thing}`, messageStructure: "json" });
    const structured = JSON.parse(alerts[0]!.message) as { default: string; email: string };
    expect(deviceOfflineAlertSchema.parse(JSON.parse(structured.default))).toEqual({
      kind: "device-offline",
      thingName: thing,
      disconnectedAt: new Date(1_700_000_090_000).toISOString(),
      disconnectReason: "CONNECTION_LOST",
      graceSeconds: 300,
    });
    expect(structured.email).toContain("still offline after 300 s");
    expect(await record(thing)).toMatchObject({ offlineAlertedFor: 7 });
  });

  it("a failed alert is retried by SQS, and still sent only once", async () => {
    const thing = aDevice();
    await presence.handler(disconnected(thing, 2, 1_700_000_000_000));
    const delivery = sqsDelivery(checksFor(thing).map((message) => message.body));
    aws.failNextPublishes(1);
    const failed = await presence.handler(delivery);
    expect(failed).toEqual({ batchItemFailures: [{ itemIdentifier: delivery.Records[0]!.messageId }] });
    expect((await record(thing))?.offlineAlertedFor).toBeUndefined();
    expect(await presence.handler(delivery)).toEqual({ batchItemFailures: [] });
    expect(alertsFor(thing)).toHaveLength(1);
  });

  it.each([
    ["not JSON-shaped", "hello"],
    ["null", null],
    ["an unknown event type", { ...connected("smarthome-dev-X", 1, 1), eventType: "subscribed" }],
    ["a negative version", connected("smarthome-dev-X", -1, 1)],
    ["a disconnect without a reason", { ...disconnected("smarthome-dev-X", 1, 1), disconnectReason: undefined }],
    ["a string timestamp", { ...connected("smarthome-dev-X", 1, 1), timestamp: "yesterday" }],
    ["an empty client id", connected("", 1, 1)],
  ])("malformed event (%s): logged and dropped, no crash, no write", async (_name, event) => {
    const before = (await documents.send(new ScanCommand({ TableName: TABLE }))).Count;
    const sentBefore = aws.sentMessages.length;
    await expect(presence.handler(event)).resolves.toBeUndefined();
    expect(logs).toEqual([expect.objectContaining({ level: "ERROR", message: "malformed lifecycle event dropped" })]);
    expect((await documents.send(new ScanCommand({ TableName: TABLE }))).Count).toBe(before);
    expect(aws.sentMessages.length).toBe(sentBefore);
  });

  it("a malformed offline check is dropped without failing the batch", async () => {
    expect(await presence.handler(sqsDelivery(["{not json", JSON.stringify({ thingName: "x" })]))).toEqual({ batchItemFailures: [] });
  });
});
