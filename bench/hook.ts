/**
 * npm run bench:hook — how long the pre-provisioning hook takes to answer, over 1,000 local
 * invocations of its bundled code against dynalite, next to AWS IoT's 5-second limit. Half allow
 * (a registered serial: one conditional write), half deny (an unknown serial: the write's condition
 * fails, then one read says why).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { unzipSync } from "fflate";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bundleFunction } from "../modules/function-bundle";
import { startAwsStandIn } from "../local/aws-services";
import { synthAll } from "../local/testing/synth";
import { createTablesFromStack } from "../local/tables";

const INVOCATIONS = Number(process.env.BENCH_INVOCATIONS ?? 1000);
const LIMIT_MS = 5000;
const CLAIM = "0123456789abcdef".repeat(4);

async function main() {
  const aws = await startAwsStandIn();
  await createTablesFromStack(synthAll()["iot-fleet"], aws.env.AWS_ENDPOINT_URL_DYNAMODB!);
  Object.assign(process.env, aws.env, {
    SERIAL_TABLE: "smarthome-dev-serials",
    ACTIVE_CLAIM_CERTIFICATES: JSON.stringify([{ batch: "bench", certificateId: CLAIM }]),
    THING_NAME_PREFIX: "smarthome-dev",
    POWERTOOLS_LOG_LEVEL: "SILENT",
  });

  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: aws.env.AWS_ENDPOINT_URL_DYNAMODB }));
  const registered = Array.from({ length: INVOCATIONS / 2 }, (_, index) => `SN-BENCH-${index}`);
  const now = new Date().toISOString();
  for (let start = 0; start < registered.length; start += 25) {
    await documents.send(
      new BatchWriteCommand({
        RequestItems: {
          "smarthome-dev-serials": registered.slice(start, start + 25).map((serial) => ({ PutRequest: { Item: { serial, status: "registered", registeredAt: now, updatedAt: now } } })),
        },
      }),
    );
  }

  const bundle = bundleFunction(join(__dirname, "..", "functions", "provisioning-hook", "index.ts"));
  const directory = join(__dirname, "..", ".build", "bench-hook");
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, "index.js"), unzipSync(readFileSync(bundle.zipPath))["index.js"]!);
  const { handler } = require(join(directory, "index.js")) as { handler: (event: unknown) => Promise<{ allowProvisioning: boolean }> };

  const event = (serial: string) => ({
    claimCertificateId: CLAIM,
    certificateId: "f".repeat(64),
    certificatePem: "-----BEGIN CERTIFICATE-----",
    templateArn: "arn:aws:iot:eu-west-1:123456789012:provisioningtemplate/smarthome-dev-fleet",
    clientId: "provisioning-smarthome-dev-bench",
    parameters: { SerialNumber: serial },
  });
  await handler(event("SN-WARMUP")); // the first call pays for connections, like a cold container

  const timings: Record<"allow" | "deny", number[]> = { allow: [], deny: [] };
  for (let index = 0; index < INVOCATIONS; index += 1) {
    const allow = index % 2 === 0;
    const serial = allow ? registered[index / 2]! : `SN-UNKNOWN-${index}`;
    const started = process.hrtime.bigint();
    const answer = await handler(event(serial));
    timings[allow ? "allow" : "deny"].push(Number(process.hrtime.bigint() - started) / 1e6);
    if (answer.allowProvisioning !== allow) throw new Error(`${serial}: expected ${allow ? "allow" : "deny"}`);
  }

  const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;
  const all = [...timings.allow, ...timings.deny];
  console.log(`bench:hook — ${INVOCATIONS} invocations of the bundled hook against dynalite, ${new Date().toISOString()}, node ${process.version}`);
  console.log("");
  console.log(`${"answer".padEnd(8)} ${"n".padStart(5)} ${"median ms".padStart(10)} ${"p95 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"max ms".padStart(8)}`);
  for (const [label, values] of [["allow", timings.allow], ["deny", timings.deny], ["all", all]] as const) {
    console.log(
      `${label.padEnd(8)} ${String(values.length).padStart(5)} ${percentile(values, 50).toFixed(2).padStart(10)} ${percentile(values, 95).toFixed(2).padStart(8)} ${percentile(values, 99).toFixed(2).padStart(8)} ${Math.max(...values).toFixed(2).padStart(8)}`,
    );
  }
  const median = percentile(all, 50);
  console.log("");
  console.log(`AWS IoT's limit: ${LIMIT_MS} ms. Median ${median.toFixed(2)} ms = ${((median / LIMIT_MS) * 100).toFixed(3)} % of it; max ${Math.max(...all).toFixed(2)} ms.`);
  documents.destroy();
  await aws.close();
  process.exit(Math.max(...all) < LIMIT_MS ? 0 : 1);
}

void main();
