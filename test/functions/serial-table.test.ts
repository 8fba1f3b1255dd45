import { ResourceNotFoundException } from "@aws-sdk/client-dynamodb";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { MalformedSerialRecord, SerialTable } from "../../functions/shared/serial-table";
import { startFunctionTestbed, type FunctionTestbed } from "../helpers/function-testbed";

/** The serial table's one owner, against dynalite with the table the iot-fleet stack defines. */
const TABLE = "smarthome-dev-serials";
const device = (n: number) => ({ thingName: `smarthome-dev-SN-T-${n}`, certificateId: `${n}`.repeat(64).slice(0, 64), claimCertificateId: "c".repeat(64) });

let testbed: FunctionTestbed;
let table: SerialTable;

beforeAll(async () => {
  testbed = await startFunctionTestbed("iot-fleet", () => ({}));
  table = new SerialTable(testbed.documents, TABLE);
});

afterAll(() => testbed.close());

describe("SerialTable", () => {
  it("registers a serial once; the second registration changes nothing", async () => {
    expect(await table.register("SN-T-1", "2026-11-a", new Date("2026-11-01T00:00:00Z"))).toBe(true);
    expect(await table.register("SN-T-1", undefined, new Date("2026-11-02T00:00:00Z"))).toBe(false);
    expect(await table.get("SN-T-1")).toEqual({ serial: "SN-T-1", status: "registered", batch: "2026-11-a", registeredAt: "2026-11-01T00:00:00.000Z", updatedAt: "2026-11-01T00:00:00.000Z" });
    expect(await table.get("SN-T-NONE")).toBeUndefined();
  });

  it("of two devices provisioning one serial at once, exactly one wins", async () => {
    await table.register("SN-T-2", undefined, new Date());
    const attempts = await Promise.all([1, 2].map((n) => table.markProvisioned("SN-T-2", device(n), new Date(), { status: "registered" })));
    expect(attempts.filter(Boolean)).toHaveLength(1);
    expect(await table.get("SN-T-2")).toMatchObject({ status: "provisioned", thingName: device(attempts.indexOf(true) + 1).thingName });
  });

  it("provisions a stranded serial again only while it still has the provisionedAt the caller saw", async () => {
    await table.register("SN-T-3", undefined, new Date());
    await table.markProvisioned("SN-T-3", device(3), new Date("2026-11-01T00:00:00Z"), { status: "registered" });
    expect(await table.markProvisioned("SN-T-3", device(4), new Date(), { strandedSince: "2026-10-31T00:00:00.000Z" })).toBe(false);
    expect(await table.get("SN-T-3")).toMatchObject({ certificateId: device(3).certificateId, provisionedAt: "2026-11-01T00:00:00.000Z" });
    expect(await table.markProvisioned("SN-T-3", device(4), new Date("2026-11-02T00:00:00Z"), { strandedSince: "2026-11-01T00:00:00.000Z" })).toBe(true);
    expect(await table.get("SN-T-3")).toMatchObject({ certificateId: device(4).certificateId, provisionedAt: "2026-11-02T00:00:00.000Z" });
  });

  it("resets only a provisioned serial and revokes only from the status the caller saw", async () => {
    expect(await table.reset("SN-T-1", new Date())).toBeUndefined();
    const reset = await table.reset("SN-T-3", new Date());
    expect(reset).toMatchObject({ serial: "SN-T-3", status: "registered" });
    expect(reset).not.toHaveProperty("thingName");
    expect(await table.revoke("SN-T-3", "provisioned", new Date())).toBeUndefined();
    expect(await table.revoke("SN-T-3", "registered", new Date())).toMatchObject({ status: "revoked", revokedAt: expect.any(String) });
  });

  it("refuses a malformed item with a clear error instead of guessing", async () => {
    await testbed.documents.send(new PutCommand({ TableName: TABLE, Item: { serial: "SN-T-BAD", status: "lost", registeredAt: "yesterday" } }));
    await expect(table.get("SN-T-BAD")).rejects.toThrow(MalformedSerialRecord);
    await expect(table.get("SN-T-BAD")).rejects.toThrow(/serial table item SN-T-BAD is malformed: status: .*registeredAt: /s);
  });

  it("throws any error other than a failed condition (here: no such table)", async () => {
    await expect(new SerialTable(testbed.documents, "no-such-table").register("SN-T-9", undefined, new Date())).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
