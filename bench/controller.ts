/**
 * npm run bench:controller — the controller as its image runs it (the esbuild bundle of
 * controller/build.ts, as its own process) on the local platform, with 50 simulated agents
 * (real SDK, mutual TLS) answering every command:
 * 1. command round trips through the HTTP API (HTTP → controller → IoT → agent → response →
 *    HTTP): p50/p99 over 500 sequential commands, spread over the 50 agents;
 * 2. baseline in the same run: the same commands published directly over MQTT with the
 *    controller's identity (after the controller process stopped: one client id, one connection);
 * 3. controller RSS: sampled every 100 ms during the round trips and after, steady = the median
 *    of the last 30 samples.
 *
 * Goals (issue 12): p99 <= 50 ms through the API; RSS <= 96 MB steady.
 */
import { mqtt } from "aws-iot-device-sdk-v2";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { environments, parseEnvironment } from "../config";
import { projectNames } from "../contracts/names";
import { deviceTopics } from "../contracts/topics";
import { buildController } from "../controller/build";
import { startLocalController } from "../controller/local";
import { startLocalPlatform } from "../local/platform";
import { connect, fileCredentials } from "../local/testing/iot-device";
import { startSimulatedAgents } from "../local/testing/simulated-agent";

const AGENTS = 50;
const ROUND_TRIPS = 500;
const WARMUP = 50;
const GOALS = { p99Ms: 50, rssMb: 96 };

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

async function main() {
  process.env.POWERTOOLS_LOG_LEVEL = "ERROR";
  const config = parseEnvironment(environments.dev);
  const names = projectNames(config.project, config.name);
  const topics = deviceTopics(names.topicRoot);
  const scratch = mkdtempSync(join(tmpdir(), "bench-controller-"));
  const platform = await startLocalPlatform({ config, stateDirectory: join(scratch, "platform") });
  const serials = Array.from({ length: AGENTS }, (_, index) => `SN-BENCHCTL-${index}`);
  const agents = await startSimulatedAgents(platform, names.topicRoot, serials, (command) => ({ result: { ok: true, action: command.action } }));
  await buildController(join(scratch, "bundle"), `${process.platform}-${process.arch}-glibc`);
  const controller = await startLocalController(platform, config, { entry: { kind: "bundle", path: join(scratch, "bundle", "controller.js") } });
  const pid = controller.process.pid!;

  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(rssMb(pid)), 100);
  const viaApi = async (trip: number) => {
    const started = process.hrtime.bigint();
    const response = await fetch(`${controller.url}/devices/${agents[trip % AGENTS]!.thingName}/commands`, {
      method: "POST",
      headers: { authorization: `Bearer ${controller.apiToken}`, "content-type": "application/json" },
      body: JSON.stringify({ action: "ping", params: { trip } }),
    });
    if (response.status !== 200) throw new Error(`round trip ${trip}: HTTP ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  for (let trip = 0; trip < WARMUP; trip += 1) await viaApi(trip);
  const api: number[] = [];
  for (let trip = 0; trip < ROUND_TRIPS; trip += 1) api.push(await viaApi(trip));
  api.sort((a, b) => a - b);
  // Idle for 3 s after the load: the steady state.
  await new Promise((resume) => setTimeout(resume, 3000));
  clearInterval(sampler);
  const steady = samples.slice(-30).sort((a, b) => a - b);
  const steadyRss = percentile(steady, 50);
  const peakRss = Math.max(...samples);
  await controller.stop();

  // Baseline: the controller's identity straight over MQTT, the same agents answering.
  const direct = await connect(platform, fileCredentials(platform.controller), platform.controller.thingName);
  const waiting = new Map<string, () => void>();
  await direct.subscribe(topics.responses("+"), mqtt.QoS.AtLeastOnce, (_topic, payload) => {
    waiting.get((JSON.parse(Buffer.from(payload).toString("utf8")) as { commandId: string }).commandId)?.();
  });
  const viaMqtt = async (trip: number) => {
    const id = randomUUID();
    const now = Date.now();
    const command = { id, action: "ping", params: { trip }, sentAt: new Date(now).toISOString(), expiresAt: new Date(now + 5000).toISOString() };
    const started = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      waiting.set(id, resolve);
      void direct.publish(topics.commands(agents[trip % AGENTS]!.thingName), JSON.stringify(command), mqtt.QoS.AtLeastOnce);
    });
    waiting.delete(id);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  for (let trip = 0; trip < WARMUP; trip += 1) await viaMqtt(trip);
  const baseline: number[] = [];
  for (let trip = 0; trip < ROUND_TRIPS; trip += 1) baseline.push(await viaMqtt(trip));
  baseline.sort((a, b) => a - b);
  await direct.disconnect();
  await Promise.all(agents.map((agent) => agent.disconnect()));
  await platform.stop();
  rmSync(scratch, { recursive: true, force: true });

  const line = (label: string, sorted: number[]) =>
    `${label.padEnd(48)} p50 ${percentile(sorted, 50).toFixed(1).padStart(6)} ms   p99 ${percentile(sorted, 99).toFixed(1).padStart(6)} ms   max ${sorted.at(-1)!.toFixed(1).padStart(6)} ms`;
  console.log(`bench:controller — controller bundle as a process on the local platform, ${AGENTS} simulated agents, ${new Date().toISOString()}, node ${process.version}`);
  console.log("");
  console.log(line(`HTTP API round trip (${ROUND_TRIPS}, QoS 1)`, api));
  console.log(line(`baseline: direct MQTT (${ROUND_TRIPS}, QoS 1)`, baseline));
  console.log(`controller RSS: steady ${steadyRss.toFixed(1)} MB (median of the last 30 samples), peak ${peakRss.toFixed(1)} MB`);
  console.log("");
  const p99 = percentile(api, 99);
  const verdicts = [
    `p99 ${p99.toFixed(1)} ms ${p99 <= GOALS.p99Ms ? "<=" : ">"} ${GOALS.p99Ms} ms: ${p99 <= GOALS.p99Ms ? "met" : "NOT met"}`,
    `steady RSS ${steadyRss.toFixed(1)} MB ${steadyRss <= GOALS.rssMb ? "<=" : ">"} ${GOALS.rssMb} MB: ${steadyRss <= GOALS.rssMb ? "met" : "NOT met"}`,
  ];
  for (const verdict of verdicts) console.log(`goal ${verdict}`);
  if (p99 > GOALS.p99Ms || steadyRss > GOALS.rssMb) process.exitCode = 1;
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exit(1);
});
