import { devicePresence } from "../contracts/device-table";
import { provisioningHookEnvironment } from "../contracts/function-environments";
import { projectNames } from "../contracts/names";
import { parseSerialApiRequest, SERIAL_API, SERIAL_API_PATH_PARAMETERS, SERIAL_API_ROUTES, serialApiPath } from "../contracts/serial-api";

/** The serial API's route table and the record schemas the table edges parse with. */
describe("serial API route table", () => {
  it("has one route per operation, each path parameter declared and parsed", () => {
    expect(SERIAL_API_ROUTES.map((route) => `${route.operation}: ${route.method} ${route.path}`)).toEqual([
      "registerSerials: POST /serials",
      "getSerial: GET /serials/{serial}",
      "resetSerial: POST /serials/{serial}/reset",
      "revokeSerial: DELETE /serials/{serial}",
    ]);
    for (const route of SERIAL_API_ROUTES) {
      expect(route.pathParameters).toEqual([...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name));
      for (const name of route.pathParameters) expect(SERIAL_API_PATH_PARAMETERS).toHaveProperty(name);
      expect(SERIAL_API[route.operation]).toBe(route);
    }
    expect(Object.keys(SERIAL_API)).toHaveLength(SERIAL_API_ROUTES.length);
  });

  it("gives a route with a body both its zod schema and the JSON schema API Gateway validates with", () => {
    const withBody = SERIAL_API_ROUTES.filter((route) => route.body);
    expect(withBody.map((route) => route.operation)).toEqual(["registerSerials"]);
    expect(SERIAL_API.registerSerials.bodySchema).toMatchObject({ name: "RegisterSerials", schema: { type: "object", required: ["serials"] } });
    expect(SERIAL_API_ROUTES.filter((route) => route.bodySchema)).toEqual(withBody);
  });

  it("fills path parameters URL-encoded, and refuses a missing one", () => {
    expect(serialApiPath(SERIAL_API.resetSerial, { serial: "SN 1/2" })).toBe("/serials/SN%201%2F2/reset");
    expect(serialApiPath(SERIAL_API.registerSerials, {})).toBe("/serials");
    expect(() => serialApiPath(SERIAL_API.getSerial, {})).toThrow("getSerial: path parameter serial is missing");
  });

  it("parses path parameters and bodies to their canonical form, and says what is wrong otherwise", () => {
    expect(parseSerialApiRequest(SERIAL_API.getSerial, { pathParameters: { serial: "00000000b83c3c1b" }, body: undefined })).toEqual({
      success: true,
      request: { serial: "00000000B83C3C1B" },
    });
    expect(parseSerialApiRequest(SERIAL_API.registerSerials, { pathParameters: null, body: { serials: ["sn1"] } })).toEqual({
      success: true,
      request: { body: { serials: ["SN1"] } },
    });
    expect(parseSerialApiRequest(SERIAL_API.getSerial, { pathParameters: null, body: undefined })).toEqual({ success: false, message: expect.stringMatching(/^serial in the path must match/) });
    expect(parseSerialApiRequest(SERIAL_API.registerSerials, { pathParameters: null, body: { serials: [] } })).toEqual({ success: false, message: expect.stringMatching(/^serials: /) });
  });
});

describe("records parsed at the table edge", () => {
  const presence = { thingName: "smarthome-dev-SN1", connected: true, eventOrder: 2, lastEventAt: 1_700_000_000_000, sessionIdentifier: "s-1" };

  it("a device item is its presence, nothing yet (only the responses rule wrote it), or an error", () => {
    expect(devicePresence({ ...presence, lastResponse: { ok: true } })).toEqual({ ...presence, lastResponse: { ok: true } });
    expect(devicePresence({ thingName: "smarthome-dev-SN1", lastResponse: { ok: true } })).toBeUndefined();
    expect(() => devicePresence({ ...presence, connected: "yes" })).toThrow(/device table item is malformed: connected: /);
    expect(() => devicePresence({ ...presence, eventOrder: undefined })).toThrow(/eventOrder/);
    expect(() => devicePresence({ connected: true })).toThrow(/malformed/);
  });

  it("the hook's active claim certificates are parsed from its environment to id → batch, or refused", () => {
    const environment = { SERIAL_TABLE: "t", THING_NAME_PREFIX: "smarthome-dev" };
    const parsed = provisioningHookEnvironment.parse({ ...environment, ACTIVE_CLAIM_CERTIFICATES: JSON.stringify([{ batch: "2026-11-a", certificateId: "ab12" }]) });
    expect(parsed.ACTIVE_CLAIM_CERTIFICATES).toEqual(new Map([["ab12", "2026-11-a"]]));
    expect(provisioningHookEnvironment.safeParse({ ...environment, ACTIVE_CLAIM_CERTIFICATES: "[{" }).error?.issues[0]?.message).toMatch(/^must be JSON/);
    expect(provisioningHookEnvironment.safeParse({ ...environment, ACTIVE_CLAIM_CERTIFICATES: '[{"batch": "b"}]' }).success).toBe(false);
  });
});

describe("device naming", () => {
  it("names the device policy, thing type and thing group once, under the project prefix", () => {
    const names = projectNames("smarthome", "dev");
    expect([names.devicePolicy, names.deviceThingType, names.deviceThingGroup]).toEqual(["smarthome-dev-device", "smarthome-dev-device", "smarthome-dev-devices"]);
  });
});
