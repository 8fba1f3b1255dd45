import { DeleteCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { dailySummaryAlertSchema } from "../../contracts/alerts";
import type { DeviceRecord } from "../../contracts/device-table";
import type { AwsStandIn } from "../../local/aws-services";
import { startFunctionTestbed, type FunctionTestbed } from "../helpers/function-testbed";
import { captureFunctionLogs } from "../helpers/logs";

/** The daily-check function through its real entry point, against dynalite and the SNS stand-in. */
const TABLE = "smarthome-dev-devices";
const TOPIC = "arn:aws:sns:eu-west-1:123456789012:smarthome-dev-alerts";
const HOUR = 3_600_000;

let aws: AwsStandIn;
let documents: DynamoDBDocumentClient;
const logs = captureFunctionLogs();

function device(thingName: string, connected: boolean, lastEventAt: number, extra: Partial<DeviceRecord> = {}): DeviceRecord {
  return { thingName, connected, lastEventAt, eventOrder: 1, sessionIdentifier: "s", ...(connected ? { lastConnectedAt: lastEventAt } : { lastDisconnectedAt: lastEventAt, lastDisconnectReason: "CONNECTION_LOST" }), ...extra };
}

async function replaceDevices(devices: DeviceRecord[]): Promise<void> {
  const { Items = [] } = await documents.send(new ScanCommand({ TableName: TABLE }));
  for (const item of Items) await documents.send(new DeleteCommand({ TableName: TABLE, Key: { thingName: item.thingName } }));
  for (const item of devices) await documents.send(new PutCommand({ TableName: TABLE, Item: item }));
}

/** Loads the handler with DAILY_DIGEST set as the stack would set it. */
async function loadHandler(dailyDigest: "true" | "false"): Promise<typeof import("../../functions/daily-check").handler> {
  process.env.DAILY_DIGEST = dailyDigest;
  let handler!: typeof import("../../functions/daily-check").handler;
  await jest.isolateModulesAsync(async () => {
    ({ handler } = await import("../../functions/daily-check"));
  });
  return handler;
}

let testbed: FunctionTestbed;

beforeAll(async () => {
  testbed = await startFunctionTestbed("iot", () => ({ DEVICE_TABLE: TABLE, ALERTS_TOPIC_ARN: TOPIC }));
  ({ aws, documents } = testbed);
});

afterAll(() => testbed.close());

beforeEach(() => {
  aws.published.length = 0;
});

describe("daily-check function", () => {
  it("sends nothing when every device is healthy", async () => {
    const now = Date.now();
    await replaceDevices([device("smarthome-dev-A1", true, now - 30 * HOUR), device("smarthome-dev-A2", true, now - HOUR)]);
    const handler = await loadHandler("false");
    expect(await handler()).toEqual({ sent: false, devices: 2 });
    expect(aws.published).toEqual([]);
    expect(logs).toContainEqual(expect.objectContaining({ message: "daily check done", sent: false, devices: 2, online: 2, offline: 0 }));
  });

  it("sends one summary listing devices that went offline and devices not seen for 24 hours", async () => {
    const now = Date.now();
    await replaceDevices([
      device("smarthome-dev-OK", true, now - 2 * HOUR),
      device("smarthome-dev-RECENT", false, now - 2 * HOUR),
      device("smarthome-dev-GONE", false, now - 72 * HOUR),
    ]);
    const handler = await loadHandler("false");
    expect(await handler()).toEqual({ sent: true, devices: 3 });
    expect(aws.published).toHaveLength(1);
    const structured = JSON.parse(aws.published[0]!.message) as { default: string; email: string };
    const summary = dailySummaryAlertSchema.parse(JSON.parse(structured.default));
    expect(summary.totals).toEqual({ devices: 3, online: 1, offline: 2 });
    expect(summary.wentOffline).toEqual([{ thingName: "smarthome-dev-RECENT", disconnectedAt: new Date(now - 2 * HOUR).toISOString(), reason: "CONNECTION_LOST" }]);
    expect(summary.notSeenFor24Hours).toEqual([{ thingName: "smarthome-dev-GONE", lastSeenAt: new Date(now - 72 * HOUR).toISOString() }]);
    expect(aws.published[0]!.subject).toBe("Daily device check: 2 of 3 offline");
    expect(structured.email).toContain("- not seen for 24 h: smarthome-dev-GONE");
  });

  it("sends the digest on a healthy day when config asks for it", async () => {
    await replaceDevices([device("smarthome-dev-A1", true, Date.now())]);
    const handler = await loadHandler("true");
    expect(await handler()).toEqual({ sent: true, devices: 1 });
    expect(aws.published[0]!.subject).toBe("Daily device check: 0 of 1 offline");
  });

  it("skips items the presence function did not write (e.g. only a last response so far)", async () => {
    await replaceDevices([]);
    await documents.send(new PutCommand({ TableName: TABLE, Item: { thingName: "smarthome-dev-NEW", lastResponse: { ok: true } } }));
    const handler = await loadHandler("false");
    expect(await handler()).toEqual({ sent: false, devices: 0 });
  });
});
