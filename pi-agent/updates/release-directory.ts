import { execFile } from "node:child_process";
import { closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { writeFileAtomically } from "../files";

const run = promisify(execFile);

export class InstallError extends Error {}

/** A switch on trial: the release `current` goes back to, and when (the connect deadline). */
export interface Trial {
  readonly previousVersion: string;
  /** Epoch seconds by which the new version must have connected. */
  readonly deadlineEpochSeconds: number;
}

/** The launcher exports the version on trial, before its deadline, in this variable (pi-agent/main.ts reads it). */
export const ON_TRIAL_VARIABLE = "SMART_HOME_AGENT_ON_TRIAL";

/**
 * The trial marker's text, read by pi-agent/release/launch.sh (POSIX sh, no JSON parser): one
 * `key=value` per line. The launcher rolls `current` back to `previous` when it starts after
 * `deadline` and `current` still names `version`.
 */
export function trialMarkerText(version: string, trial: Trial): string {
  return `version=${version}\nprevious=${trial.previousVersion}\ndeadline=${trial.deadlineEpochSeconds}\n`;
}

/**
 * The agent's program folder (config `release.directory`, /opt/smart-home-agent on a Pi):
 *
 *   releases/<version>/   one unpacked release each (bin/node, lib/agent.js, VERSION, …)
 *   current -> releases/<version>   the link the systemd unit's launcher (release/launch.sh) starts
 *   trial                  while a switch is on trial: the version, the previous one and the
 *                          deadline, so the launcher can roll back a version too broken to run
 *
 * A release is unpacked into a temp folder beside `releases/<version>` and renamed into place, and
 * `current` is replaced by renaming a new link over it ("If newpath already exists, it will be
 * atomically replaced", rename(2), https://man7.org/linux/man-pages/man2/rename.2.html),
 * so a power cut leaves either the old or the new version runnable, never a half.
 */
export class ReleaseDirectory {
  readonly releases: string;
  readonly current: string;
  readonly trialMarker: string;

  constructor(readonly directory: string) {
    this.releases = join(directory, "releases");
    this.current = join(directory, "current");
    this.trialMarker = join(directory, "trial");
  }

  /** The version `current` points at; undefined before the first install. */
  currentVersion(): string | undefined {
    try {
      return basename(readlinkSync(this.current));
    } catch {
      return undefined;
    }
  }

  has(version: string): boolean {
    return existsSync(join(this.releases, version, "VERSION"));
  }

  /** Versions present under releases/, sorted by name. */
  versions(): string[] {
    if (!existsSync(this.releases)) return [];
    return readdirSync(this.releases, { withFileTypes: true }).filter((entry) => entry.isDirectory() && !entry.name.startsWith(".")).map((entry) => entry.name).sort();
  }

  /**
   * Unpacks a release tarball (one top folder `smart-home-agent-<version>-linux-<arch>/`, as
   * pi-agent/build.ts writes it) to `releases/<version>/`. Refuses the running version; replaces a
   * leftover copy of any other. Nothing is left behind when it throws.
   */
  async install(tarball: string, version: string): Promise<string> {
    if (this.currentVersion() === version) throw new InstallError(`version ${version} is the running version`);
    mkdirSync(this.releases, { recursive: true, mode: 0o755 });
    const incoming = mkdtempSync(join(this.releases, ".incoming-"));
    try {
      // --no-same-owner: the agent's user owns what it unpacks (it is not root anyway). The tarball
      // was verified (sha256 and signature) before this; GNU tar also drops leading "/" and "../".
      await run("tar", ["-xzf", tarball, "-C", incoming, "--no-same-owner"]).catch((error: Error & { stderr?: string }) => {
        throw new InstallError(`cannot unpack the release: ${(error.stderr ?? error.message).trim()}`);
      });
      const tops = readdirSync(incoming);
      if (tops.length !== 1 || !/^smart-home-agent-[^/]+$/.test(tops[0]!)) throw new InstallError(`the release must hold one folder smart-home-agent-<version>-linux-<arch>/, not ${JSON.stringify(tops)}`);
      const unpacked = join(incoming, tops[0]!);
      for (const required of ["VERSION", "bin/node", "lib/agent.js"]) {
        if (!existsSync(join(unpacked, required))) throw new InstallError(`the release has no ${required}`);
      }
      const inside = readFileSync(join(unpacked, "VERSION"), "utf8").trim();
      if (inside !== version) throw new InstallError(`the release's VERSION is ${inside}, the job's is ${version}`);
      const target = join(this.releases, version);
      rmSync(target, { recursive: true, force: true });
      renameSync(unpacked, target);
      syncDirectory(this.releases);
      return target;
    } finally {
      rmSync(incoming, { recursive: true, force: true });
    }
  }

  /**
   * Points `current` at an installed version, atomically. With a `trial`, the trial marker is
   * written first (so `current` never names a version on trial without it) and removed again if
   * the switch fails.
   */
  switchTo(version: string, trial?: Trial): void {
    if (!this.has(version)) throw new InstallError(`version ${version} is not installed under ${this.releases}`);
    if (trial) writeFileAtomically(this.trialMarker, trialMarkerText(version, trial));
    const link = `${this.current}.${process.pid}.tmp`;
    try {
      rmSync(link, { force: true });
      symlinkSync(join("releases", version), link);
      renameSync(link, this.current);
    } catch (error) {
      if (trial) this.endTrial();
      throw error;
    }
    syncDirectory(this.directory);
  }

  /** The switch is settled (SUCCEEDED or FAILED recorded): the launcher has nothing more to check. */
  endTrial(): void {
    rmSync(this.trialMarker, { force: true });
    syncDirectory(this.directory);
  }

  /** Deletes one installed version (never the current one). */
  remove(version: string): void {
    if (this.currentVersion() === version) throw new InstallError(`version ${version} is the running version`);
    rmSync(join(this.releases, version), { recursive: true, force: true });
  }

  /** Deletes every release but `keep` (and never the current one). */
  prune(keep: readonly string[]): string[] {
    const current = this.currentVersion();
    const removed = this.versions().filter((version) => version !== current && !keep.includes(version));
    for (const version of removed) rmSync(join(this.releases, version), { recursive: true, force: true });
    return removed;
  }
}

function syncDirectory(path: string): void {
  const directory = openSync(path, "r");
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
}
