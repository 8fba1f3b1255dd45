import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { AGENT_UPDATE_OPERATION, agentJobDocumentSchema, releasePublicKeyFromBase64, verifyReleaseSignature, type AgentJobDocument } from "../../contracts/agent-release";
import type { AgentConfig } from "../config";
import { errorText, type Logger } from "../log";
import { DownloadError, downloadToFile } from "./download";
import type { JobExecution, JobsClient, ReportedStatus } from "./jobs-client";
import { InstallError, ReleaseDirectory } from "./release-directory";
import { UpdateStateStore, type PendingSwitch, type TerminalOutcome } from "./update-state";

export interface UpdaterOptions {
  readonly config: AgentConfig;
  /** The version this process runs (the release build defines it). */
  readonly runningVersion: string;
  readonly jobs: Pick<JobsClient, "startNext" | "update">;
  readonly logger: Logger;
  /** Stops the agent and exits, so systemd (Restart=always) starts whatever `current` points at. */
  readonly restart: (reason: string) => void;
}

/** Why a job ends the way it does: one result type, so every path reports exactly once. */
type Verdict = { status: TerminalOutcome; reason: string } | { status: "RESTARTING" };

/**
 * Over-the-air updates of the agent through IoT Jobs (docs/pi.md "Updates"):
 *
 * 1. take the next job (start-next), and for an `agent-update` document whose Ed25519 signature
 *    verifies against `release.publicKey`: download over https (size cap, timeout), check the
 *    sha256, unpack side by side to `releases/<version>/`, record the switch, point `current` at it
 *    and exit; systemd starts the new version;
 * 2. the new version arms a connect deadline from the moment of the switch: it connects → the job
 *    SUCCEEDED; it does not → `current` goes back to the previous version and it exits; the
 *    previous version then reports the job FAILED with the reason. A new version that cannot even
 *    start never runs this code: the trial marker written with the switch lets the launcher
 *    (release/launch.sh, part of no release) switch back at the first start after the same deadline;
 * 3. anything that makes the job unusable (unknown operation, bad document, bad signature,
 *    checksum mismatch, a release that does not unpack) → REJECTED with the reason, the running
 *    version untouched and nothing left on disk; a failed download → FAILED (it may work later).
 *
 * Every terminal outcome is recorded in the state directory before it is reported, so a job IoT
 * delivers again after a restart is answered with the same outcome and never run twice.
 */
export class Updater {
  private readonly releases: ReleaseDirectory;
  private readonly state: UpdateStateStore;
  private readonly logger: Logger;
  private deadline?: NodeJS.Timeout;
  private draining = false;
  private drainAgain = false;
  private restarting = false;

  constructor(private readonly options: UpdaterOptions) {
    this.releases = new ReleaseDirectory(options.config.release.directory);
    this.state = new UpdateStateStore(options.config.stateDirectory);
    this.logger = options.logger.child({ component: "updates", runningVersion: options.runningVersion });
  }

  /**
   * Before connecting: when this version is the one a job just switched to, it must connect before
   * `switchedAt + connectDeadlineSeconds` (counted from the switch, so a new version that keeps
   * crashing and restarting still runs out of time), or it switches back.
   */
  armConnectDeadline(): void {
    const pending = this.state.pendingSwitch();
    if (!pending || pending.version !== this.options.runningVersion || pending.rollbackReason) return;
    const remainingMs = this.deadlineEpochSeconds(pending) * 1000 - Date.now();
    this.logger.info("new version on trial: it must connect in time", { jobId: pending.jobId, remainingMs: Math.max(0, remainingMs) });
    this.deadline = setTimeout(() => this.rollBack(pending), Math.max(0, remainingMs));
  }

  /** Call as soon as the connection is up: the new version made it. */
  connected(): void {
    clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  /** After every (re)connect: finish a switch, then take pending jobs one at a time. */
  async onConnected(): Promise<void> {
    try {
      await this.finishSwitch();
    } catch (error) {
      this.logger.warn("could not report the last update yet; retrying on the next connect", { error: errorText(error) });
      return;
    }
    await this.drain();
  }

  /** notify-next: another execution became next. */
  onNextChanged(execution: JobExecution | undefined): void {
    if (execution) void this.drain();
  }

  stop(): void {
    clearTimeout(this.deadline);
  }

  private async drain(): Promise<void> {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        for (let execution = await this.options.jobs.startNext(); execution && !this.restarting; execution = this.restarting ? undefined : await this.options.jobs.startNext()) {
          await this.handle(execution);
        }
      } while (this.drainAgain && !this.restarting);
    } catch (error) {
      this.logger.warn("jobs request failed; trying again on the next notification or connect", { error: errorText(error) });
    } finally {
      this.draining = false;
    }
  }

  private async handle(execution: JobExecution): Promise<void> {
    const { jobId } = execution;
    const logger = this.logger.child({ jobId });
    const earlier = this.state.outcome(jobId);
    if (earlier) {
      logger.info("job already handled: reporting its outcome again", { status: earlier.status });
      await this.options.jobs.update(jobId, earlier.status, { reason: earlier.reason });
      return;
    }
    if (this.state.pendingSwitch()?.jobId === jobId) {
      await this.finishSwitch();
      return;
    }
    logger.info("update job received");
    const verdict = await this.run(jobId, execution.jobDocument, logger).catch((error: unknown): Verdict => ({ status: "FAILED", reason: `unexpected error: ${errorText(error)}` }));
    if (verdict.status === "RESTARTING") return;
    await this.finish(jobId, verdict.status, verdict.reason, logger);
  }

  private async run(jobId: string, rawDocument: unknown, logger: Logger): Promise<Verdict> {
    const checked = this.check(rawDocument);
    if ("reason" in checked) return { status: "REJECTED", reason: checked.reason };
    const document = checked.document;
    if (document.version === this.options.runningVersion) return { status: "SUCCEEDED", reason: `version ${document.version} is already running` };
    const installedCurrent = this.releases.currentVersion();
    if (installedCurrent !== this.options.runningVersion) {
      return { status: "REJECTED", reason: `this agent (${this.options.runningVersion}) is not ${this.releases.current} (${installedCurrent ?? "absent"}): it was not installed from a release and cannot update side by side` };
    }

    await this.options.jobs.update(jobId, "IN_PROGRESS", { step: "downloading", version: document.version });
    mkdirSync(this.releases.releases, { recursive: true, mode: 0o755 });
    const work = mkdtempSync(join(this.releases.releases, ".download-"));
    try {
      const tarball = join(work, "release.tar.gz");
      const { release } = this.options.config;
      let downloaded;
      try {
        downloaded = await downloadToFile(document.url, tarball, { maxBytes: release.maxDownloadBytes, timeoutMs: release.downloadTimeoutMs, extraCaPem: readFileSync(this.options.config.caPath, "utf8") });
      } catch (error) {
        if (error instanceof DownloadError) return { status: "FAILED", reason: error.message };
        throw error;
      }
      if (downloaded.sha256 !== document.sha256) {
        return { status: "REJECTED", reason: `the download's sha256 is ${downloaded.sha256}, the signed release's is ${document.sha256}: tampered with or corrupted` };
      }
      logger.info("release downloaded and verified", { version: document.version, bytes: downloaded.bytes });
      try {
        await this.releases.install(tarball, document.version);
      } catch (error) {
        if (error instanceof InstallError) return { status: "REJECTED", reason: error.message };
        throw error;
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }

    const pending: PendingSwitch = { jobId, version: document.version, previousVersion: this.options.runningVersion, switchedAt: Date.now() };
    await this.options.jobs.update(jobId, "IN_PROGRESS", { step: "restarting", version: document.version });
    this.state.recordSwitch(pending);
    try {
      this.releases.switchTo(document.version, { previousVersion: pending.previousVersion, deadlineEpochSeconds: this.deadlineEpochSeconds(pending) });
    } catch (error) {
      this.releases.remove(document.version);
      return { status: "FAILED", reason: `could not switch to ${document.version}: ${errorText(error)}` };
    }
    logger.info("switched to the new version; restarting", { version: document.version, previousVersion: pending.previousVersion });
    this.restarting = true;
    this.options.restart(`switched to version ${document.version}`);
    return { status: "RESTARTING" };
  }

  /** The job document, parsed, with its signature verified; or why the job is rejected. */
  private check(rawDocument: unknown): { document: AgentJobDocument } | { reason: string } {
    const operation = (rawDocument as { operation?: unknown } | undefined)?.operation;
    if (operation !== AGENT_UPDATE_OPERATION) return { reason: `unknown operation ${JSON.stringify(operation ?? null)}: this agent runs only "${AGENT_UPDATE_OPERATION}"` };
    const parsed = agentJobDocumentSchema.safeParse(rawDocument);
    if (!parsed.success) return { reason: `bad job document: ${parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ")}` };
    const { publicKey } = this.options.config.release;
    if (!publicKey) return { reason: "no release.publicKey in the agent config: this device accepts no updates" };
    const document = parsed.data;
    if (!verifyReleaseSignature(releasePublicKeyFromBase64(publicKey), document.version, document.sha256, document.signature)) {
      return { reason: `the signature of ${document.version} does not verify against the configured release public key` };
    }
    return { document };
  }

  /** On connect after a restart: report the outcome of the switch this agent was restarted for. */
  private async finishSwitch(): Promise<void> {
    const pending = this.state.pendingSwitch();
    if (!pending) return;
    const logger = this.logger.child({ jobId: pending.jobId });
    if (pending.version === this.options.runningVersion && !pending.rollbackReason) {
      // The marker goes first: once SUCCEEDED is recorded, a restart after the deadline must not roll back.
      this.releases.endTrial();
      await this.finish(pending.jobId, "SUCCEEDED", `version ${pending.version} connected`, logger);
      const removed = this.releases.prune([pending.version, pending.previousVersion]);
      if (removed.length > 0) logger.info("removed old releases", { removed });
      return;
    }
    const reason = pending.rollbackReason ?? this.reasonForRestartOnPrevious(pending);
    // The failed release goes before the report, so a FAILED job means the device is clean (removal is idempotent if we stop in between).
    if (this.releases.currentVersion() !== pending.version) this.releases.remove(pending.version);
    this.releases.endTrial();
    await this.finish(pending.jobId, "FAILED", reason, logger);
  }

  /**
   * Epoch seconds by which the new version must connect: whole seconds, so the launcher (which
   * reads them from the trial marker) and this process's timer use the same instant.
   */
  private deadlineEpochSeconds(pending: PendingSwitch): number {
    return Math.ceil(pending.switchedAt / 1000) + this.options.config.release.connectDeadlineSeconds;
  }

  /**
   * This (the previous) version runs although the switch recorded no rollback: past the deadline,
   * the launcher switched back because the new version never got as far as its own rollback (it
   * could not start, or crashed before connecting); before it, something else (a power cut before
   * the switch, a manual install.sh) did.
   */
  private reasonForRestartOnPrevious(pending: PendingSwitch): string {
    if (Date.now() >= this.deadlineEpochSeconds(pending) * 1000) {
      return `version ${pending.version} did not start and connect within ${this.options.config.release.connectDeadlineSeconds} s; the launcher rolled back to ${this.options.runningVersion}`;
    }
    return `the agent restarted on ${this.options.runningVersion} before ${pending.version} took over`;
  }

  private rollBack(pending: PendingSwitch): void {
    const reason = `version ${pending.version} did not connect within ${this.options.config.release.connectDeadlineSeconds} s; rolled back to ${pending.previousVersion}`;
    if (!this.releases.has(pending.previousVersion)) {
      this.logger.error("cannot roll back: the previous version is gone; staying on this one", { jobId: pending.jobId, previousVersion: pending.previousVersion });
      return;
    }
    this.state.recordRollback(reason);
    this.releases.switchTo(pending.previousVersion);
    this.logger.error("rolling back", { jobId: pending.jobId, reason });
    this.restarting = true;
    this.options.restart(reason);
  }

  /** Records the outcome first (a restart between the two answers the job again, never reruns it), then reports it. */
  private async finish(jobId: string, status: TerminalOutcome, reason: string, logger: Logger): Promise<void> {
    this.state.recordOutcome({ jobId, status, reason });
    (status === "SUCCEEDED" ? logger.info : logger.warn)("update job finished", { status, reason });
    await this.options.jobs.update(jobId, status satisfies ReportedStatus, { reason });
  }
}
