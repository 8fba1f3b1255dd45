import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { EnvironmentConfig } from "../config";
import type { ControllerIdentity } from "../contracts/controller-identity";
import { projectNames } from "../contracts/names";
import type { LocalPlatform } from "../local/platform";

/** How the controller process starts: the TypeScript source through tsx, or a bundle (the image's). */
export type ControllerEntry = { readonly kind: "source" } | { readonly kind: "bundle"; readonly path: string; readonly env?: Record<string, string> };

export interface LocalController {
  readonly url: string;
  readonly apiToken: string;
  readonly process: ChildProcess;
  /** Every JSON log line the controller wrote so far. */
  readonly logs: Record<string, unknown>[];
  /** Resolves with the first log line matching, or rejects after `timeoutMs`. */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

/**
 * The controller as its own process against the local platform, as on the instance: its identity
 * and API token are put into the local Secrets Manager stand-in under the names the stacks use,
 * and the process reads them from there over the Secrets Manager wire protocol.
 */
export async function startLocalController(
  platform: LocalPlatform,
  config: EnvironmentConfig,
  options: { port?: number; entry?: ControllerEntry; env?: Record<string, string> } = {},
): Promise<LocalController> {
  const names = projectNames(config.project, config.name);
  const identity: ControllerIdentity = {
    thingName: platform.controller.thingName,
    endpoint: "localhost",
    certificatePem: readFileSync(platform.controller.certificatePath, "utf8"),
    privateKey: readFileSync(platform.controller.privateKeyPath, "utf8"),
    caPem: readFileSync(platform.mqtt.caPath, "utf8"),
  };
  const apiToken = randomBytes(32).toString("base64url");
  platform.services.secrets.set(names.controllerSecret, JSON.stringify(identity));
  platform.services.secrets.set(names.controllerApiTokenSecret, apiToken);

  const entry = options.entry ?? { kind: "source" };
  const args = entry.kind === "source" ? ["--import", "tsx", join(__dirname, "main.ts")] : [entry.path];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH ?? "",
      ...platform.services.env,
      ...(entry.kind === "bundle" ? entry.env : {}),
      CONTROLLER_SECRET_ID: names.controllerSecret,
      CONTROLLER_API_TOKEN_SECRET_ID: names.controllerApiTokenSecret,
      DEVICE_TABLE_NAME: names.deviceTable,
      TOPIC_ROOT: names.topicRoot,
      IOT_PORT: String(platform.mqtt.port),
      HOST: "127.0.0.1",
      PORT: String(options.port ?? 0),
      ...options.env,
    },
  });
  const logs: Record<string, unknown>[] = [];
  const watchers = new Set<(line: Record<string, unknown>) => void>();
  createInterface({ input: child.stdout! }).on("line", (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      line = { event: "non-json-output", text };
    }
    logs.push(line);
    for (const watcher of watchers) watcher(line);
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const waitForLog = (predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 20_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const found = logs.find(predicate);
      if (found) return resolve(found);
      const timer = setTimeout(() => {
        watchers.delete(watcher);
        reject(new Error(`controller did not log the expected line in ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
      }, timeoutMs);
      const watcher = (line: Record<string, unknown>) => {
        if (!predicate(line)) return;
        clearTimeout(timer);
        watchers.delete(watcher);
        resolve(line);
      };
      watchers.add(watcher);
      void exited.then((code) => {
        if (!watchers.has(watcher)) return;
        clearTimeout(timer);
        watchers.delete(watcher);
        reject(new Error(`controller exited (${code}) before logging the expected line; stderr: ${stderr.slice(-2000)}; logs: ${JSON.stringify(logs.slice(-5))}`));
      });
    });

  const listening = await waitForLog((line) => line.event === "listening");
  return {
    url: `http://127.0.0.1:${listening.port}`,
    apiToken,
    process: child,
    logs,
    waitForLog,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}
