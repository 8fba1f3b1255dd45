import { GetCommand, PutCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import * as z from "zod/mini";
import { serialRecordSchema, type SerialRecord } from "../../contracts/serial-registry";
import type { AwsStandIn } from "../../local/aws-services";
import { startFunctionTestbed, type FunctionTestbed } from "../helpers/function-testbed";
import { captureFunctionLogs } from "../helpers/logs";

/** The pre-provisioning hook through its real entry point, with AWS's documented event, against dynalite. */
const TABLE = "smarthome-dev-serials";
const ACTIVE_CLAIM = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
const RETIRED_CLAIM = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

let aws: AwsStandIn;
let documents: DynamoDBDocumentClient;
let hook: typeof import("../../functions/provisioning-hook");
const logs = captureFunctionLogs();

/** The event AWS IoT sends, as the pre-provisioning hook documentation shows it. */
function hookEvent(serial: string | undefined, overrides: Record<string, unknown> = {}) {
  return {
    claimCertificateId: ACTIVE_CLAIM,
    certificateId: `c0ffee${Math.random().toString(16).slice(2).padEnd(58, "0")}`,
    certificatePem: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----",
    templateArn: "arn:aws:iot:eu-west-1:123456789012:provisioningtemplate/smarthome-dev-fleet",
    clientId: "provisioning-smarthome-dev-221a6d10",
    parameters: serial === undefined ? {} : { SerialNumber: serial },
    ...overrides,
  };
}

async function seed(serial: string, status: SerialRecord["status"]): Promise<void> {
  const now = new Date().toISOString();
  await documents.send(new PutCommand({ TableName: TABLE, Item: { serial, status, registeredAt: now, updatedAt: now } satisfies SerialRecord }));
}

async function record(serial: string): Promise<SerialRecord | undefined> {
  return z.optional(serialRecordSchema).parse((await documents.send(new GetCommand({ TableName: TABLE, Key: { serial }, ConsistentRead: true }))).Item);
}

/** An allow names the canonical serial, so the template's thing name is canonical too. */
const allowedAs = (serial: string) => ({ allowProvisioning: true, parameterOverrides: { SerialNumber: serial, ThingName: `smarthome-dev-${serial}` } });
const denied = { allowProvisioning: false, parameterOverrides: {} };

let testbed: FunctionTestbed;

beforeAll(async () => {
  testbed = await startFunctionTestbed("iot-fleet", () => ({
    SERIAL_TABLE: TABLE,
    ACTIVE_CLAIM_CERTIFICATES: JSON.stringify([{ batch: "2026-11-a", certificateId: ACTIVE_CLAIM }]),
    THING_NAME_PREFIX: "smarthome-dev",
    STRANDED_AFTER_SECONDS: "600",
  }));
  ({ aws, documents } = testbed);
  hook = await import("../../functions/provisioning-hook");
});

afterAll(() => testbed.close());

describe("pre-provisioning hook", () => {
  it("allows a registered serial and records the device, moving the serial to provisioned", async () => {
    await seed("SN-REG-1", "registered");
    const event = hookEvent("SN-REG-1");
    expect(await hook.handler(event)).toEqual(allowedAs("SN-REG-1"));
    expect(await record("SN-REG-1")).toMatchObject({
      status: "provisioned",
      thingName: "smarthome-dev-SN-REG-1",
      certificateId: event.certificateId,
      claimCertificateId: ACTIVE_CLAIM,
      provisionedAt: expect.any(String),
    });
  });

  it("#8.5 allows a Raspberry Pi's own serial (lowercase hex, NUL-terminated) registered in canonical form, and overrides SerialNumber with it", async () => {
    await seed("00000000B83C3C1B", "registered");
    const event = hookEvent("00000000b83c3c1b\0");
    expect(await hook.handler(event)).toEqual(allowedAs("00000000B83C3C1B"));
    expect(await record("00000000B83C3C1B")).toMatchObject({ status: "provisioned", thingName: "smarthome-dev-00000000B83C3C1B" });
    expect(await record("00000000b83c3c1b")).toBeUndefined();
  });

  it("#8.9 allows a stranded serial again: provisioned over 10 minutes ago, yet its thing is not in the registry", async () => {
    const strandedAt = new Date(Date.now() - 20 * 60_000).toISOString();
    const stranded = (serial: string, provisionedAt: string): SerialRecord => ({
      serial,
      status: "provisioned",
      registeredAt: provisionedAt,
      updatedAt: provisionedAt,
      provisionedAt,
      thingName: `smarthome-dev-${serial}`,
      certificateId: "dead".repeat(16),
    });
    await documents.send(new PutCommand({ TableName: TABLE, Item: stranded("SN-STRANDED-1", strandedAt) }));
    const event = hookEvent("SN-STRANDED-1");
    expect(await hook.handler(event)).toEqual(allowedAs("SN-STRANDED-1"));
    expect(await record("SN-STRANDED-1")).toMatchObject({ status: "provisioned", certificateId: event.certificateId, provisionedAt: expect.not.stringMatching(strandedAt) });
    expect(logs).toContainEqual(expect.objectContaining({ level: "WARN", message: expect.stringMatching(/^allowed again: serial was provisioned but has no thing/) }));
    // The retry that allowed it reset the clock: a second device right after is denied.
    expect(await hook.handler(hookEvent("SN-STRANDED-1"))).toEqual(denied);

    // Within the grace period (RegisterThing may still be running), or with its thing in the registry: denied.
    await documents.send(new PutCommand({ TableName: TABLE, Item: stranded("SN-STRANDED-2", new Date(Date.now() - 60_000).toISOString()) }));
    expect(await hook.handler(hookEvent("SN-STRANDED-2"))).toEqual(denied);
    await documents.send(new PutCommand({ TableName: TABLE, Item: stranded("SN-STRANDED-3", strandedAt) }));
    aws.iot.things.set("smarthome-dev-SN-STRANDED-3", { thingName: "smarthome-dev-SN-STRANDED-3", groups: [], attributes: {}, principals: new Set(["ab".repeat(32)]) });
    expect(await hook.handler(hookEvent("SN-STRANDED-3"))).toEqual(denied);
    expect(await record("SN-STRANDED-3")).toMatchObject({ provisionedAt: strandedAt });
  });

  it("denies an unknown serial and writes nothing", async () => {
    expect(await hook.handler(hookEvent("SN-NOBODY"))).toEqual(denied);
    expect(await record("SN-NOBODY")).toBeUndefined();
    expect(logs).toContainEqual(expect.objectContaining({ level: "WARN", message: "denied: serial is unknown" }));
  });

  it("denies a serial that already provisioned (a device that lost its certificate) until an operator resets it", async () => {
    await seed("SN-DONE-1", "registered");
    expect(await hook.handler(hookEvent("SN-DONE-1"))).toEqual(allowedAs("SN-DONE-1"));
    const before = await record("SN-DONE-1");
    expect(await hook.handler(hookEvent("SN-DONE-1"))).toEqual(denied);
    expect(await record("SN-DONE-1")).toEqual(before);
    expect(logs).toContainEqual(expect.objectContaining({ message: "denied: serial is provisioned (an operator must reset it first)" }));
  });

  it("denies a revoked serial", async () => {
    await seed("SN-REVOKED", "revoked");
    expect(await hook.handler(hookEvent("SN-REVOKED"))).toEqual(denied);
    expect((await record("SN-REVOKED"))?.status).toBe("revoked");
  });

  it("denies the claim certificate of a retired (or unknown) batch, even for a registered serial", async () => {
    await seed("SN-RETIRED-BATCH", "registered");
    expect(await hook.handler(hookEvent("SN-RETIRED-BATCH", { claimCertificateId: RETIRED_CLAIM }))).toEqual(denied);
    expect((await record("SN-RETIRED-BATCH"))?.status).toBe("registered");
  });

  it.each([
    ["no SerialNumber", hookEvent(undefined)],
    ["a malformed serial", hookEvent("sn 1; DROP")],
    ["a non-string parameter", { ...hookEvent("SN-REG-9"), parameters: { SerialNumber: 12 } }],
    ["no claim certificate id", { ...hookEvent("SN-REG-9"), claimCertificateId: undefined }],
    ["not an object", "hello"],
    ["null", null],
  ])("denies a malformed event (%s) and writes nothing", async (_name, event) => {
    await seed("SN-REG-9", "registered");
    expect(await hook.handler(event)).toEqual(denied);
    expect((await record("SN-REG-9"))?.status).toBe("registered");
  });

  it("20 concurrent invocations for one serial: exactly one allow", async () => {
    await seed("SN-RACE-1", "registered");
    const answers = await Promise.all(Array.from({ length: 20 }, () => hook.handler(hookEvent("SN-RACE-1"))));
    expect(answers.filter((answer) => answer.allowProvisioning)).toHaveLength(1);
    expect(answers.filter((answer) => !answer.allowProvisioning)).toHaveLength(19);
    expect((await record("SN-RACE-1"))?.status).toBe("provisioned");
  });

  it("denies, and logs why, when DynamoDB cannot be reached", async () => {
    await jest.isolateModulesAsync(async () => {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = "http://127.0.0.1:9";
      const isolated = await import("../../functions/provisioning-hook");
      expect(await isolated.handler(hookEvent("SN-REG-1"))).toEqual(denied);
    });
    process.env.AWS_ENDPOINT_URL_DYNAMODB = aws.env.AWS_ENDPOINT_URL_DYNAMODB;
    expect(logs).toContainEqual(expect.objectContaining({ level: "ERROR", message: "denied: the hook failed" }));
  });
});
