/**
 * npm run serials -- <command> …   The serial API from CI or a terminal.
 *
 *   add SN123 [SN124 …] [--batch 2026-11-a]   register serials (re-adding one is fine; any case,
 *                                             sent uppercase: a Pi's 00000000b83c3c1b is fine)
 *   get SN123                                 show a serial
 *   reset SN123                               provisioned → registered (device may provision again)
 *   revoke SN123                              revoke for good (certificates revoked)
 *
 * Reads SERIAL_API_URL (the api stack's serial_api_url) and SERIAL_API_KEY. Exits 0 on success,
 * 1 when the API refuses or fails, 2 on bad usage (nothing is sent).
 */
import { canonicalSerial, SERIAL_PATTERN_ANY_CASE } from "../contracts/devices";
import { SERIAL_API, serialApiPath, type SerialApiRoute } from "../contracts/serial-api";
import { BATCH_PATTERN, MAX_SERIALS_PER_REQUEST } from "../contracts/serial-registry";

class UsageError extends Error {}

interface Call {
  method: SerialApiRoute["method"];
  path: string;
  body?: unknown;
}

/** The call of a route on one serial. */
const onSerial = (route: SerialApiRoute, serial: string): Call => ({ method: route.method, path: serialApiPath(route, { serial }) });

/** The API calls a command line stands for; throws UsageError on anything malformed. */
export function plan(args: readonly string[]): Call[] {
  const [command, ...rest] = args;
  const batchAt = rest.indexOf("--batch");
  const batch = batchAt >= 0 ? rest[batchAt + 1] : undefined;
  const written = batchAt >= 0 ? [...rest.slice(0, batchAt), ...rest.slice(batchAt + 2)] : rest;
  if (batchAt >= 0 && (command !== "add" || !batch || !BATCH_PATTERN.test(batch))) {
    throw new UsageError(`--batch takes a batch name matching ${BATCH_PATTERN.source}, with add only`);
  }
  // Serials are case-insensitive: a Pi's own lowercase serial is sent in its canonical form.
  const bad = written.filter((serial) => !SERIAL_PATTERN_ANY_CASE.test(serial));
  if (bad.length > 0) throw new UsageError(`not a serial (${SERIAL_PATTERN_ANY_CASE.source}, any case): ${bad.map((serial) => JSON.stringify(serial)).join(", ")}`);
  const serials = written.map(canonicalSerial);
  const one = () => {
    const [serial] = serials;
    if (serials.length !== 1 || serial === undefined) throw new UsageError(`${command} takes exactly one serial`);
    return serial;
  };
  switch (command) {
    case "add": {
      if (serials.length === 0) throw new UsageError("add takes one or more serials");
      const calls: Call[] = [];
      for (let start = 0; start < serials.length; start += MAX_SERIALS_PER_REQUEST) {
        const body = { serials: serials.slice(start, start + MAX_SERIALS_PER_REQUEST), ...(batch ? { batch } : {}) };
        calls.push({ method: SERIAL_API.registerSerials.method, path: serialApiPath(SERIAL_API.registerSerials, {}), body });
      }
      return calls;
    }
    case "get":
      return [onSerial(SERIAL_API.getSerial, one())];
    case "reset":
      return [onSerial(SERIAL_API.resetSerial, one())];
    case "revoke":
      return [onSerial(SERIAL_API.revokeSerial, one())];
    default:
      throw new UsageError("usage: npm run serials -- add|get|reset|revoke SERIAL… [--batch NAME]");
  }
}

export async function main(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let calls: Call[];
  try {
    if (!env.SERIAL_API_URL || !URL.canParse(env.SERIAL_API_URL)) throw new UsageError("set SERIAL_API_URL to the api stack's serial_api_url output");
    if (!env.SERIAL_API_KEY) throw new UsageError("set SERIAL_API_KEY (aws apigateway get-api-key --api-key <serial_api_key_id> --include-value)");
    calls = plan(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(error.message);
    return 2;
  }
  const base = env.SERIAL_API_URL.replace(/\/+$/, "");
  for (const call of calls) {
    let response: Response;
    try {
      response = await fetch(`${base}${call.path}`, {
        method: call.method,
        headers: { "x-api-key": env.SERIAL_API_KEY, "content-type": "application/json" },
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      console.error(`${call.method} ${call.path}: ${(error as Error).message}`);
      return 1;
    }
    const text = await response.text();
    if (!response.ok) {
      console.error(`${call.method} ${call.path}: ${response.status} ${text}`);
      return 1;
    }
    console.log(text);
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
