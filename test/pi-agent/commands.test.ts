import { mkdtempSync } from "node:fs";
import { createServer, connect as tcpConnect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commandErrorCodes } from "../../contracts/commands";
import { projectNames } from "../../contracts/names";
import { startLocalPlatform, type LocalPlatform } from "../../local/platform";
import { Agent } from "../../pi-agent/agent";
import { defineHandler } from "../../pi-agent/commands/handler";
import { SimulatedGpio } from "../../pi-agent/commands/gpio";
import * as z from "zod/mini";
import { defaultConfig } from "../helpers/synth";
import { agentConfigFor, command, controllerFor, memoryLogger, registerSerials, until, type Controller } from "./fixtures";

/**
 * Commands end to end: the controller publishes through the local IoT Core over mutual TLS, the
 * agent answers on its responses or errors topic.
 */
jest.setTimeout(90_000);

let platform: LocalPlatform;
let controller: Controller;
const names = projectNames(defaultConfig.project, defaultConfig.name);
const stopped: Agent[] = [];

beforeAll(async () => {
  platform = await startLocalPlatform({ config: defaultConfig, stateDirectory: mkdtempSync(join(tmpdir(), "pi-agent-commands-")) });
  controller = await controllerFor(platform, names.topicRoot);
});

afterAll(async () => {
  await Promise.all(stopped.map((agent) => agent.stop()));
  await controller.close();
  await platform.stop();
});

const answersTo = (thingName: string, commandId: string) => controller.received.filter((message) => message.thingName === thingName && message.payload.commandId === commandId);

describe("pi agent: commands", () => {
  let agent: Agent;
  let thingName: string;
  const gpio = new SimulatedGpio();
  let executions = 0;

  beforeAll(async () => {
    await registerSerials(platform, "SN-CMD-1");
    const config = agentConfigFor(platform, defaultConfig, { serial: "SN-CMD-1", commandTimeoutMs: 500, gpio: { backend: "simulated", outputs: { "relay-1": 17 } } });
    agent = new Agent(config, {
      logger: memoryLogger().logger,
      gpio,
      handlers: [
        defineHandler({ action: "test.count", params: z.strictObject({}), run: async () => ({ executions: ++executions }) }),
        defineHandler({ action: "test.hang", params: z.strictObject({}), run: () => new Promise(() => undefined) }),
        defineHandler({ action: "test.throw", params: z.strictObject({}), run: async () => { throw new Error("relay 2 did not switch"); } }),
      ],
    });
    stopped.push(agent);
    await agent.start();
    thingName = agent.thingName!;
  });

  it("ping, get-state and set-output answer with their contract's result", async () => {
    await controller.send(thingName, command("c-ping", "ping"));
    await controller.send(thingName, command("c-set", "set-output", { output: "relay-1", on: true }));
    await controller.send(thingName, command("c-state", "get-state"));
    await until(() => answersTo(thingName, "c-state").length === 1);
    expect(answersTo(thingName, "c-ping")).toEqual([{ kind: "responses", thingName, at: expect.any(Number), payload: { commandId: "c-ping", result: { pong: true, uptimeSeconds: expect.any(Number) }, completedAt: expect.any(String) } }]);
    expect(answersTo(thingName, "c-set")[0]!.payload.result).toEqual({ output: "relay-1", on: true });
    expect(gpio.lines.get(17)).toBe(true);
    expect(answersTo(thingName, "c-state")[0]!.payload.result).toEqual({ thingName, agentVersion: "dev", uptimeSeconds: expect.any(Number), outputs: { "relay-1": true }, queuedMessages: expect.any(Number) });
  });

  it.each([
    ["malformed JSON", "{not json", undefined, commandErrorCodes.malformed],
    ["a payload that is not a command", JSON.stringify({ id: "c-bad", action: "ping" }), "c-bad", commandErrorCodes.malformed],
    ["an unknown action", command("c-unknown", "reboot.now"), "c-unknown", commandErrorCodes.unknown],
    ["params that do not match the action", command("c-params", "set-output", { output: "relay-1", on: "yes" }), "c-params", commandErrorCodes.invalidParams],
    ["an output that is not configured", command("c-nooutput", "set-output", { output: "relay-9", on: true }), "c-nooutput", commandErrorCodes.failed],
    ["an expired command", { ...command("c-expired", "ping"), sentAt: "2026-01-01T00:00:00Z", expiresAt: "2026-01-01T00:01:00Z" }, "c-expired", commandErrorCodes.expired],
    ["a handler that throws", command("c-throw", "test.throw"), "c-throw", commandErrorCodes.failed],
    ["a handler that hangs", command("c-hang", "test.hang"), "c-hang", commandErrorCodes.timeout],
  ])("%s gets exactly one error, and the agent stays up", async (_name, payload, commandId, code) => {
    const errorsBefore = controller.received.filter((message) => message.kind === "errors" && message.thingName === thingName).length;
    await controller.send(thingName, payload as never);
    await until(() => controller.received.filter((message) => message.kind === "errors" && message.thingName === thingName).length > errorsBefore);
    const probe = `probe-${code.toLowerCase()}-${errorsBefore}`;
    await controller.send(thingName, command(probe, "ping"));
    await until(() => answersTo(thingName, probe).length === 1);
    const errors = controller.received.filter((message) => message.kind === "errors" && message.thingName === thingName).slice(errorsBefore);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.payload).toEqual({ ...(commandId ? { commandId } : {}), code, message: expect.any(String), at: expect.any(String) });
    if (commandId) expect(controller.received.filter((message) => message.payload.commandId === commandId && message.kind === "responses")).toEqual([]);
  });

  it("a repeated command id gets the first result again without running twice", async () => {
    await controller.send(thingName, command("c-once", "test.count"));
    await controller.send(thingName, command("c-once", "test.count"));
    await until(() => answersTo(thingName, "c-once").length === 2);
    expect(answersTo(thingName, "c-once").map((message) => message.payload)).toEqual([
      { commandId: "c-once", result: { executions: 1 }, completedAt: expect.any(String) },
      { commandId: "c-once", result: { executions: 1 }, completedAt: answersTo(thingName, "c-once")[0]!.payload.completedAt },
    ]);
    expect(executions).toBe(1);
  });
});

/** A TCP relay between the agent and the broker that can be cut like a broker crash, and brought back. */
async function relayTo(port: number): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server;
  let listenPort = 0;
  const listen = () =>
    new Promise<void>((done) => {
      server = createServer((client) => {
        const upstream = tcpConnect(port, "127.0.0.1");
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on("error", () => undefined);
          socket.on("close", () => sockets.delete(socket));
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(listenPort, "127.0.0.1", () => {
        listenPort = (server.address() as AddressInfo).port;
        done();
      });
    });
  const cut = async () => {
    await new Promise<void>((done) => {
      server.close(() => done());
      for (const socket of sockets) socket.resetAndDestroy();
    });
  };
  await listen();
  return { port: listenPort, cut, restore: listen, close: cut };
}

describe("pi agent: nothing lost", () => {
  // QoS 1 is at-least-once: a response published as the link is cut may arrive while its PUBACK is
  // lost, and the outbox then sends it again (MQTT 3.1.1 §4.3.2). What the agent guarantees is one
  // execution per command and the same answer every time, so a repeat is byte-identical.
  it("the broker dies mid-stream: after it is back every command is answered, once per execution, repeats identical", async () => {
    await registerSerials(platform, "SN-CMD-OUTAGE");
    const relay = await relayTo(platform.mqtt.port);
    const { logger, lines } = memoryLogger();
    const agent = new Agent(agentConfigFor(platform, defaultConfig, { serial: "SN-CMD-OUTAGE", port: relay.port, backoff: { initialMs: 100, maxMs: 1000 } }), { logger });
    stopped.push(agent);
    await agent.start();
    const thingName = agent.thingName!;
    const ids = Array.from({ length: 60 }, (_, index) => `s-${index}`);
    for (const [index, id] of ids.entries()) {
      await controller.send(thingName, command(id, "ping"));
      if (index === 20) await relay.cut(); // the rest is sent while the device cannot reach IoT Core
      await new Promise((resume) => setTimeout(resume, 10));
    }
    await until(() => lines.some((line) => line.message === "connection interrupted"));
    await new Promise((resume) => setTimeout(resume, 500));
    await relay.restore();
    await until(() => ids.every((id) => answersTo(thingName, id).length >= 1), 30_000, "every response");
    await new Promise((resume) => setTimeout(resume, 500)); // room for a duplicate to show up
    for (const id of ids) {
      const answers = answersTo(thingName, id).map((message) => JSON.stringify(message.payload));
      expect(answers.length).toBeGreaterThanOrEqual(1);
      expect(new Set(answers).size).toBe(1);
    }
    const firstAnswers = [...new Set(controller.received.filter((message) => message.thingName === thingName).map((message) => message.payload.commandId))];
    expect(firstAnswers).toEqual(ids);
    expect(controller.received.filter((message) => message.thingName === thingName && message.kind === "errors")).toEqual([]);
    expect(lines.some((line) => line.message === "connection resumed")).toBe(true);
    await relay.close();
  });
});
