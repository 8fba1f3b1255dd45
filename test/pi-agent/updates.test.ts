import { pbkdf2 } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openCertificateAuthority } from "../../local/certificate-authority";
import { parseAgentConfig, type AgentConfig } from "../../pi-agent/config";
import { downloadToFile } from "../../pi-agent/updates/download";
import type { JobExecution, ReportedStatus } from "../../pi-agent/updates/jobs-client";
import { jobStatusDetails } from "../../pi-agent/updates/jobs-client";
import { ReleaseDirectory } from "../../pi-agent/updates/release-directory";
import { Updater } from "../../pi-agent/updates/updater";
import { memoryLogger } from "./fixtures";
import { placeholderReleaseTarball, releaseKeys, sha256Of, signedJobDocument } from "./update-fixtures";

/**
 * The update path on scratch folders: real tarballs, real tar, a real HTTPS server with a
 * certificate from the local CA, real Ed25519 signatures. The one stand-in is the Jobs client: a
 * recorder of what the agent reports (the MQTT side runs against the local platform's IoT Jobs in
 * ota.test.ts).
 */
const keys = releaseKeys();
let server: Server;
let baseUrl: string;
let caPath: string;
const served = new Map<string, Buffer>();

beforeAll(async () => {
  const caDirectory = mkdtempSync(join(tmpdir(), "updates-ca-"));
  const authority = await openCertificateAuthority(caDirectory);
  caPath = join(caDirectory, "ca.pem");
  server = createServer({ cert: authority.server.certificatePem, key: authority.server.privateKeyPem }, (request, response) => {
    if (request.url === "/forbidden") return void response.writeHead(403).end("AccessDenied");
    if (request.url === "/stalls") return void response.writeHead(200, { "content-length": "1000" }).write("partial");
    const body = served.get(request.url ?? "");
    if (!body) return void response.writeHead(404).end();
    response.writeHead(200, { "content-length": String(body.length) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `https://localhost:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function serve(path: string, file: string): string {
  served.set(path, readFileSync(file));
  return `${baseUrl}${path}`;
}

function scratchConfig(overrides: { publicKey?: string | null; connectDeadlineSeconds?: number } = {}): AgentConfig {
  const directory = mkdtempSync(join(tmpdir(), "updates-"));
  mkdirSync(join(directory, "state"), { mode: 0o700 }); // the Agent makes it; the Updater alone does not
  return parseAgentConfig({
    endpoint: "localhost",
    caPath,
    claim: { certificatePath: "/c.pem", privateKeyPath: "/c.key" },
    project: "smarthome",
    environment: "dev",
    stateDirectory: join(directory, "state"),
    release: {
      directory: join(directory, "opt"),
      ...(overrides.publicKey === null ? {} : { publicKey: overrides.publicKey ?? keys.publicKeyBase64 }),
      connectDeadlineSeconds: overrides.connectDeadlineSeconds ?? 120,
    },
  });
}

/** A device folder with `version` installed and current, as install.sh leaves it. */
async function installed(config: AgentConfig, version: string): Promise<ReleaseDirectory> {
  const releases = new ReleaseDirectory(config.release.directory);
  await releases.install(placeholderReleaseTarball(version), version);
  releases.switchTo(version);
  return releases;
}

/** Records every report; hands out the executions given, then none. */
function recordingJobs(executions: JobExecution[]) {
  const reports: { jobId: string; status: ReportedStatus; statusDetails: Record<string, string> }[] = [];
  return {
    reports,
    terminal: () => reports.filter((report) => report.status !== "IN_PROGRESS"),
    client: {
      startNext: async () => executions.shift(),
      update: async (jobId: string, status: ReportedStatus, statusDetails: Record<string, string>) => void reports.push({ jobId, status, statusDetails }),
    },
  };
}

function updaterFor(config: AgentConfig, runningVersion: string, executions: JobExecution[]) {
  const jobs = recordingJobs(executions);
  const restarts: string[] = [];
  const { logger, lines } = memoryLogger();
  const updater = new Updater({ config, runningVersion, jobs: jobs.client, logger, restart: (reason) => void restarts.push(reason) });
  return { updater, jobs, restarts, lines };
}

/** The trial marker the launcher reads (pi-agent/release/launch.sh), as fields; undefined when there is none. */
function trialMarker(config: AgentConfig): { version: string; previous: string; deadline: number } | undefined {
  const path = new ReleaseDirectory(config.release.directory).trialMarker;
  if (!existsSync(path)) return undefined;
  const fields = Object.fromEntries(readFileSync(path, "utf8").trimEnd().split("\n").map((line) => line.split("=", 2)));
  return { version: fields.version, previous: fields.previous, deadline: Number(fields.deadline) };
}

const execution = (jobId: string, jobDocument: unknown): JobExecution => ({ jobId, status: "IN_PROGRESS", jobDocument, versionNumber: 1 });

/** Everything under the release folder: what an update left on disk. */
const onDisk = (config: AgentConfig) => readdirSync(join(config.release.directory, "releases")).sort();

describe("agent config: release", () => {
  it("defaults: no public key (updates rejected), /opt/smart-home-agent, a 120 s connect deadline", () => {
    const config = parseAgentConfig({ endpoint: "e", caPath: "/ca", claim: { certificatePath: "/c", privateKeyPath: "/k" }, project: "smarthome", environment: "dev" });
    expect(config.release).toEqual({ directory: "/opt/smart-home-agent", maxDownloadBytes: 150 * 1024 * 1024, downloadTimeoutMs: 600_000, connectDeadlineSeconds: 120 });
  });

  it("refuses a public key that is not a 32-byte Ed25519 key in base64, naming the field", () => {
    for (const publicKey of ["not base64!", Buffer.alloc(31).toString("base64"), `${keys.publicKeyBase64}AA`]) {
      expect(() => scratchConfig({ publicKey })).toThrow(/release\.publicKey: must be the release public key as 44 characters of base64/);
    }
    expect(scratchConfig().release.publicKey).toBe(keys.publicKeyBase64);
  });
});

describe("download", () => {
  it("streams to a 0600 file and returns the sha256; refuses http, a 403, too many bytes and a stalled transfer, leaving no file", async () => {
    const tarball = placeholderReleaseTarball("1.0.0");
    const url = serve("/ok.tar.gz", tarball);
    const directory = mkdtempSync(join(tmpdir(), "download-"));
    const file = join(directory, "release.tar.gz");
    const ca = readFileSync(caPath, "utf8");
    const limits = { maxBytes: 1_000_000, timeoutMs: 5000, extraCaPem: ca };
    expect(await downloadToFile(url, file, limits)).toEqual({ sha256: sha256Of(tarball), bytes: readFileSync(tarball).length });
    expect(readFileSync(file)).toEqual(readFileSync(tarball));

    const failures: [string, Partial<typeof limits>, RegExp][] = [
      [url.replace("https:", "http:"), {}, /refusing http: download/],
      [`${baseUrl}/forbidden`, {}, /HTTP 403/],
      [url, { maxBytes: 10 }, /more than release\.maxDownloadBytes \(10\)/],
      [`${baseUrl}/stalls`, { timeoutMs: 1000 }, /did not finish within 1000 ms/],
      [url, { extraCaPem: undefined }, /certificate/],
    ];
    for (const [failingUrl, change, message] of failures) {
      const target = join(directory, "failed.tar.gz");
      await expect(downloadToFile(failingUrl, target, { ...limits, ...change })).rejects.toThrow(message);
      expect(existsSync(target)).toBe(false);
    }
    expect(failures).toHaveLength(5);
  });

  it("leaves no file when refused while the thread pool is busy (the file's open would still be pending)", async () => {
    // Found in CI: the file used to be opened before the answer arrived, and with libuv's four
    // threads busy the open could complete after the failure had already removed the file.
    // 127.0.0.1, not localhost: a name lookup would wait in the same thread pool as the open.
    const forbidden = `https://127.0.0.1:${new URL(baseUrl).port}/forbidden`;
    const directory = mkdtempSync(join(tmpdir(), "download-busy-"));
    const limits = { maxBytes: 1_000_000, timeoutMs: 5000, extraCaPem: readFileSync(caPath, "utf8") };
    const targets = Array.from({ length: 5 }, (_, attempt) => join(directory, `refused-${attempt}.tar.gz`));
    for (const target of targets) {
      const busy = Array.from({ length: 4 }, () => new Promise((resolve) => pbkdf2("busy", "pool", 200_000, 32, "sha256", resolve)));
      await expect(downloadToFile(forbidden, target, limits)).rejects.toThrow(/HTTP 403/);
      await Promise.all(busy);
    }
    expect(targets.filter((target) => existsSync(target))).toEqual([]);
    expect(targets).toHaveLength(5);
  });
});

describe("release directory", () => {
  it("installs side by side, switches the current link atomically, and refuses a release whose VERSION disagrees, leaving nothing", async () => {
    const config = scratchConfig();
    const releases = await installed(config, "1.0.0");
    expect(readlinkSync(releases.current)).toBe(join("releases", "1.0.0"));
    await releases.install(placeholderReleaseTarball("2.0.0"), "2.0.0");
    expect(releases.currentVersion()).toBe("1.0.0");
    releases.switchTo("2.0.0");
    expect(releases.currentVersion()).toBe("2.0.0");
    expect(onDisk(config)).toEqual(["1.0.0", "2.0.0"]);

    await expect(releases.install(placeholderReleaseTarball("3.0.0", { versionFile: "3.0.1" }), "3.0.0")).rejects.toThrow(/VERSION is 3\.0\.1, the job's is 3\.0\.0/);
    await expect(releases.install(placeholderReleaseTarball("2.0.0"), "2.0.0")).rejects.toThrow(/2\.0\.0 is the running version/);
    const notATarball = join(mkdtempSync(join(tmpdir(), "junk-")), "junk.tar.gz");
    writeFileSync(notATarball, "not gzip");
    await expect(releases.install(notATarball, "3.0.0")).rejects.toThrow(/cannot unpack the release/);
    expect(onDisk(config)).toEqual(["1.0.0", "2.0.0"]);
    expect(releases.prune(["2.0.0"])).toEqual(["1.0.0"]);
  });
});

describe("updater", () => {
  it("a verified job: IN_PROGRESS, download, install beside v1, switch, restart; v2 connecting reports SUCCEEDED once", async () => {
    const config = scratchConfig();
    await installed(config, "1.0.0");
    const tarball = placeholderReleaseTarball("2.0.0");
    const document = signedJobDocument(keys.privateKey, "2.0.0", serve("/v2.tar.gz", tarball), sha256Of(tarball));
    const v1 = updaterFor(config, "1.0.0", [execution("job-v2", document)]);
    await v1.updater.onConnected();
    expect(v1.jobs.reports.map((report) => [report.status, report.statusDetails.step])).toEqual([
      ["IN_PROGRESS", "downloading"],
      ["IN_PROGRESS", "restarting"],
    ]);
    expect(v1.restarts).toEqual(["switched to version 2.0.0"]);
    const folder = new ReleaseDirectory(config.release.directory);
    expect(folder.currentVersion()).toBe("2.0.0");
    expect(onDisk(config)).toEqual(["1.0.0", "2.0.0"]); // no download or unpack leftovers
    // The trial marker for the launcher: the deadline is 120 s (the default) after the switch, in whole seconds.
    expect(trialMarker(config)).toEqual({ version: "2.0.0", previous: "1.0.0", deadline: expect.any(Number) });
    expect(trialMarker(config)!.deadline - Date.now() / 1000).toBeGreaterThan(110);
    expect(trialMarker(config)!.deadline - Date.now() / 1000).toBeLessThanOrEqual(121);

    // systemd starts v2; IoT hands it the same IN_PROGRESS execution again after its report.
    const v2 = updaterFor(config, "2.0.0", [execution("job-v2", document)]);
    v2.updater.armConnectDeadline();
    v2.updater.connected();
    await v2.updater.onConnected();
    expect(v2.jobs.reports).toEqual([
      { jobId: "job-v2", status: "SUCCEEDED", statusDetails: { reason: "version 2.0.0 connected" } },
      { jobId: "job-v2", status: "SUCCEEDED", statusDetails: { reason: "version 2.0.0 connected" } },
    ]);
    expect(v2.restarts).toEqual([]);
    expect(v2.lines.some((line) => line.message === "job already handled: reporting its outcome again")).toBe(true);
    expect(trialMarker(config)).toBeUndefined();
  });

  it("REJECTS a bad signature, a tampered tarball, an unknown operation, a bad document, and any job without a public key; v1 untouched, nothing left", async () => {
    const config = scratchConfig();
    const releases = await installed(config, "1.0.0");
    const tarball = placeholderReleaseTarball("2.0.0");
    const url = serve("/v2-reject.tar.gz", tarball);
    const good = signedJobDocument(keys.privateKey, "2.0.0", url, sha256Of(tarball));
    const tampered = placeholderReleaseTarball("2.0.0", { versionFile: "2.0.0 " });
    const cases: [string, unknown, RegExp][] = [
      ["bad-signature", signedJobDocument(releaseKeys().privateKey, "2.0.0", url, sha256Of(tarball)), /signature of 2\.0\.0 does not verify/],
      ["relabelled", { ...good, version: "2.0.1" }, /signature of 2\.0\.1 does not verify/],
      ["tampered", { ...good, url: serve("/tampered.tar.gz", tampered) }, /the download's sha256 is [0-9a-f]{64}, the signed release's is [0-9a-f]{64}: tampered/],
      ["unknown-operation", { operation: "reboot" }, /unknown operation "reboot"/],
      ["bad-document", { ...good, sha256: "abc" }, /bad job document: sha256: must be a lowercase hex sha256/],
    ];
    const run = updaterFor(config, "1.0.0", cases.map(([jobId, document]) => execution(jobId, document)));
    await run.updater.onConnected();
    const terminal = run.jobs.terminal();
    expect(terminal.map((report) => [report.jobId, report.status])).toEqual(cases.map(([jobId]) => [jobId, "REJECTED"]));
    cases.forEach(([, , reason], index) => expect(terminal[index]!.statusDetails.reason).toMatch(reason));
    expect(run.restarts).toEqual([]);
    expect(releases.currentVersion()).toBe("1.0.0");
    expect(onDisk(config)).toEqual(["1.0.0"]);

    const keyless = scratchConfig({ publicKey: null });
    await installed(keyless, "1.0.0");
    const withoutKey = updaterFor(keyless, "1.0.0", [execution("no-key", good)]);
    await withoutKey.updater.onConnected();
    expect(withoutKey.jobs.reports).toEqual([{ jobId: "no-key", status: "REJECTED", statusDetails: { reason: "no release.publicKey in the agent config: this device accepts no updates" } }]);
  });

  it("a download that fails is FAILED (it may work later), with the reason", async () => {
    const config = scratchConfig();
    await installed(config, "1.0.0");
    const tarball = placeholderReleaseTarball("2.0.0");
    const run = updaterFor(config, "1.0.0", [execution("expired", signedJobDocument(keys.privateKey, "2.0.0", `${baseUrl}/forbidden`, sha256Of(tarball)))]);
    await run.updater.onConnected();
    expect(run.jobs.terminal()).toEqual([{ jobId: "expired", status: "FAILED", statusDetails: { reason: expect.stringMatching(/HTTP 403/) } }]);
    expect(onDisk(config)).toEqual(["1.0.0"]);
  });

  it("a v2 that does not connect before the deadline switches back and exits; v1 then reports FAILED with the reason and removes v2", async () => {
    const config = scratchConfig({ connectDeadlineSeconds: 1 });
    await installed(config, "1.0.0");
    const tarball = placeholderReleaseTarball("2.0.0");
    const document = signedJobDocument(keys.privateKey, "2.0.0", serve("/v2-rollback.tar.gz", tarball), sha256Of(tarball));
    await updaterFor(config, "1.0.0", [execution("job-rollback", document)]).updater.onConnected();

    const v2 = updaterFor(config, "2.0.0", []);
    v2.updater.armConnectDeadline(); // and never connects
    const started = Date.now();
    while (v2.restarts.length === 0 && Date.now() - started < 5000) await new Promise((resume) => setTimeout(resume, 20));
    expect(v2.restarts).toEqual(["version 2.0.0 did not connect within 1 s; rolled back to 1.0.0"]);
    expect(new ReleaseDirectory(config.release.directory).currentVersion()).toBe("1.0.0");
    // The marker stays until v1 settles the job; the launcher ignores it, `current` no longer names 2.0.0.
    expect(trialMarker(config)).toMatchObject({ version: "2.0.0", previous: "1.0.0" });

    const v1 = updaterFor(config, "1.0.0", [execution("job-rollback", document)]);
    await v1.updater.onConnected();
    expect(v1.jobs.terminal()).toEqual([
      { jobId: "job-rollback", status: "FAILED", statusDetails: { reason: "version 2.0.0 did not connect within 1 s; rolled back to 1.0.0" } },
      { jobId: "job-rollback", status: "FAILED", statusDetails: { reason: "version 2.0.0 did not connect within 1 s; rolled back to 1.0.0" } },
    ]);
    expect(onDisk(config)).toEqual(["1.0.0"]);
    expect(trialMarker(config)).toBeUndefined();
  });

  it("v1 running again without a recorded rollback reports FAILED: past the deadline as the launcher's rollback, before it as a restart", async () => {
    for (const [connectDeadlineSeconds, reason] of [
      [1, "version 2.0.0 did not start and connect within 1 s; the launcher rolled back to 1.0.0"],
      [120, "the agent restarted on 1.0.0 before 2.0.0 took over"],
    ] as const) {
      const config = scratchConfig({ connectDeadlineSeconds });
      const releases = await installed(config, "1.0.0");
      const tarball = placeholderReleaseTarball("2.0.0");
      const document = signedJobDocument(keys.privateKey, "2.0.0", serve(`/v2-never-ran-${connectDeadlineSeconds}.tar.gz`, tarball), sha256Of(tarball));
      await updaterFor(config, "1.0.0", [execution("job-never-ran", document)]).updater.onConnected();
      const { deadline } = trialMarker(config)!;
      // What the launcher does once the deadline has passed (launcher.test.ts runs the script itself).
      releases.switchTo("1.0.0");
      if (connectDeadlineSeconds === 1) while (Date.now() < deadline * 1000) await new Promise((resume) => setTimeout(resume, 50));

      const v1 = updaterFor(config, "1.0.0", []);
      v1.updater.armConnectDeadline(); // not on trial: arms nothing
      await v1.updater.onConnected();
      expect(v1.jobs.terminal()).toEqual([{ jobId: "job-never-ran", status: "FAILED", statusDetails: { reason } }]);
      expect(v1.restarts).toEqual([]);
      expect(onDisk(config)).toEqual(["1.0.0"]);
      expect(trialMarker(config)).toBeUndefined();
    }
  });

  it("an agent not started from the release folder rejects updates rather than switching something else", async () => {
    const config = scratchConfig();
    const tarball = placeholderReleaseTarball("2.0.0");
    const run = updaterFor(config, "dev", [execution("not-installed", signedJobDocument(keys.privateKey, "2.0.0", serve("/v2-dev.tar.gz", tarball), sha256Of(tarball)))]);
    await run.updater.onConnected();
    expect(run.jobs.terminal()).toEqual([{ jobId: "not-installed", status: "REJECTED", statusDetails: { reason: expect.stringMatching(/not installed from a release/) } }]);
  });
});

describe("statusDetails", () => {
  it("keeps IoT's limits: valid keys only, values without control characters, at most 1,024 characters", () => {
    expect(jobStatusDetails({ reason: `a\nb${"x".repeat(2000)}`, "bad key": "v" })).toEqual({ reason: `a b${"x".repeat(1021)}` });
  });
});
