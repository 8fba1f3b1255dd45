/**
 * npm run bench:functions — for each Lambda: the bundle's size, and the time to load it and serve a
 * first event in a fresh Node process (a local cold start), beside the same figures for the
 * unbundled build (each TypeScript file transpiled on its own, packages from node_modules), in the
 * same run. AWS calls go to dynalite and the local stand-in, on loopback.
 *
 * Goal: each bundle <= 500 KB unzipped, and loads and answers a first event in <= 300 ms.
 */
import { buildSync } from "esbuild";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { unzipSync } from "fflate";
import { readFileSync } from "node:fs";
import { bundleFunction, ESBUILD_TARGET } from "../modules/function-bundle";
import { startAwsStandIn } from "../local/aws-services";
import { createTablesFromStack } from "../local/tables";
import { synthAll } from "../local/testing/synth";

const root = join(__dirname, "..");
const runs = Number(process.env.BENCH_RUNS ?? 5);
const LIMIT_BYTES = 500 * 1024;
const LIMIT_MS = 300;

/** Transpiles every TypeScript file the functions can import, file by file, keeping the layout. */
function buildUnbundled(outputDirectory: string): void {
  const sources = ["functions", "contracts"].flatMap((folder) =>
    readdirSync(join(root, folder), { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".ts"))
      .map((file) => join(root, folder, file)),
  );
  buildSync({ entryPoints: sources, outdir: outputDirectory, outbase: root, bundle: false, platform: "node", format: "cjs", target: ESBUILD_TARGET, logLevel: "silent" });
}

interface Sample {
  loadMs: number;
  firstEventMs: number;
  loadedBytes: number;
  modules: number;
}

/** Async on purpose: the stand-in services answer from this process while the child runs. */
function coldStart(modulePath: string, event: unknown, env: Record<string, string>): Promise<Sample> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(__dirname, "first-event.cjs"), modulePath, JSON.stringify(event)], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 30_000,
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (status, signal) => {
      const line = stderr.split("\n").find((text) => text.startsWith("BENCH_REPORT "));
      const report = line ? JSON.parse(line.slice("BENCH_REPORT ".length)) : { error: `no report (status ${status}, ${signal ?? "no signal"}): ${stderr.slice(-1000)}` };
      if (status !== 0 || report.error) fail(new Error(`${modulePath} failed: ${report.error}`));
      else done(report as Sample);
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main() {
  const aws = await startAwsStandIn();
  const webhook = createServer((request, response) => request.resume().on("end", () => response.writeHead(200).end("ok")));
  await new Promise<void>((done) => webhook.listen(0, "127.0.0.1", () => done()));
  aws.secrets.set("bench/slack", `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`);
  await createTablesFromStack(synthAll().iot, aws.env.AWS_ENDPOINT_URL_DYNAMODB!);
  await createTablesFromStack(synthAll()["iot-fleet"], aws.env.AWS_ENDPOINT_URL_DYNAMODB!);

  const baseEnv = {
    ...aws.env,
    AWS_LAMBDA_FUNCTION_NAME: "bench",
    DEVICE_TABLE: "smarthome-dev-devices",
    ALERTS_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:smarthome-dev-alerts",
    PRESENCE_CHECK_QUEUE_URL: `${aws.env.AWS_ENDPOINT_URL_SQS}/123456789012/smarthome-dev-presence-checks`,
    OFFLINE_GRACE_SECONDS: "300",
    DAILY_DIGEST: "false",
    SLACK_WEBHOOK_SECRET_ID: "bench/slack",
    SERIAL_TABLE: "smarthome-dev-serials",
    ACTIVE_CLAIM_CERTIFICATES: JSON.stringify([{ batch: "bench", certificateId: "0".repeat(64) }]),
    THING_NAME_PREFIX: "smarthome-dev",
  };
  let version = 0;
  const events: Record<string, () => unknown> = {
    "device-presence": () => ({
      clientId: "smarthome-dev-BENCH1",
      timestamp: 1_700_000_000_000 + ++version * 1000,
      eventType: "connected",
      sessionIdentifier: `s-${version}`,
      principalIdentifier: "12345678901234567890123456789012",
      ipAddress: "192.0.2.0",
      versionNumber: version,
    }),
    "daily-check": () => ({}),
    "alert-formatter": () => ({ Records: [{ EventSource: "aws:sns", Sns: { MessageId: "m-1", Message: JSON.stringify({ code: "BENCH", message: "bench", at: "2026-11-27T10:00:00Z", thingName: "t" }) } }] }),
    "provisioning-hook": () => ({
      claimCertificateId: "0".repeat(64),
      certificateId: "f".repeat(64),
      certificatePem: "-----BEGIN CERTIFICATE-----",
      templateArn: "arn:aws:iot:eu-west-1:123456789012:provisioningtemplate/smarthome-dev-fleet",
      clientId: "provisioning-smarthome-dev-bench",
      parameters: { SerialNumber: `SN-UNKNOWN-${++version}` },
    }),
    "serial-api": () => ({ httpMethod: "GET", resource: "/serials/{serial}", path: "/serials/SN-BENCH", pathParameters: { serial: "SN-BENCH" }, body: null }),
  };

  const scratch = join(root, ".build", "bench-functions");
  rmSync(scratch, { recursive: true, force: true });
  const unbundledDirectory = join(scratch, "unbundled");
  buildUnbundled(unbundledDirectory);

  console.log(`bench:functions — median of ${runs} cold starts per build, ${new Date().toISOString()}, node ${process.version}`);
  console.log("");
  console.log(`${"function".padEnd(17)} ${"build".padEnd(10)} ${"code KB".padStart(8)} ${"load ms".padStart(8)} ${"1st event ms".padStart(13)} ${"modules".padStart(8)}`);
  const verdicts: [string, boolean][] = [];
  for (const name of Object.keys(events)) {
    const bundle = bundleFunction(join(root, "functions", name, "index.ts"), join(scratch, "bundles"));
    const bundled = join(scratch, "bundled", name, "index.js");
    mkdirSync(join(scratch, "bundled", name), { recursive: true });
    writeFileSync(bundled, unzipSync(readFileSync(bundle.zipPath))["index.js"]!);
    const unbundled = join(unbundledDirectory, "functions", name, "index.js");

    for (const [label, modulePath, codeBytes] of [
      ["bundled", bundled, bundle.codeBytes],
      ["unbundled", unbundled, undefined],
    ] as const) {
      const make = events[name]!;
      const samples: Sample[] = [];
      for (let run = 0; run < runs; run += 1) samples.push(await coldStart(modulePath, make(), baseEnv));
      const bytes = codeBytes ?? median(samples.map((s) => s.loadedBytes));
      const firstEvent = median(samples.map((s) => s.firstEventMs));
      console.log(
        `${name.padEnd(17)} ${label.padEnd(10)} ${(bytes / 1024).toFixed(0).padStart(8)} ${median(samples.map((s) => s.loadMs)).toFixed(0).padStart(8)} ${firstEvent.toFixed(0).padStart(13)} ${String(median(samples.map((s) => s.modules))).padStart(8)}`,
      );
      if (label === "bundled") {
        verdicts.push([`${name}: ${(bytes / 1024).toFixed(0)} KB <= 500 KB`, bytes <= LIMIT_BYTES]);
        verdicts.push([`${name}: first event in ${firstEvent.toFixed(0)} ms <= ${LIMIT_MS} ms`, firstEvent <= LIMIT_MS]);
      }
    }
  }
  console.log("");
  for (const [goal, met] of verdicts) console.log(`${met ? "met    " : "MISSED "} ${goal}`);
  console.log(`(unbundled "code KB" is what the process loaded from disk; files under ${relative(root, scratch)})`);

  await aws.close();
  webhook.close();
  process.exitCode = verdicts.every(([, met]) => met) ? 0 : 1;
}

void main();
