import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AGENT_UPDATE_OPERATION, agentReleaseJobId, agentReleaseObjectKey, signRelease } from "../../contracts/agent-release";
import { projectNames } from "../../contracts/names";
import { startLocalPlatform, type LocalPlatform } from "../../local/platform";
import { buildRelease, type Release } from "../../pi-agent/build";
import type { AgentConfig } from "../../pi-agent/config";
import { ReleaseDirectory } from "../../pi-agent/updates/release-directory";
import { testConfig } from "../helpers/synth";
import { agentConfigFor, command, controllerFor, registerSerials, until, type Controller } from "./fixtures";
import { Supervisor } from "./supervisor";
import { releaseKeys } from "./update-fixtures";

/**
 * Over-the-air updates end to end: real agents (the bundled agent as OS processes, each under a
 * supervisor that restarts it as systemd's Restart=always does, through the `current` link), real
 * release tarballs of the release layout, the local platform's IoT Jobs over mutual TLS and its
 * HTTPS release downloads behind presigned URLs.
 *
 * The releases are built for this machine (linux-x64) with bin/node a link to the Node.js running
 * the test: the arm64 release with its own Node.js runs only under qemu, which takes minutes per
 * agent start (release.test.ts runs that one once); everything the update path touches (download,
 * sha256, signature, unpack, switch, restart, rollback) is the same for both.
 */
jest.setTimeout(600_000);

const environment = testConfig();
const names = projectNames(environment.project, environment.name);
const keys = releaseKeys();
/** A job "minute" of the local IoT Jobs, so a rollout of a few executions per minute takes seconds. */
const JOBS_MINUTE_MS = 1000;
/** The connect deadline of a new version (release.connectDeadlineSeconds; 120 s on a Pi). */
const CONNECT_DEADLINE_SECONDS = 5;
/** The local release server keys objects by key alone; the bucket in the placeholder URL is not checked. */
const S3_URL_BASE = "https://s3.eu-west-1.amazonaws.com/local-agent-releases";

let platform: LocalPlatform;
let controller: Controller;
let releases: { v1: Release; v2: Release; unreachable: Release; broken: Release; tamperedV2: Buffer };
const supervisors: Supervisor[] = [];

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), "ota-releases-"));
  const build = (version: string, entryPoint?: string) => buildRelease(join(out, version), { version, arch: "x64", node: "host", entryPoint });
  const [v1, v2, unreachable, broken] = [await build("1.0.0"), await build("2.0.0"), await build("2.0.1", join(__dirname, "unreachable-agent.ts")), await build("2.0.2", join(__dirname, "broken-agent.ts"))];
  // v2 with its agent.js altered after it was signed: same layout, other bytes.
  const tampering = mkdtempSync(join(tmpdir(), "ota-tampered-"));
  execFileSync("tar", ["-xzf", v2.tarball, "-C", tampering]);
  appendFileSync(join(tampering, "smart-home-agent-2.0.0-linux-x64", "lib", "agent.js"), "\n/* injected */\n");
  execFileSync("tar", ["-czf", join(tampering, "tampered.tar.gz"), "-C", tampering, "smart-home-agent-2.0.0-linux-x64"]);
  releases = { v1, v2, unreachable, broken, tamperedV2: readFileSync(join(tampering, "tampered.tar.gz")) };
  platform = await startLocalPlatform({ config: environment, stateDirectory: mkdtempSync(join(tmpdir(), "ota-platform-")), jobsMinuteMs: JOBS_MINUTE_MS });
  controller = await controllerFor(platform, names.topicRoot);
});

afterAll(async () => {
  await Promise.all(supervisors.map((supervisor) => supervisor.stop().catch(() => undefined)));
  await controller?.close();
  await platform?.stop();
});

/** A Pi as install.sh leaves it: v1 unpacked under releases/ and current; its agent running under the supervisor. */
async function deviceOnV1(serial: string): Promise<{ config: AgentConfig; supervisor: Supervisor; thingName: string; folder: ReleaseDirectory }> {
  await registerSerials(platform, serial);
  const folder = new ReleaseDirectory(join(mkdtempSync(join(tmpdir(), "ota-device-")), "opt"));
  await folder.install(releases.v1.tarball, "1.0.0");
  folder.switchTo("1.0.0");
  const config = agentConfigFor(platform, environment, {
    serial,
    release: { publicKey: keys.publicKeyBase64, directory: folder.directory, connectDeadlineSeconds: CONNECT_DEADLINE_SECONDS },
  });
  const supervisor = new Supervisor(config);
  supervisors.push(supervisor);
  const ready = await supervisor.waitFor("ready", () => true, 120_000);
  expect(ready.version).toBe("1.0.0");
  return { config, supervisor, thingName: ready.thingName as string, folder };
}

/** What `npm run release:agent` does: upload the tarball, sign its sha256, create the job with a presign placeholder. */
function releaseJob(attempt: string, release: Release, targets: string[], options: { body?: Buffer; rollout?: { maximumPerMinute: number }; abort?: Parameters<LocalPlatform["jobs"]["createJob"]>[0]["abort"] } = {}): string {
  const key = agentReleaseObjectKey(release.version, "x64");
  platform.releases.put(key, options.body ?? readFileSync(release.tarball));
  const jobId = agentReleaseJobId(names.prefix, release.version, attempt);
  platform.jobs.createJob({
    jobId,
    targets,
    document: {
      operation: AGENT_UPDATE_OPERATION,
      version: release.version,
      url: `\${aws:iot:s3-presigned-url:${S3_URL_BASE}/${key}}`,
      sha256: release.sha256,
      signature: signRelease(keys.privateKey, release.version, release.sha256),
    },
    rollout: options.rollout,
    abort: options.abort,
  });
  return jobId;
}

const executionOf = (jobId: string, thingName: string) => platform.jobs.listJobExecutions(jobId).find((execution) => execution.thingName === thingName);
const versionsOnDisk = (folder: ReleaseDirectory) => readdirSync(folder.releases).sort();

describe("over-the-air agent updates (real agents, local IoT Jobs)", () => {
  it("v1 → v2: downloads, verifies, installs beside v1, switches, restarts; v2 connects and the job SUCCEEDS", async () => {
    const device = await deviceOnV1("SN-OTA-1");
    const jobId = releaseJob("ok", releases.v2, [device.thingName]);
    await until(() => executionOf(jobId, device.thingName)?.status === "SUCCEEDED", 90_000, "the execution to succeed");

    expect(executionOf(jobId, device.thingName)?.statusDetails).toEqual({ reason: "version 2.0.0 connected" });
    expect(device.folder.currentVersion()).toBe("2.0.0");
    expect(versionsOnDisk(device.folder)).toEqual(["1.0.0", "2.0.0"]);
    // One restart, asked for by v1 (exit 75), into v2.
    expect(device.supervisor.runs).toHaveLength(2);
    expect(device.supervisor.exitCodes).toEqual([75]);
    expect((await device.supervisor.waitFor("ready", (line) => line.version === "2.0.0")).thingName).toBe(device.thingName);
    await controller.send(device.thingName, command("ota-1", "get-state"));
    await until(() => controller.received.some((message) => message.payload.commandId === "ota-1"), 30_000, "v2's answer");
    expect(controller.received.find((message) => message.payload.commandId === "ota-1")?.payload.result.agentVersion).toBe("2.0.0");
  });

  it("a tampered tarball is REJECTED with the reason; v1 keeps running, nothing is left on disk", async () => {
    const device = await deviceOnV1("SN-OTA-2");
    const jobId = releaseJob("tampered", releases.v2, [device.thingName], { body: releases.tamperedV2 });
    await until(() => executionOf(jobId, device.thingName)?.status === "REJECTED", 60_000, "the execution to be rejected");

    expect(executionOf(jobId, device.thingName)?.statusDetails.reason).toMatch(/^the download's sha256 is [0-9a-f]{64}, the signed release's is [0-9a-f]{64}: tampered with or corrupted$/);
    expect(device.supervisor.runs).toHaveLength(1);
    expect(device.supervisor.current.child.exitCode).toBeNull();
    expect(device.folder.currentVersion()).toBe("1.0.0");
    expect(versionsOnDisk(device.folder)).toEqual(["1.0.0"]);
  });

  it("a v2 that cannot connect rolls back to v1 within the deadline; v1 reports the job FAILED with the reason", async () => {
    const device = await deviceOnV1("SN-OTA-3");
    const jobId = releaseJob("unreachable", releases.unreachable, [device.thingName]);
    await until(() => executionOf(jobId, device.thingName)?.status === "FAILED", 90_000, "the execution to fail");

    expect(executionOf(jobId, device.thingName)?.statusDetails).toEqual({ reason: `version 2.0.1 did not connect within ${CONNECT_DEADLINE_SECONDS} s; rolled back to 1.0.0` });
    // v1 → (switch) 2.0.1, which never connects → (rollback) v1 again.
    expect(device.supervisor.runs).toHaveLength(3);
    expect(device.supervisor.exitCodes).toEqual([75, 75]);
    expect(device.supervisor.runs[1]!.lines.some((line) => line.message === "rolling back" && line.version === "2.0.1")).toBe(true);
    expect(device.supervisor.runs[1]!.lines.some((line) => line.message === "ready")).toBe(false);
    expect(await device.supervisor.runs[2]!.waitFor("ready")).toMatchObject({ version: "1.0.0", thingName: device.thingName });
    expect(device.folder.currentVersion()).toBe("1.0.0");
    expect(versionsOnDisk(device.folder)).toEqual(["1.0.0"]);
    // v1's own rollback: the launcher found `current` already back on 1.0.0 and said nothing.
    expect(device.supervisor.runs.flatMap((run) => run.stderr)).toEqual([]);
  });

  it("a v2 that throws as it loads (its updater never runs) is rolled back by the launcher after the deadline; v1 reports the job FAILED", async () => {
    const device = await deviceOnV1("SN-OTA-4");
    const jobId = releaseJob("broken", releases.broken, [device.thingName]);
    await until(() => executionOf(jobId, device.thingName)?.status === "FAILED", 90_000, "the execution to fail");

    expect(executionOf(jobId, device.thingName)?.statusDetails).toEqual({ reason: `version 2.0.2 did not start and connect within ${CONNECT_DEADLINE_SECONDS} s; the launcher rolled back to 1.0.0` });
    // v1 (exit 75 after the switch) → 2.0.2, which dies as it loads, restarted until the deadline →
    // the launcher switches back and v1 starts; the rollback is the launcher's alone.
    const runs = device.supervisor.runs;
    const brokenRuns = runs.slice(1, -1);
    expect(runs[0]!.child.exitCode).toBe(75);
    expect(brokenRuns.length).toBeGreaterThanOrEqual(2);
    for (const run of brokenRuns) {
      expect([run.child.exitCode, run.lines, run.stderr.join("")]).toEqual([1, [], expect.stringContaining("this release is broken on purpose: it throws as it loads")]);
    }
    const rollbackLines = runs.flatMap((run) => run.stderr.join("").split("\n")).filter((line) => line.startsWith("smart-home-agent launcher:"));
    expect(rollbackLines).toEqual([expect.stringMatching(/^smart-home-agent launcher: version 2\.0\.2 did not start and connect within its deadline \([0-9]+ s ago\): switched .*\/current back to 1\.0\.0$/)]);
    expect(runs.at(-1)!.stderr.join("")).toContain(rollbackLines[0]);
    expect(await runs.at(-1)!.waitFor("ready")).toMatchObject({ version: "1.0.0", thingName: device.thingName });
    // Not before the deadline: the first start of 2.0.2 came right after the switch, the rollback at least the deadline later.
    const switchedAt = Date.parse(runs[0]!.lines.find((line) => line.message === "switched to the new version; restarting")!.time);
    const v1AgainAt = Date.parse(runs.at(-1)!.lines[0]!.time);
    expect(v1AgainAt - switchedAt).toBeGreaterThanOrEqual(CONNECT_DEADLINE_SECONDS * 1000);
    expect(device.folder.currentVersion()).toBe("1.0.0");
    expect(versionsOnDisk(device.folder)).toEqual(["1.0.0"]);
    expect(existsSync(device.folder.trialMarker)).toBe(false);
  });

  it("a rollout to 20 devices stops at the abort threshold: the job is CANCELED and the rest of the fleet never gets it", async () => {
    const fleet = await Promise.all(Array.from({ length: 20 }, (_, index) => deviceOnV1(`SN-OTA-FLEET-${String(index + 1).padStart(2, "0")}`)));
    expect(fleet).toHaveLength(20);
    const jobId = releaseJob("fleet", releases.v2, fleet.map((device) => device.thingName), {
      body: releases.tamperedV2,
      rollout: { maximumPerMinute: 4 },
      abort: { criteriaList: [{ failureType: "REJECTED", action: "CANCEL", thresholdPercentage: 50, minNumberOfExecutedThings: 4 }] },
    });
    await until(() => platform.jobs.describeJob(jobId).status === "CANCELED", 120_000, "the abort");
    // Executions already handed to a device finish; wait until none is queued or in progress.
    await until(() => platform.jobs.listJobExecutions(jobId).every((execution) => ["REJECTED", "CANCELED"].includes(execution.status)), 60_000, "every execution to end");

    // The rollout creates an execution only when it notifies a thing; after the abort it creates no
    // more, so part of the fleet never hears of the bad release (AWS IoT "Job rollout and abort
    // configurations": the abort "cancels the job rollout").
    const executions = platform.jobs.listJobExecutions(jobId);
    const rejected = executions.filter((execution) => execution.status === "REJECTED");
    const job = platform.jobs.describeJob(jobId);
    expect(job.numberOfNotifiedThings).toBe(executions.length);
    expect(executions.every((execution) => ["REJECTED", "CANCELED"].includes(execution.status))).toBe(true);
    expect(rejected.length).toBeGreaterThanOrEqual(4);
    expect(executions.length).toBeLessThan(20);
    expect(job.targetThings).toHaveLength(20);
    for (const execution of rejected) expect(execution.statusDetails.reason).toMatch(/: tampered with or corrupted$/);
    // No device changed: one run each, still v1, nothing beside it on disk.
    for (const device of fleet) {
      expect([device.supervisor.runs.length, device.folder.currentVersion(), versionsOnDisk(device.folder)]).toEqual([1, "1.0.0", ["1.0.0"]]);
    }
  });
});
