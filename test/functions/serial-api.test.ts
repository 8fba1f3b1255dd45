import { GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import Ajv from "ajv-draft-04";
import * as z from "zod/mini";
import { MAX_SERIALS_PER_REQUEST, registerSerialsRequestJsonSchema, serialRecordSchema, type SerialRecord } from "../../contracts/serial-registry";
import { apiGatewayEvent } from "../helpers/api-gateway-event";
import type { AwsStandIn } from "../../local/aws-services";
import { startFunctionTestbed, type FunctionTestbed } from "../helpers/function-testbed";
import { captureFunctionLogs } from "../helpers/logs";

/**
 * The serial API through its real entry point with API Gateway proxy events, against dynalite and
 * the IoT registry stand-in.
 */
const TABLE = "smarthome-dev-serials";

let aws: AwsStandIn;
let documents: DynamoDBDocumentClient;
let api: typeof import("../../functions/serial-api");
captureFunctionLogs();

const post = (body: string | null) => api.handler(apiGatewayEvent("POST", "/serials", { body }));
const onSerial = (method: string, resource: string, serial: string) =>
  api.handler(apiGatewayEvent(method, resource, { path: resource.replace("{serial}", encodeURIComponent(serial)), pathParameters: { serial } }));
const get = (serial: string) => onSerial("GET", "/serials/{serial}", serial);
const reset = (serial: string) => onSerial("POST", "/serials/{serial}/reset", serial);
const revoke = (serial: string) => onSerial("DELETE", "/serials/{serial}", serial);

async function itemCount(): Promise<number> {
  return (await documents.send(new ScanCommand({ TableName: TABLE, Select: "COUNT", ConsistentRead: true }))).Count ?? 0;
}

async function record(serial: string): Promise<SerialRecord | undefined> {
  return z.optional(serialRecordSchema).parse((await documents.send(new GetCommand({ TableName: TABLE, Key: { serial }, ConsistentRead: true }))).Item);
}

/** A device the hook let provision: its item, its thing and its active certificate. */
async function provisionedDevice(serial: string, certificateId: string): Promise<void> {
  const now = new Date().toISOString();
  const thingName = `smarthome-dev-${serial}`;
  await documents.send(
    new PutCommand({ TableName: TABLE, Item: { serial, status: "provisioned", registeredAt: now, updatedAt: now, provisionedAt: now, thingName, certificateId } satisfies SerialRecord }),
  );
  aws.iot.addCertificate(certificateId, "device certificate PEM", "ACTIVE");
  aws.iot.things.set(thingName, { thingName, groups: [], attributes: {}, principals: new Set([certificateId]) });
}

let testbed: FunctionTestbed;

beforeAll(async () => {
  testbed = await startFunctionTestbed("iot-fleet", () => ({ SERIAL_TABLE: TABLE }));
  ({ aws, documents } = testbed);
  api = await import("../../functions/serial-api");
});

afterAll(() => testbed.close());

describe("serial API: registering", () => {
  it("registers serials, and re-posting them is not an error", async () => {
    const first = await post(JSON.stringify({ serials: ["SN-A-1", "SN-A-2"], batch: "2026-11-a" }));
    expect(first.statusCode).toBe(200);
    expect(JSON.parse(first.body)).toEqual({
      results: [
        { serial: "SN-A-1", status: "registered", created: true },
        { serial: "SN-A-2", status: "registered", created: true },
      ],
    });
    const again = await post(JSON.stringify({ serials: ["SN-A-1", "SN-A-3"] }));
    expect(again.statusCode).toBe(200);
    expect(JSON.parse(again.body).results).toEqual([
      { serial: "SN-A-1", status: "registered", created: false },
      { serial: "SN-A-3", status: "registered", created: true },
    ]);
    expect(await record("SN-A-1")).toMatchObject({ status: "registered", batch: "2026-11-a" });
  });

  it("accepts a batch of exactly 100, and a repeated serial once", async () => {
    const serials = Array.from({ length: MAX_SERIALS_PER_REQUEST }, (_, index) => `SN-HUNDRED-${index}`);
    const response = await post(JSON.stringify({ serials: [...serials.slice(0, 99), serials[0]] }));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body).results).toHaveLength(99);
  });

  it("reports a serial that already provisioned with its status instead of re-registering it", async () => {
    await provisionedDevice("SN-B-1", "b1".repeat(32));
    expect(JSON.parse((await post(JSON.stringify({ serials: ["SN-B-1"] }))).body).results).toEqual([{ serial: "SN-B-1", status: "provisioned", created: false }]);
  });

  it("#8.5 takes a Raspberry Pi's own lowercase serial, in the body and the path, as its canonical uppercase form", async () => {
    const response = await post(JSON.stringify({ serials: ["00000000b83c3c1b", "00000000B83C3C1B"] }));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body).results).toEqual([{ serial: "00000000B83C3C1B", status: "registered", created: true }]);
    expect(await record("00000000B83C3C1B")).toMatchObject({ status: "registered" });
    expect(await record("00000000b83c3c1b")).toBeUndefined();
    expect(JSON.parse((await get("00000000b83c3c1b")).body)).toMatchObject({ serial: "00000000B83C3C1B", status: "registered" });
    const validate = new Ajv().compile(registerSerialsRequestJsonSchema());
    expect(validate({ serials: ["10000000abcdef01"] })).toBe(true);
  });

  it("reads a serial, and answers 404 for one it does not know", async () => {
    expect(JSON.parse((await get("SN-A-2")).body)).toMatchObject({ serial: "SN-A-2", status: "registered" });
    const missing = await get("SN-NOPE");
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ message: "serial SN-NOPE is not registered" });
  });
});

describe("serial API: reset and revoke", () => {
  it("reset: provisioned → registered, the old certificate deactivated and detached, the thing deleted", async () => {
    const certificate = "c1".repeat(32);
    await provisionedDevice("SN-C-1", certificate);
    const response = await reset("SN-C-1");
    expect(response.statusCode).toBe(200);
    const after = JSON.parse(response.body) as SerialRecord;
    expect(after.status).toBe("registered");
    expect(after).not.toHaveProperty("certificateId");
    expect(after).not.toHaveProperty("thingName");
    expect(aws.iot.certificates.get(certificate)?.status).toBe("INACTIVE");
    expect(aws.iot.things.has("smarthome-dev-SN-C-1")).toBe(false);
  });

  it("#8.9 reset takes a stranded serial back to registered: no thing, and its never-activated certificate already gone", async () => {
    const now = new Date(Date.now() - 3_600_000).toISOString();
    await documents.send(
      new PutCommand({
        TableName: TABLE,
        Item: { serial: "SN-STRAND-1", status: "provisioned", registeredAt: now, updatedAt: now, provisionedAt: now, thingName: "smarthome-dev-SN-STRAND-1", certificateId: "5e".repeat(32) } satisfies SerialRecord,
      }),
    );
    const response = await reset("SN-STRAND-1");
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ serial: "SN-STRAND-1", status: "registered" });
  });

  it("reset refuses a serial that is not provisioned (409) or unknown (404)", async () => {
    const conflict = await reset("SN-A-2");
    expect(conflict.statusCode).toBe(409);
    expect(JSON.parse(conflict.body).message).toBe("serial SN-A-2 is registered; only a provisioned serial can be reset");
    expect((await reset("SN-NOPE")).statusCode).toBe(404);
  });

  it("revoke: status revoked and the device's certificates revoked; revoking again is fine", async () => {
    const certificate = "d1".repeat(32);
    await provisionedDevice("SN-D-1", certificate);
    const response = await revoke("SN-D-1");
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ status: "revoked", revokedAt: expect.any(String) });
    expect(aws.iot.certificates.get(certificate)?.status).toBe("REVOKED");
    expect((await revoke("SN-D-1")).statusCode).toBe(200);
    expect((await reset("SN-D-1")).statusCode).toBe(409);
  });

  it("revoke of a registered serial needs no certificate and stops it from ever provisioning", async () => {
    expect(JSON.parse((await revoke("SN-A-3")).body).status).toBe("revoked");
  });
});

describe("serial API: malformed requests", () => {
  const badSerials = [
    "", "a", "sn 123", "SN 123", " SN123", "SN123 ", "SN_123", "SN.123", "SN/123", "SN\\123", "S", "SN", "-SN123",
    "X".repeat(41), "SN123\n", "SN\u0000123", "ŠN123", "SN١٢٣", "SN１２３", "SN123🚀", "🚀", "ＳＮ123", "SN\u200b123",
    "'; DROP TABLE serials; --", "<script>", "${jndi:ldap://x}", "../../etc/passwd", "%00", "SN123%2F",
    "sn_lower", "Sn 123", "SN\t123", "SN—123", "SN123?", "SN*", "*", "SN#1", "SN@1", "00000000b83c3c1b\u0000",
  ];
  const badBodies: [string, string | null][] = [
    ["no body", null],
    ["empty body", ""],
    ["whitespace", "   "],
    ["not JSON", "serials=SN123"],
    ["truncated JSON", '{"serials": ["SN123"'],
    ["trailing comma", '{"serials": ["SN123",]}'],
    ["single quotes", "{'serials': ['SN123']}"],
    ["JSON null", "null"],
    ["JSON number", "42"],
    ["JSON string", '"SN123"'],
    ["JSON array", '["SN123"]'],
    ["empty object", "{}"],
    ["serials is a string", '{"serials": "SN123"}'],
    ["serials is a number", '{"serials": 123}'],
    ["serials is null", '{"serials": null}'],
    ["serials is an object", '{"serials": {"a": "SN123"}}'],
    ["serials holds a number", '{"serials": [123]}'],
    ["serials holds null", '{"serials": [null]}'],
    ["serials holds an array", '{"serials": [["SN123"]]}'],
    ["serials holds an object", '{"serials": [{"serial": "SN123"}]}'],
    ["serials is empty", '{"serials": []}'],
    ["batch is a number", '{"serials": ["SN123"], "batch": 7}'],
    ["batch is uppercase", '{"serials": ["SN123"], "batch": "BATCH"}'],
    ["batch has unicode", '{"serials": ["SN123"], "batch": "bätch"}'],
    ["unknown property", '{"serials": ["SN123"], "owner": "me"}'],
    ["the old single-serial shape", '{"serial": "SN123"}'],
    ...[101, 102, 150, 500, 1000].map((size): [string, string] => [`${size} serials`, JSON.stringify({ serials: Array.from({ length: size }, (_, i) => `SN-BIG-${i}`) })]),
    ["a very long serial list in one string", JSON.stringify({ serials: ["SN".repeat(5000)] })],
  ];
  const requests: [string, () => ReturnType<typeof post>][] = [
    ...badBodies.map(([name, body]): [string, () => ReturnType<typeof post>] => [`POST /serials with ${name}`, () => post(body)]),
    ...badSerials.map((serial): [string, () => ReturnType<typeof post>] => [`POST /serials with serial ${JSON.stringify(serial)}`, () => post(JSON.stringify({ serials: [serial] }))]),
    ...badSerials.map((serial): [string, () => ReturnType<typeof post>] => [`POST /serials with ${JSON.stringify(serial)} among good ones`, () => post(JSON.stringify({ serials: ["SN-GOOD-1", serial] }))]),
    ...badSerials.map((serial): [string, () => ReturnType<typeof post>] => [`GET /serials/${JSON.stringify(serial)}`, () => get(serial)]),
    ...badSerials.map((serial): [string, () => ReturnType<typeof post>] => [`POST /serials/${JSON.stringify(serial)}/reset`, () => reset(serial)]),
    ...badSerials.map((serial): [string, () => ReturnType<typeof post>] => [`DELETE /serials/${JSON.stringify(serial)}`, () => revoke(serial)]),
  ];

  it(`has at least 200 generated malformed requests (${requests.length})`, () => {
    expect(requests.length).toBeGreaterThanOrEqual(200);
  });

  it("answers every one with a 4xx and a clear message; no 5xx, no write, no certificate touched", async () => {
    const itemsBefore = await itemCount();
    const certificateStatuses = () => [...aws.iot.certificates.values()].map(({ certificateId, status }) => `${certificateId} ${status}`);
    const certificatesBefore = certificateStatuses();
    const failures: string[] = [];
    for (const [name, send] of requests) {
      const response = await send();
      const body = JSON.parse(response.body) as { message?: unknown };
      if (response.statusCode < 400 || response.statusCode >= 500) failures.push(`${name}: ${response.statusCode}`);
      else if (typeof body.message !== "string" || body.message.length < 10) failures.push(`${name}: unclear message ${JSON.stringify(body)}`);
    }
    expect(failures).toEqual([]);
    expect(await itemCount()).toBe(itemsBefore);
    expect(certificateStatuses()).toEqual(certificatesBefore);
    expect(await record("SN-GOOD-1")).toBeUndefined();
  });

  it("says what to fix", async () => {
    expect(JSON.parse((await post("{")).body).message).toBe("body is not valid JSON");
    expect(JSON.parse((await post(JSON.stringify({ serials: ["sn_1"] }))).body).message).toMatch(/^serials\.0: must match \^\[A-Za-z0-9\].* \(any case\)$/);
    expect(JSON.parse((await post(JSON.stringify({ serials: Array(101).fill("SN123") }))).body).message).toMatch(/^serials: .*100/);
    expect(JSON.parse((await get("sn 1")).body).message).toMatch(/^serial in the path must match/);
  });

  it("API Gateway's model (the same schema, as draft-04 JSON schema) rejects every malformed JSON body the function rejects", () => {
    const model = new Ajv({ allErrors: true }).compile(registerSerialsRequestJsonSchema());
    const jsonBodies = [...badBodies.map(([, body]) => body), ...badSerials.map((serial) => JSON.stringify({ serials: [serial] }))].flatMap((body) => {
      try {
        return [JSON.parse(body ?? "")];
      } catch {
        return [];
      }
    });
    expect(jsonBodies.length).toBeGreaterThan(60);
    expect(jsonBodies.filter((body) => model(body))).toEqual([]);
    expect(model({ serials: ["SN-OK-1"], batch: "2026-11-a" })).toBe(true);
  });

  it("an unknown route is a 404", async () => {
    expect((await api.handler(apiGatewayEvent("PATCH", "/serials"))).statusCode).toBe(404);
  });
});
