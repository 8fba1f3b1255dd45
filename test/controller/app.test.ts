import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectNames } from "../../contracts/names";
import { buildController } from "../../controller/build";
import { startLocalController, type LocalController } from "../../controller/local";
import { startLocalPlatform, type LocalPlatform } from "../../local/platform";
import { connect, fileCredentials } from "../helpers/iot-device";
import { startSimulatedAgents, type SimulatedAgent } from "../helpers/simulated-agent";
import { defaultConfig } from "../helpers/synth";

/**
 * The controller as a process against the local platform: identity and API token from the
 * Secrets Manager stand-in, MQTT over mutual TLS to the local IoT Core, devices simulated with the
 * real SDK, the device table in dynalite (written by the real presence handler and topic rule).
 * The process runs the esbuild bundle the image runs (controller/build.ts), with this machine's
 * aws-crt binary instead of the image's arm64 one.
 */
jest.setTimeout(90_000);

const names = projectNames(defaultConfig.project, defaultConfig.name);
let platform: LocalPlatform;
let controller: LocalController;
let agents: SimulatedAgent[];
let bundle: string;
/** Commands the "slow" device holds back, to answer after the caller gave up. */
const heldBack: string[] = [];

const api = (path: string, init: RequestInit & { token?: string | null } = {}) =>
  fetch(`${controller.url}${path}`, {
    ...init,
    headers: {
      ...(init.token === null ? {} : { authorization: `Bearer ${init.token ?? controller.apiToken}` }),
      ...(init.body ? { "content-type": "application/json" } : {}),
    },
  });
const command = (thingName: string, body: unknown) => api(`/devices/${thingName}/commands`, { method: "POST", body: JSON.stringify(body) });

beforeAll(async () => {
  platform = await startLocalPlatform({ config: defaultConfig, stateDirectory: mkdtempSync(join(tmpdir(), "controller-app-")) });
  agents = await startSimulatedAgents(platform, names.topicRoot, ["SN-CTRL-1", "SN-CTRL-2"], (received) => {
    if (received.action === "slow") {
      heldBack.push(received.id);
      return { silent: true };
    }
    if (received.action === "break") return { errorCode: "NOT_SUPPORTED", message: "no such output" };
    return { result: { pong: received.params } };
  });
  bundle = mkdtempSync(join(tmpdir(), "controller-bundle-"));
  await buildController(bundle, `${process.platform}-${process.arch}-glibc`);
  controller = await startLocalController(platform, defaultConfig, { entry: { kind: "bundle", path: join(bundle, "controller.js") }, env: { COMMAND_TIMEOUT_MS: "3000" } });
});

afterAll(async () => {
  await controller?.stop();
  await Promise.all((agents ?? []).map((agent) => agent.disconnect()));
  await platform?.stop();
  if (bundle) rmSync(bundle, { recursive: true, force: true });
});

describe("controller HTTP API over the local platform", () => {
  it("GET /healthz is 200 once MQTT is connected, without a token", async () => {
    const response = await api("/healthz", { token: null });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", mqtt: "connected" });
  });

  it("the image's HEALTHCHECK script (healthcheck.js of the bundle) exits 0 while /healthz is 200, 1 when nothing answers", async () => {
    const run = (port: string) =>
      new Promise<number | null>((resolve) => execFile(process.execPath, [join(bundle, "healthcheck.js")], { env: { PORT: port } }, (error) => resolve(error ? (error.code as number) : 0)));
    expect(await run(new URL(controller.url).port)).toBe(0);
    expect(await run("1")).toBe(1);
  });

  it("every other route needs the bearer token from Secrets Manager", async () => {
    const routes: [string, RequestInit][] = [
      ["/devices", {}],
      [`/devices/${agents[0]!.thingName}`, {}],
      [`/devices/${agents[0]!.thingName}/commands`, { method: "POST", body: JSON.stringify({ action: "ping" }) }],
    ];
    for (const [path, init] of routes) {
      expect((await api(path, { ...init, token: null })).status).toBe(401);
      expect((await api(path, { ...init, token: `${controller.apiToken}x` })).status).toBe(401);
    }
    expect(routes).toHaveLength(3);
    expect(agents[0]!.received).toHaveLength(0);
  });

  it("POST /devices/{thing}/commands publishes the command and returns the device's response", async () => {
    const [agent] = agents;
    const response = await command(agent!.thingName, { action: "ping", params: { n: 1 } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { commandId: string; status: string; response: { commandId: string; result: unknown } };
    expect(body).toMatchObject({ status: "completed", response: { commandId: body.commandId, result: { pong: { n: 1 } } } });
    expect(agent!.received.map((received) => received.id)).toEqual([body.commandId]);
    expect(agent!.received[0]).toMatchObject({ action: "ping", params: { n: 1 } });
  });

  it("a device error comes back as 502 with the device's error", async () => {
    const response = await command(agents[1]!.thingName, { action: "break" });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ status: "failed", error: { code: "NOT_SUPPORTED", message: "no such output" } });
  });

  it("no answer in time is 504 with the command id; the late answer is still logged and stored", async () => {
    const [agent] = agents;
    const response = await command(agent!.thingName, { action: "slow", timeoutMs: 300 });
    expect(response.status).toBe(504);
    const { commandId } = (await response.json()) as { commandId: string };
    expect(heldBack).toEqual([commandId]);

    await agent!.respond(commandId, { finally: true });
    const late = await controller.waitForLog((line) => line.event === "late-device-response" && line.commandId === commandId);
    expect(late).toMatchObject({ thingName: agent!.thingName, level: "warn" });
    // The responses topic rule (as in AWS) stores it as the device's last response.
    let device: any;
    for (let attempt = 0; attempt < 50; attempt += 1) {
      device = await (await api(`/devices/${agent!.thingName}`)).json();
      if (device.lastResponse?.commandId === commandId) break;
      await new Promise((resume) => setTimeout(resume, 50));
    }
    expect(device.lastResponse).toMatchObject({ commandId, result: { finally: true } });
  });

  it("GET /devices lists every device from the device table with presence and last seen", async () => {
    const response = await api("/devices");
    expect(response.status).toBe(200);
    const { devices } = (await response.json()) as { devices: { thingName: string; connected: boolean; lastSeenAt: string | null }[] };
    const ours = devices.filter((device) => agents.some((agent) => agent.thingName === device.thingName));
    expect(ours).toHaveLength(2);
    for (const device of ours) {
      expect(device.connected).toBe(true);
      expect(Date.parse(device.lastSeenAt!)).toBeGreaterThan(Date.now() - 120_000);
    }
  });

  it("bad input gets a clear 4xx and publishes nothing", async () => {
    const before = agents.map((agent) => agent.received.length);
    const cases: [string, unknown, number][] = [
      [agents[0]!.thingName, { action: "Not Valid" }, 400],
      [agents[0]!.thingName, { action: "ping", extra: 1 }, 400],
      [agents[0]!.thingName, { action: "ping", timeoutMs: 999_999 }, 400],
      ["bad%20thing", { action: "ping" }, 400],
    ];
    for (const [thing, body, status] of cases) {
      const response = await command(thing, body);
      expect(response.status).toBe(status);
      expect(((await response.json()) as { error: string }).error).toBeTruthy();
    }
    expect(cases).toHaveLength(4);
    expect((await api(`/devices/${agents[0]!.thingName}/commands`, { method: "POST", body: "{not json" })).status).toBe(400);
    expect((await api("/devices/nobody-here")).status).toBe(404);
    expect(agents.map((agent) => agent.received.length)).toEqual(before);
  });

  it("reconnects after IoT Core drops it, subscribes again, and commands work again", async () => {
    // IoT Core (and the local broker) disconnects a client when another connects with its client
    // id; this one also starts a clean session, so the controller's stored subscriptions are gone.
    const interloper = await connect(platform, fileCredentials(platform.controller), platform.controller.thingName);
    await interloper.disconnect();
    await controller.waitForLog((line) => line.event === "mqtt-interrupted");
    const resumed = await controller.waitForLog((line) => line.event === "mqtt-resumed", 30_000);
    expect(resumed).toMatchObject({ sessionPresent: false });
    let status = 0;
    for (let attempt = 0; attempt < 100 && status !== 200; attempt += 1) {
      status = (await api("/healthz", { token: null })).status;
      if (status !== 200) await new Promise((resume) => setTimeout(resume, 100));
    }
    expect(status).toBe(200);
    // Healthy again only after subscribing again: the first command gets its answer.
    expect(controller.logs.some((line) => line.event === "mqtt-resubscribed")).toBe(true);
    const response = await command(agents[1]!.thingName, { action: "ping", timeoutMs: 2000 });
    expect(response.status).toBe(200);
  });

  it("on SIGTERM it refuses new commands, drains the in-flight one, then disconnects and exits 0", async () => {
    const [agent] = agents;
    const heldBefore = heldBack.length;
    const inFlight = command(agent!.thingName, { action: "slow", timeoutMs: 5000 });
    for (let attempt = 0; heldBack.length === heldBefore && attempt < 100; attempt += 1) await new Promise((resume) => setTimeout(resume, 20));
    const commandId = heldBack[heldBefore]!;
    expect(commandId).toBeDefined();
    controller.process.kill("SIGTERM");
    await controller.waitForLog((line) => line.event === "shutdown-started");
    // New commands are refused while draining (the listener may already be closed: then the connection fails).
    const refused = await command(agent!.thingName, { action: "ping" }).then((late) => late.status, () => "connection refused");
    expect([503, "connection refused"]).toContain(refused);
    await agent!.respond(commandId, { drained: true });
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ commandId, status: "completed" });
    expect(await controller.stop()).toBe(0);
    expect(controller.logs.find((line) => line.event === "shutdown-drained")).toMatchObject({ result: "drained", inFlight: 0 });
  });
});
