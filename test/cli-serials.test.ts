import { execFile } from "node:child_process";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { SERIAL_API_ROUTES } from "../contracts/serial-api";
import { createLocalApiGateway } from "../local/api-gateway";
import { startFunctionTestbed, type FunctionTestbed } from "./helpers/function-testbed";
import { captureFunctionLogs } from "./helpers/logs";

/**
 * `npm run serials` against the real serial-api handler behind the local API Gateway stand-in
 * (API key checked, body model validated), with dynalite behind it.
 */
const API_KEY = "local-ci-key";
let gateway: Server;
let env: Record<string, string>;
let cli: typeof import("../cli/serials");
captureFunctionLogs();

let testbed: FunctionTestbed;

beforeAll(async () => {
  testbed = await startFunctionTestbed("iot-fleet", () => ({ SERIAL_TABLE: "smarthome-dev-serials" }));
  const { handler } = await import("../functions/serial-api");
  gateway = createLocalApiGateway({
    stage: "v1",
    apiKey: API_KEY,
    handler,
    routes: SERIAL_API_ROUTES,
  });
  await new Promise<void>((done) => gateway.listen(0, "127.0.0.1", () => done()));
  env = { SERIAL_API_URL: `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/v1`, SERIAL_API_KEY: API_KEY };
  cli = await import("../cli/serials");
});

afterAll(async () => {
  await new Promise((done) => gateway.close(done));
  await testbed.close();
});

describe("npm run serials", () => {
  it("adds serials (again without error), gets, and revokes one", async () => {
    expect(await cli.main(["add", "SN-CLI-1", "SN-CLI-2", "--batch", "2026-11-a"], env)).toBe(0);
    expect(await cli.main(["add", "SN-CLI-1"], env)).toBe(0);
    expect(await cli.main(["get", "SN-CLI-1"], env)).toBe(0);
    expect(console.log).toHaveBeenCalledWith(expect.stringContaining('"status":"registered"'));
    expect(await cli.main(["revoke", "SN-CLI-2"], env)).toBe(0);
  });

  it("#8.5 accepts a Raspberry Pi's own serial in lowercase hex and sends its canonical form", async () => {
    expect(cli.plan(["add", "10000000abcdef01", "--batch", "2026-11-a"])).toEqual([
      { method: "POST", path: "/serials", body: { serials: ["10000000ABCDEF01"], batch: "2026-11-a" } },
    ]);
    expect(cli.plan(["get", "00000000b83c3c1b"])).toEqual([{ method: "GET", path: "/serials/00000000B83C3C1B" }]);
    expect(await cli.main(["add", "00000000b83c3c1b"], env)).toBe(0);
    expect(await cli.main(["get", "00000000B83C3C1B"], env)).toBe(0);
    expect(console.log).toHaveBeenCalledWith(expect.stringContaining('"serial":"00000000B83C3C1B"'));
  });

  it("sends more than 100 serials in several requests", async () => {
    const many = Array.from({ length: 230 }, (_, index) => `SN-MANY-${index}`);
    expect(cli.plan(["add", ...many]).map((call) => (call.body as { serials: string[] }).serials.length)).toEqual([100, 100, 30]);
    expect(await cli.main(["add", ...many], env)).toBe(0);
  });

  it("exits 1 when the API refuses: unknown serial, wrong state, wrong key", async () => {
    expect(await cli.main(["get", "SN-NOBODY"], env)).toBe(1);
    expect(console.error).toHaveBeenCalledWith(expect.stringContaining("404"));
    expect(await cli.main(["reset", "SN-CLI-1"], env)).toBe(1);
    expect(await cli.main(["add", "SN-CLI-3"], { ...env, SERIAL_API_KEY: "wrong" })).toBe(1);
    expect(console.error).toHaveBeenCalledWith(expect.stringContaining('403 {"message":"Forbidden"}'));
  });

  it.each([
    [["add"], /add takes one or more serials/],
    [["add", "sn_lower"], /not a serial/],
    [["get", "SN-1", "SN-2"], /get takes exactly one serial/],
    [["add", "SN-1", "--batch", "BAD BATCH"], /--batch takes a batch name/],
    [["frobnicate", "SN-1"], /usage: npm run serials/],
  ])("exits 2 on bad usage %j, sending nothing", async (args, message) => {
    const fetchSpy = jest.spyOn(global, "fetch");
    expect(await cli.main(args, env)).toBe(2);
    expect(console.error).toHaveBeenCalledWith(expect.stringMatching(message));
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("exits 2 without SERIAL_API_URL or SERIAL_API_KEY", async () => {
    expect(await cli.main(["get", "SN-1"], {})).toBe(2);
    expect(await cli.main(["get", "SN-1"], { SERIAL_API_URL: env.SERIAL_API_URL })).toBe(2);
  });

  it("runs as `npm run serials` and sets its exit code", async () => {
    const run = (args: string[]) =>
      promisify(execFile)("npm", ["run", "--silent", "serials", "--", ...args], { cwd: join(__dirname, ".."), env: { ...process.env, ...env } }).then(
        () => 0,
        (error: { code?: number }) => error.code ?? -1,
      );
    expect(await run(["add", "SN-PROCESS-1"])).toBe(0);
    expect(await run(["get", "SN-PROCESS-NOBODY"])).toBe(1);
    expect(await run(["add", "not_a_serial"])).toBe(2);
    // #8.5: the example a new user tries first.
    expect(await run(["add", "10000000abcdef01"])).toBe(0);
  }, 60_000);
});
