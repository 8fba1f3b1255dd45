import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as z from "zod/mini";
import { commandSchema } from "../contracts/messages";
import type { CommandBroker } from "./commands";
import type { DeviceView } from "./devices";
import type { Log } from "./log";

/** AWS IoT thing names: 1-128 of `[a-zA-Z0-9:_-]`. */
export const THING_NAME_PATTERN = /^[a-zA-Z0-9:_-]{1,128}$/;
/** Largest request body read; a command is a few hundred bytes. */
const MAX_BODY_BYTES = 64 * 1024;
/** Longest wait a caller may ask for. */
export const MAX_COMMAND_TIMEOUT_MS = 30_000;

/** The body of POST /devices/{thing}/commands: the command's own fields from contracts/messages.ts. */
export const commandRequestSchema = z.strictObject({
  action: commandSchema.shape.action,
  params: z.optional(z.record(z.string(), z.unknown())),
  /** How long to wait for the device. @default the controller's COMMAND_TIMEOUT_MS */
  timeoutMs: z.optional(z.number().check(z.int(), z.positive(), z.maximum(MAX_COMMAND_TIMEOUT_MS))),
});

export interface ApiDependencies {
  readonly apiToken: string;
  readonly commands: CommandBroker;
  readonly devices: { list(): Promise<DeviceView[]>; get(thingName: string): Promise<DeviceView | undefined> };
  readonly isConnected: () => boolean;
  /** False once shutdown began: new commands get 503. */
  readonly isAccepting: () => boolean;
  readonly defaultTimeoutMs: number;
  readonly log: Log;
}

/** Constant time for any token length: both sides are hashed to 32 bytes before comparing. */
export function tokenMatches(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The controller's HTTP API as a request listener for `node:http`. */
export function createApiHandler(deps: ApiDependencies): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const started = process.hrtime.bigint();
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body));
      deps.log("http-request", { method: request.method, path: request.url?.split("?")[0], status, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    };
    route(deps, request).then(
      ([status, body]) => send(status, body),
      (error: Error) => {
        if (error instanceof HttpError) return send(error.status, { error: error.message, ...error.extra });
        deps.log("http-error", { method: request.method, path: request.url, error: error.message }, "error");
        send(500, { error: "internal error" });
      },
    );
  };
}

async function route(deps: ApiDependencies, request: IncomingMessage): Promise<[number, unknown]> {
  const path = new URL(request.url ?? "/", "http://controller").pathname;
  const method = request.method ?? "GET";
  if (path === "/healthz") {
    if (method !== "GET") throw new HttpError(405, "use GET");
    return deps.isConnected() ? [200, { status: "ok", mqtt: "connected" }] : [503, { status: "unavailable", mqtt: "disconnected" }];
  }
  const authorization = request.headers.authorization ?? "";
  const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
  if (!token || !tokenMatches(token, deps.apiToken)) throw new HttpError(401, "missing or wrong bearer token");

  if (path === "/devices") {
    if (method !== "GET") throw new HttpError(405, "use GET");
    return [200, { devices: await deps.devices.list() }];
  }
  const device = /^\/devices\/([^/]+)(\/commands)?$/.exec(path);
  if (!device) throw new HttpError(404, `no route ${method} ${path}`);
  const thingName = decodeURIComponent(device[1]!);
  if (!THING_NAME_PATTERN.test(thingName)) throw new HttpError(400, `"${thingName}" is not a thing name (${THING_NAME_PATTERN})`);
  if (!device[2]) {
    if (method !== "GET") throw new HttpError(405, "use GET");
    const found = await deps.devices.get(thingName);
    if (!found) throw new HttpError(404, `no device ${thingName}`);
    return [200, found];
  }
  if (method !== "POST") throw new HttpError(405, "use POST");
  if (!deps.isAccepting()) throw new HttpError(503, "shutting down");
  if (!deps.isConnected()) throw new HttpError(503, "not connected to AWS IoT Core");
  const parsed = commandRequestSchema.safeParse(await readJson(request));
  if (!parsed.success) {
    throw new HttpError(400, "invalid command", { issues: parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })) });
  }
  const { timeoutMs, ...command } = parsed.data;
  const outcome = await deps.commands.send(thingName, command, timeoutMs ?? deps.defaultTimeoutMs).catch((error: Error) => {
    throw new HttpError(503, `could not publish the command: ${error.message}`);
  });
  switch (outcome.status) {
    case "completed":
      return [200, { commandId: outcome.commandId, status: "completed", response: outcome.response }];
    case "failed":
      return [502, { commandId: outcome.commandId, status: "failed", error: outcome.error }];
    case "timeout":
      return [504, { commandId: outcome.commandId, status: "timeout", error: "the device did not answer in time; a later answer is logged and stored in the device table" }];
  }
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/.test(request.headers["content-type"] ?? "")) throw new HttpError(415, "send content-type: application/json");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "body is not JSON");
  }
}
