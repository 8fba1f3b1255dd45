import { iot, mqtt } from "aws-iot-device-sdk-v2";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EnvironmentConfig } from "../../config";
import type { CommandInput } from "../../contracts/messages";
import { deviceTopics } from "../../contracts/topics";
import type { LocalPlatform } from "../../local/platform";
import { parseAgentConfig, type AgentConfig, type AgentConfigInput } from "../config";

/** Pieces shared by the simulator, the benchmark and the tests: agents and a controller on the local platform. */

/** An agent config against the local platform, with its own state directory and its own copy of the batch claim (the agent deletes its claim once provisioned). */
export function agentConfigFor(platform: LocalPlatform, environment: EnvironmentConfig, overrides: Partial<AgentConfigInput> = {}, parent = tmpdir()): AgentConfig {
  const directory = mkdtempSync(join(parent, "pi-agent-"));
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

/** Registers serials through the serial API, as CI does. */
export async function registerSerials(platform: LocalPlatform, ...serials: string[]): Promise<void> {
  const response = await fetch(`${platform.api.url}/serials`, {
    method: "POST",
    headers: { "x-api-key": platform.api.key, "content-type": "application/json" },
    body: JSON.stringify({ serials }),
  });
  if (response.status !== 200) throw new Error(`registering ${serials.join(", ")}: ${response.status} ${await response.text()}`);
}

/** A command valid for `lifetimeMs` from now. */
export function command(id: string, action: string, params: Record<string, unknown> = {}, lifetimeMs = 60_000): CommandInput {
  const now = Date.now();
  return { id, action, params, sentAt: new Date(now).toISOString(), expiresAt: new Date(now + lifetimeMs).toISOString() };
}

export interface ReceivedMessage {
  readonly kind: "responses" | "errors";
  readonly thingName: string;
  readonly payload: Record<string, any>;
  /** performance.now() when it arrived. */
  readonly at: number;
}

/** The controller as the real SDK client over mutual TLS: sends commands, collects every response and error. */
export interface Controller {
  readonly received: ReceivedMessage[];
  send(thingName: string, payload: CommandInput | string): Promise<void>;
  /** Called with every message as it arrives. */
  onMessage(listener: (message: ReceivedMessage) => void): void;
  close(): Promise<void>;
}

export async function controllerFor(platform: LocalPlatform, topicRoot: string): Promise<Controller> {
  const topics = deviceTopics(topicRoot);
  const built = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(readFileSync(platform.controller.certificatePath, "utf8"), readFileSync(platform.controller.privateKeyPath, "utf8"))
    .with_certificate_authority(readFileSync(platform.mqtt.caPath, "utf8"))
    .with_endpoint("localhost")
    .with_port(platform.mqtt.port)
    .with_client_id(platform.controller.thingName)
    .with_clean_session(true)
    .with_keep_alive_seconds(30)
    .build();
  const connection = new mqtt.MqttClient().new_connection(built);
  await connection.connect();
  const received: ReceivedMessage[] = [];
  const listeners: ((message: ReceivedMessage) => void)[] = [];
  for (const kind of ["responses", "errors"] as const) {
    await connection.subscribe(topics[kind]("+"), mqtt.QoS.AtLeastOnce, (topic, payload) => {
      const message = { kind, thingName: topic.split("/").at(-2)!, payload: JSON.parse(Buffer.from(payload).toString("utf8")), at: performance.now() };
      received.push(message);
      for (const listener of listeners) listener(message);
    });
  }
  return {
    received,
    send: async (thingName, payload) => {
      await connection.publish(topics.commands(thingName), typeof payload === "string" ? payload : JSON.stringify(payload), mqtt.QoS.AtLeastOnce);
    },
    onMessage: (listener) => void listeners.push(listener),
    close: () => connection.disconnect().then(() => undefined),
  };
}
