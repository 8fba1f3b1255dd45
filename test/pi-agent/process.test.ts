import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectNames } from "../../contracts/names";
import { startLocalPlatform, type LocalPlatform } from "../../local/platform";
import { bundleAgent } from "../../pi-agent/build";
import { testConfig } from "../helpers/synth";
import { startAgentProcess, type AgentProcess } from "../../pi-agent/sim/agent-process";
import { ON_TRIAL_VARIABLE } from "../../pi-agent/updates/release-directory";
import { agentConfigFor, command, controllerFor, registerSerials, until, type Controller } from "./fixtures";

/**
 * The bundled agent (what the release ships, built for this machine's arch) as its own process:
 * the process boundary is what a crash, a kill and systemd's SIGTERM act on.
 */
jest.setTimeout(90_000);

const environment = testConfig({ alerts: { emails: ["alerts@example.com"], offlineGraceSeconds: 2 } });
const names = projectNames(environment.project, environment.name);
let platform: LocalPlatform;
let controller: Controller;
let agentJs: string;
const processes: AgentProcess[] = [];

beforeAll(async () => {
  const bundle = mkdtempSync(join(tmpdir(), "agent-bundle-"));
  await bundleAgent(bundle, "x64", "test");
  agentJs = join(bundle, "lib", "agent.js");
  platform = await startLocalPlatform({ config: environment, stateDirectory: mkdtempSync(join(tmpdir(), "pi-agent-process-")) });
  controller = await controllerFor(platform, names.topicRoot);
});

afterAll(async () => {
  for (const agent of processes) if (agent.child.exitCode === null) agent.child.kill("SIGKILL");
  await controller.close();
  await platform.stop();
});

const offlineAlerts = (thingName: string) =>
  existsSync(platform.alertsPath)
    ? readFileSync(platform.alertsPath, "utf8").trim().split("\n").map((line) => JSON.parse(line).message as string).filter((message) => message.includes("device-offline") && message.includes(thingName))
    : [];

describe("pi agent as a process", () => {
  it("a bad config stops it with one clear line and exit code 78", async () => {
    const config = agentConfigFor(platform, environment, { serial: "SN-PROC-BAD" });
    const agent = startAgentProcess([process.execPath], agentJs, { ...config, port: 70_000 } as never);
    expect(await agent.exited()).toBe(78);
    expect(agent.stderr.join("").trim().split("\n")).toEqual([expect.stringMatching(/^smart-home-agent: .*config\.json is invalid: port: /)]);
  });

  it("a bad config on a version on trial exits 1, which the unit restarts, so the launcher can roll it back", async () => {
    const config = agentConfigFor(platform, environment, { serial: "SN-PROC-BAD-TRIAL" });
    const agent = startAgentProcess([process.execPath], agentJs, { ...config, port: 70_000 } as never, { [ON_TRIAL_VARIABLE]: "test" });
    expect(await agent.exited()).toBe(1);
    expect(agent.stderr.join("").trim().split("\n")).toEqual([expect.stringMatching(/^smart-home-agent: .*config\.json is invalid: port: .*\(version test is on trial: exiting to be rolled back\)$/)]);
    // Another version's trial is not this one's: 78 as usual.
    const other = startAgentProcess([process.execPath], agentJs, { ...config, port: 70_000 } as never, { [ON_TRIAL_VARIABLE]: "9.9.9" });
    expect(await other.exited()).toBe(78);
  });

  it("SIGTERM: it disconnects cleanly, with nothing left queued, and exits 0", async () => {
    await registerSerials(platform, "SN-PROC-1");
    const agent = startAgentProcess([process.execPath], agentJs, agentConfigFor(platform, environment, { serial: "SN-PROC-1" }));
    processes.push(agent);
    const thingName = (await agent.waitFor("ready")).thingName as string;
    await controller.send(thingName, command("p-1", "ping"));
    await until(() => controller.received.some((message) => message.payload.commandId === "p-1"));
    agent.child.kill("SIGTERM");
    expect(await agent.exited()).toBe(0);
    expect(agent.lines.at(-1)).toMatchObject({ message: "stopped", queued: 0, dropped: 0 });
  });

  it("killed without a clean disconnect, it raises exactly one offline alert after the grace period", async () => {
    await registerSerials(platform, "SN-PROC-2");
    const agent = startAgentProcess([process.execPath], agentJs, agentConfigFor(platform, environment, { serial: "SN-PROC-2" }));
    processes.push(agent);
    const thingName = (await agent.waitFor("ready")).thingName as string;
    agent.child.kill("SIGKILL");
    await agent.exited();
    await until(() => offlineAlerts(thingName).length >= 1, 20_000, "the offline alert");
    await new Promise((resume) => setTimeout(resume, 3000)); // more than the grace period again: no second alert
    const alerts = offlineAlerts(thingName);
    expect(alerts).toHaveLength(1);
    expect(JSON.parse(JSON.parse(alerts[0]!).default)).toMatchObject({ kind: "device-offline", thingName, disconnectReason: "CONNECTION_LOST", graceSeconds: 2 });
  });
});
