import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EnvironmentConfig } from "../../config";
import { projectNames } from "../../contracts/names";
import { MAX_SERIALS_PER_REQUEST } from "../../contracts/serial-registry";
import { startLocalPlatform } from "../../local/platform";
import { bundleAgent } from "../build";
import { startAgentProcess, type AgentProcess } from "./agent-process";
import { agentConfigFor, command, controllerFor, registerSerials } from "./fleet";

export interface SimOptions {
  readonly devices: number;
  readonly environment: EnvironmentConfig;
  /** Commands per device, sent one at a time round-robin over the devices. @default 10 */
  readonly rounds?: number;
}

export interface SimSummary {
  devices: number;
  provisioned: number;
  failures: number;
  /** From starting the agents to the last one subscribed to its commands. */
  provisioningMs: number;
  commands: number;
  responses: number;
  roundTripMs: { p50: number; p99: number; max: number };
  /** Largest peak RSS of one agent process (VmHWM), and the sum over all agents. */
  peakAgentRssMb: number;
  peakFleetRssMb: number;
  /** Peak RSS of the process running the platform and the controller. */
  peakPlatformRssMb: number;
}

/**
 * The fleet on one machine: the local platform, N serials registered through the serial API, N
 * real agent processes (the bundled agent, separate state directories) provisioning by claim at
 * once, then rounds of commands to every device, timed from publish to response.
 */
export async function runSim(options: SimOptions): Promise<SimSummary> {
  const work = mkdtempSync(join(tmpdir(), "smart-home-sim-"));
  const platform = await startLocalPlatform({ config: options.environment, stateDirectory: join(work, "platform") });
  const agents: AgentProcess[] = [];
  try {
    await bundleAgent(join(work, "agent"), process.arch === "arm64" ? "arm64" : "x64", "sim");
    const serials = Array.from({ length: options.devices }, (_, index) => `SIM-${String(index).padStart(5, "0")}`);
    for (let start = 0; start < serials.length; start += MAX_SERIALS_PER_REQUEST) await registerSerials(platform, ...serials.slice(start, start + MAX_SERIALS_PER_REQUEST));

    const started = performance.now();
    for (const serial of serials) {
      agents.push(startAgentProcess([process.execPath], join(work, "agent", "lib", "agent.js"), agentConfigFor(platform, options.environment, { serial }, work)));
    }
    const ready = await Promise.all(agents.map((agent) => agent.waitFor("ready", 120_000).then((line) => line.thingName as string, () => undefined)));
    const provisioningMs = performance.now() - started;
    const things = ready.filter((thingName): thingName is string => thingName !== undefined);

    const controller = await controllerFor(platform, projectNames(options.environment.project, options.environment.name).topicRoot);
    const sentAt = new Map<string, number>();
    const roundTrips: number[] = [];
    const waiting = new Map<string, () => void>();
    controller.onMessage((message) => {
      const id = message.payload.commandId as string | undefined;
      const sent = id ? sentAt.get(id) : undefined;
      if (id && sent !== undefined && message.kind === "responses") {
        roundTrips.push(message.at - sent);
        waiting.get(id)?.();
      }
    });
    // One command at a time, round-robin over the devices (as bench:local measures the platform):
    // each trip is publish → agent → response → controller, without queueing behind the others.
    const rounds = options.rounds ?? 10;
    for (let round = 0; round < rounds; round += 1) {
      for (const [index, thingName] of things.entries()) {
        const id = `sim-${round}-${index}`;
        const answered = new Promise<void>((resolve) => {
          waiting.set(id, resolve);
          setTimeout(resolve, 10_000);
        });
        sentAt.set(id, performance.now());
        await controller.send(thingName, command(id, "ping"));
        await answered;
        waiting.delete(id);
      }
    }
    await controller.close();
    const peaks = agents.map((agent) => peakRssMb(agent.child.pid));
    roundTrips.sort((a, b) => a - b);
    const percentile = (p: number) => (roundTrips.length ? roundTrips[Math.min(roundTrips.length - 1, Math.ceil((p / 100) * roundTrips.length) - 1)]! : NaN);
    return {
      devices: options.devices,
      provisioned: things.length,
      failures: options.devices - things.length,
      provisioningMs: Math.round(provisioningMs),
      commands: rounds * things.length,
      responses: roundTrips.length,
      roundTripMs: { p50: round1(percentile(50)), p99: round1(percentile(99)), max: round1(roundTrips.at(-1) ?? NaN) },
      peakAgentRssMb: round1(Math.max(...peaks)),
      peakFleetRssMb: round1(peaks.reduce((sum, peak) => sum + peak, 0)),
      peakPlatformRssMb: round1(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await Promise.all(agents.map((agent) => (agent.child.exitCode === null ? (agent.child.kill("SIGTERM"), agent.exited()) : undefined)));
    await platform.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Peak resident set of a live process (VmHWM), in MB. */
export function peakRssMb(pid: number | undefined): number {
  return rssField(pid, "VmHWM");
}

/** Current resident set of a live process (VmRSS), in MB. */
export function currentRssMb(pid: number | undefined): number {
  return rssField(pid, "VmRSS");
}

function rssField(pid: number | undefined, field: "VmHWM" | "VmRSS"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  return kb / 1024;
}

const round1 = (value: number) => Math.round(value * 10) / 10;
