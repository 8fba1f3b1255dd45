import { mqtt } from "aws-iot-device-sdk-v2";
import { copyFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EnvironmentConfig } from "../../config";
import type { CommandInput } from "../../contracts/messages";
import { deviceTopics } from "../../contracts/topics";
import type { LocalPlatform } from "../../local/platform";
import { parseAgentConfig, type AgentConfig, type AgentConfigInput } from "../../pi-agent/config";
import { createLogger, type Logger } from "../../pi-agent/log";
import { connect, fileCredentials } from "../helpers/iot-device";

/** Log lines an agent wrote, parsed, for assertions. */
export function memoryLogger(): { logger: Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  return { logger: createLogger({}, (line) => void lines.push(JSON.parse(line))), lines };
}

/**
 * An agent config against the local platform, with its own state directory and its own copy of the
 * batch claim (the agent deletes its claim once provisioned).
 */
export function agentConfigFor(platform: LocalPlatform, environment: EnvironmentConfig, overrides: Partial<AgentConfigInput> = {}): AgentConfig {
  const directory = mkdtempSync(join(tmpdir(), "pi-agent-"));
  const claimDirectory = join(directory, "claim");
  mkdirSync(claimDirectory, { mode: 0o700 });
  const claim = { certificatePath: join(claimDirectory, "claim.pem"), privateKeyPath: join(claimDirectory, "claim.key") };
  copyFileSync(platform.claims[0]!.certificatePath, claim.certificatePath);
  copyFileSync(platform.claims[0]!.privateKeyPath, claim.privateKeyPath);
  return parseAgentConfig({
    endpoint: "localhost",
    port: platform.mqtt.port,
    caPath: platform.mqtt.caPath,
    claim,
    project: environment.project,
    environment: environment.name,
    stateDirectory: join(directory, "state"),
    keepAliveSeconds: 30,
    backoff: { initialMs: 100, maxMs: 2000 },
    ...overrides,
  });
}

export async function registerSerials(platform: LocalPlatform, ...serials: string[]): Promise<void> {
  const response = await fetch(`${platform.api.url}/serials`, {
    method: "POST",
    headers: { "x-api-key": platform.api.key, "content-type": "application/json" },
    body: JSON.stringify({ serials }),
  });
  if (response.status !== 200) throw new Error(`registering ${serials.join(", ")}: ${response.status} ${await response.text()}`);
}

export async function revokeSerial(platform: LocalPlatform, serial: string): Promise<void> {
  const response = await fetch(`${platform.api.url}/serials/${serial}`, { method: "DELETE", headers: { "x-api-key": platform.api.key } });
  if (response.status >= 300) throw new Error(`revoking ${serial}: ${response.status}`);
}

/** A command valid for a minute from now. */
export function command(id: string, action: string, params: Record<string, unknown> = {}, lifetimeMs = 60_000): CommandInput {
  const now = Date.now();
  return { id, action, params, sentAt: new Date(now).toISOString(), expiresAt: new Date(now + lifetimeMs).toISOString() };
}

/** The controller as the real SDK client: sends commands, collects every response and error. */
export interface Controller {
  readonly received: { kind: "responses" | "errors"; thingName: string; payload: Record<string, any> }[];
  send(thingName: string, payload: CommandInput | string): Promise<void>;
  close(): Promise<void>;
}

export async function controllerFor(platform: LocalPlatform, topicRoot: string): Promise<Controller> {
  const topics = deviceTopics(topicRoot);
  const connection = await connect(platform, fileCredentials(platform.controller), platform.controller.thingName);
  const received: Controller["received"] = [];
  for (const kind of ["responses", "errors"] as const) {
    await connection.subscribe(topics[kind]("+"), mqtt.QoS.AtLeastOnce, (topic, payload) => {
      received.push({ kind, thingName: topic.split("/").at(-2)!, payload: JSON.parse(Buffer.from(payload).toString("utf8")) });
    });
  }
  return {
    received,
    send: async (thingName, payload) => {
      await connection.publish(topics.commands(thingName), typeof payload === "string" ? payload : JSON.stringify(payload), mqtt.QoS.AtLeastOnce);
    },
    close: () => connection.disconnect(),
  };
}

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resume) => setTimeout(resume, 20));
  }
}
