import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { environments, parseEnvironment } from "../config";
import { projectNames } from "../contracts/names";
import { startLocalPlatform } from "../local/platform";
import { bundleAgent } from "../pi-agent/build";
import { startAgentProcess } from "../pi-agent/sim/agent-process";
import { agentConfigFor, command, controllerFor, registerSerials } from "../pi-agent/sim/fleet";
import { execFileSync } from "node:child_process";
import { currentRssMb, peakRssMb, type SimSummary } from "../pi-agent/sim/run";

/**
 * `npm run bench:agent` (issue 10):
 * 1. steady RSS of one agent process (the bundled agent, x64, started as the unit starts it) after
 *    1,000 commands, on a boot after the first; baselines: the first boot right after provisioning,
 *    and the same process idle right after it subscribed, in the same run. Goal <= 64 MB.
 * 2. the fleet simulator with 50 devices (its own process, as `npm run sim`): all provisioned,
 *    command round trip p99 <= 50 ms; baseline: the simulator with 1 device, in the same run.
 */
const COMMANDS = 1000;
const SETTLE_MS = 3000;

async function steadyRss(): Promise<{ firstBootMb: number; idleMb: number; steadyMb: number; peakMb: number; commandsPerSecond: number }> {
  const environment = parseEnvironment({ ...environments.dev, accountId: "123456789012" });
  const work = mkdtempSync(join(tmpdir(), "bench-agent-"));
  const platform = await startLocalPlatform({ config: environment, stateDirectory: join(work, "platform") });
  try {
    await bundleAgent(join(work, "agent"), process.arch === "arm64" ? "arm64" : "x64", "bench");
    await registerSerials(platform, "BENCH-RSS-1");
    // First boot provisions (and loads the X.509 code); the steady state is every boot after it.
    const config = agentConfigFor(platform, environment, { serial: "BENCH-RSS-1" }, work);
    const firstBoot = startAgentProcess([process.execPath], join(work, "agent", "lib", "agent.js"), config);
    await firstBoot.waitFor("ready");
    const firstBootMb = currentRssMb(firstBoot.child.pid);
    firstBoot.child.kill("SIGTERM");
    await firstBoot.exited();
    const agent = startAgentProcess([process.execPath], join(work, "agent", "lib", "agent.js"), config);
    const thingName = (await agent.waitFor("ready")).thingName as string;
    await new Promise((resume) => setTimeout(resume, SETTLE_MS));
    const idleMb = currentRssMb(agent.child.pid);
    const controller = await controllerFor(platform, projectNames(environment.project, environment.name).topicRoot);
    const waiting = new Map<string, () => void>();
    controller.onMessage((message) => waiting.get(message.payload.commandId)?.());
    const started = performance.now();
    for (let index = 0; index < COMMANDS; index += 1) {
      const id = `rss-${index}`;
      const answered = new Promise<void>((resolve) => waiting.set(id, resolve));
      await controller.send(thingName, command(id, index % 2 ? "get-state" : "ping"));
      await answered;
      waiting.delete(id);
    }
    const commandsPerSecond = COMMANDS / ((performance.now() - started) / 1000);
    await new Promise((resume) => setTimeout(resume, SETTLE_MS));
    const result = { firstBootMb, idleMb, steadyMb: currentRssMb(agent.child.pid), peakMb: peakRssMb(agent.child.pid), commandsPerSecond };
    agent.child.kill("SIGTERM");
    await agent.exited();
    await controller.close();
    return result;
  } finally {
    await platform.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** `npm run sim -- --devices N --json` as its own process: the local platform loads the functions once per process. */
function sim(devices: number): SimSummary {
  const output = execFileSync(process.execPath, ["--import", "tsx", join(__dirname, "..", "pi-agent", "sim", "main.ts"), "--devices", String(devices), "--json"], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, stdio: ["ignore", "pipe", "ignore"] });
  return JSON.parse(output.trim().split("\n").at(-1)!) as SimSummary;
}

async function main(): Promise<void> {
  const rss = await steadyRss();
  const baseline = sim(1);
  const fleet = sim(50);
  const lines = [
    `agent RSS (x64, bundled): first boot just provisioned ${rss.firstBootMb.toFixed(1)} MB; next boot idle ${rss.idleMb.toFixed(1)} MB (baseline), after ${COMMANDS} commands ${rss.steadyMb.toFixed(1)} MB, peak ${rss.peakMb.toFixed(1)} MB; ${rss.commandsPerSecond.toFixed(0)} commands/s one at a time`,
    `sim 1 device (baseline): round trip p50 ${baseline.roundTripMs.p50} ms, p99 ${baseline.roundTripMs.p99} ms over ${baseline.responses} commands; peak ${baseline.peakAgentRssMb} MB per agent`,
    `sim 50 devices: ${fleet.provisioned}/${fleet.devices} provisioned in ${(fleet.provisioningMs / 1000).toFixed(1)} s, round trip p50 ${fleet.roundTripMs.p50} ms, p99 ${fleet.roundTripMs.p99} ms, max ${fleet.roundTripMs.max} ms over ${fleet.responses} commands; peak ${fleet.peakAgentRssMb} MB per agent, ${fleet.peakFleetRssMb} MB all agents`,
  ];
  const goals: [string, boolean][] = [
    [`steady RSS of one agent <= 64 MB (${rss.steadyMb.toFixed(1)} MB)`, rss.steadyMb <= 64],
    [`sim --devices 50: all provisioned (${fleet.provisioned}/50)`, fleet.provisioned === 50],
    [`sim --devices 50: round trip p99 <= 50 ms (${fleet.roundTripMs.p99} ms)`, fleet.roundTripMs.p99 <= 50],
  ];
  for (const line of lines) console.log(line);
  for (const [goal, met] of goals) console.log(`${met ? "met    " : "MISSED "} ${goal}`);
  process.exit(goals.every(([, met]) => met) ? 0 : 1);
}

void main().catch((error) => {
  console.error(`bench:agent failed: ${(error as Error).message}`);
  process.exit(1);
});
