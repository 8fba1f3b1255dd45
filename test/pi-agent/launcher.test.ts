import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAgentConfig } from "../../pi-agent/config";
import { ON_TRIAL_VARIABLE, ReleaseDirectory, trialMarkerText } from "../../pi-agent/updates/release-directory";

/**
 * The launcher (pi-agent/release/launch.sh, the unit's ExecStart) alone: the real script under sh
 * against scratch release folders. Each release's bin/node is a two-line sh script that prints its
 * version and arguments instead of running an agent: the launcher only decides which release to
 * exec and with what, and that is what these tests read back.
 */
const launcher = join(__dirname, "..", "..", "pi-agent", "release", "launch.sh");
const NODE_FLAGS = ["--jitless", "--max-semi-space-size=1"];
const AGENT_ARGUMENTS = ["--config", "/etc/smart-home-agent/config.json"];

/** A release folder as the updater leaves it: releases/<v>/ for each version, `current` → releases/<current>. */
function device(versions: string[], current: string): ReleaseDirectory {
  const folder = new ReleaseDirectory(join(mkdtempSync(join(tmpdir(), "launcher-")), "opt"));
  for (const version of versions) {
    mkdirSync(join(folder.releases, version, "bin"), { recursive: true });
    writeFileSync(join(folder.releases, version, "VERSION"), `${version}\n`);
    writeFileSync(join(folder.releases, version, "bin", "node"), `#!/bin/sh\necho "${version} $*"\n`, { mode: 0o755 });
  }
  symlinkSync(join("releases", current), folder.current);
  return folder;
}

const epochSeconds = () => Math.floor(Date.now() / 1000);

/** Runs the launcher as systemd would (the unit's arguments); returns what the exec'd "node" printed and the launcher's stderr. */
function launch(folder: ReleaseDirectory, args: string[] = [...NODE_FLAGS, "--", ...AGENT_ARGUMENTS]) {
  const result = spawnSync("sh", [launcher, ...args], { encoding: "utf8", env: { ...process.env, SMART_HOME_AGENT_DIRECTORY: folder.directory } });
  return { status: result.status, started: result.stdout.trim(), stderr: result.stderr.trim().split("\n").filter(Boolean) };
}

/** What "node" prints when the launcher execs `version` with the unit's arguments. */
const startedLine = (folder: ReleaseDirectory, version: string) => `${version} ${[...NODE_FLAGS, join(folder.current, "lib", "agent.js"), ...AGENT_ARGUMENTS].join(" ")}`;

describe("agent launcher (launch.sh, the unit's ExecStart)", () => {
  it("without a trial marker, execs current's node with the node flags, current's agent.js and the agent's arguments", () => {
    const folder = device(["1.0.0"], "1.0.0");
    expect(launch(folder)).toEqual({ status: 0, started: startedLine(folder, "1.0.0"), stderr: [] });
  });

  it("before the deadline, starts the version on trial and leaves current alone", () => {
    const folder = device(["1.0.0", "2.0.0"], "2.0.0");
    writeFileSync(folder.trialMarker, trialMarkerText("2.0.0", { previousVersion: "1.0.0", deadlineEpochSeconds: epochSeconds() + 600 }));
    expect(launch(folder)).toEqual({ status: 0, started: startedLine(folder, "2.0.0"), stderr: [] });
    expect(readlinkSync(folder.current)).toBe(join("releases", "2.0.0"));
  });

  it("before the deadline, tells the version on trial so (a bad config then exits restartably, to be rolled back); never after a rollback", () => {
    const folder = device(["1.0.0", "2.0.0"], "2.0.0");
    const printEnvironment = `#!/bin/sh\necho "on trial: \${${ON_TRIAL_VARIABLE}:-no}"\n`;
    for (const version of ["1.0.0", "2.0.0"]) writeFileSync(join(folder.releases, version, "bin", "node"), printEnvironment, { mode: 0o755 });
    writeFileSync(folder.trialMarker, trialMarkerText("2.0.0", { previousVersion: "1.0.0", deadlineEpochSeconds: epochSeconds() + 600 }));
    expect(launch(folder).started).toBe("on trial: 2.0.0");
    writeFileSync(folder.trialMarker, trialMarkerText("2.0.0", { previousVersion: "1.0.0", deadlineEpochSeconds: epochSeconds() - 30 }));
    expect(launch(folder).started).toBe("on trial: no");
    expect(readlinkSync(folder.current)).toBe(join("releases", "1.0.0"));
  });

  it("after the deadline, switches current back to the previous release by rename, says why in one line, and starts it", () => {
    const folder = device(["1.0.0", "2.0.0"], "2.0.0");
    writeFileSync(folder.trialMarker, trialMarkerText("2.0.0", { previousVersion: "1.0.0", deadlineEpochSeconds: epochSeconds() - 30 }));
    const run = launch(folder);
    expect(run.status).toBe(0);
    expect(run.started).toBe(startedLine(folder, "1.0.0"));
    expect(run.stderr).toHaveLength(1);
    expect(run.stderr[0]).toMatch(new RegExp(`^smart-home-agent launcher: version 2\\.0\\.0 did not start and connect within its deadline \\(3[0-9] s ago\\): switched ${folder.current} back to 1\\.0\\.0$`));
    expect(readlinkSync(folder.current)).toBe(join("releases", "1.0.0"));
    // No temp link left; the marker stays for the agent (1.0.0) to settle and remove; the failed release is the agent's to delete.
    expect(readdirSync(folder.directory).sort()).toEqual(["current", "releases", "trial"]);
    expect(readdirSync(folder.releases).sort()).toEqual(["1.0.0", "2.0.0"]);

    // The next start (current already back on 1.0.0, marker still there) changes nothing and says nothing.
    expect(launch(folder)).toEqual({ status: 0, started: startedLine(folder, "1.0.0"), stderr: [] });
    expect(readlinkSync(folder.current)).toBe(join("releases", "1.0.0"));
  });

  it("after the deadline without the previous release, says so and starts the version on trial (never no agent at all)", () => {
    const folder = device(["2.0.0"], "2.0.0");
    writeFileSync(folder.trialMarker, trialMarkerText("2.0.0", { previousVersion: "1.0.0", deadlineEpochSeconds: epochSeconds() - 30 }));
    expect(launch(folder)).toEqual({
      status: 0,
      started: startedLine(folder, "2.0.0"),
      stderr: [`smart-home-agent launcher: version 2.0.0 missed its connect deadline, but the previous release 1.0.0 is not in ${folder.releases}: starting 2.0.0`],
    });
    expect(readlinkSync(folder.current)).toBe(join("releases", "2.0.0"));
  });

  it("ignores a malformed marker with one line on stderr and starts current, unchanged", () => {
    const past = epochSeconds() - 30;
    const malformed: [string, RegExp][] = [
      ["", /needs version=, previous= and deadline=/],
      ["garbage\n", /unexpected line 'garbage'/],
      [`version=2.0.0\nprevious=1.0.0\n`, /deadline=''/],
      [`version=2.0.0\nprevious=1.0.0\ndeadline=soon\n`, /deadline='soon'/],
      [`version=2.0.0\nprevious=1.0.0\ndeadline=-5\n`, /deadline='-5'/],
      [`version=2.0.0\nprevious=1.0.0\ndeadline=99999999999999999999\n`, /deadline='9+'/],
      [`version=2.0.0\nprevious=../../../tmp\ndeadline=${past}\n`, /previous='\.\.\/\.\.\/\.\.\/tmp'/],
      [`version=2.0.0\nprevious=\ndeadline=${past}\n`, /previous=''/],
      [`version=2.0.0\nprevious=1.0.0\ndeadline=${past}\nextra=1\n`, /unexpected line 'extra=1'/],
    ];
    for (const [content, why] of malformed) {
      const folder = device(["1.0.0", "2.0.0"], "2.0.0");
      writeFileSync(folder.trialMarker, content);
      const run = launch(folder);
      expect([content, run.status, run.started, run.stderr.length, readlinkSync(folder.current)]).toEqual([content, 0, startedLine(folder, "2.0.0"), 1, join("releases", "2.0.0")]);
      expect(run.stderr[0]).toMatch(new RegExp(`^smart-home-agent launcher: ignoring ${folder.trialMarker}: `));
      expect([content, run.stderr[0]]).toEqual([content, expect.stringMatching(why)]);
    }
    expect(malformed).toHaveLength(9);
  });

  it("reads a well-formed marker without a final newline", () => {
    const folder = device(["1.0.0", "2.0.0"], "2.0.0");
    writeFileSync(folder.trialMarker, trialMarkerText("2.0.0", { previousVersion: "1.0.0", deadlineEpochSeconds: epochSeconds() - 30 }).trimEnd());
    expect(launch(folder).started).toBe(startedLine(folder, "1.0.0"));
  });

  it("refuses to guess where agent.js goes without the -- separator (exit 2)", () => {
    const folder = device(["1.0.0"], "1.0.0");
    expect(launch(folder, [...NODE_FLAGS])).toEqual({ status: 2, started: "", stderr: ["smart-home-agent launcher: usage: launch.sh <node flags...> -- <agent arguments...>"] });
  });

  it("defaults to the agent config's release.directory", () => {
    const [, fallback] = /\$\{SMART_HOME_AGENT_DIRECTORY:-([^}]+)\}/.exec(readFileSync(launcher, "utf8")) ?? [];
    const minimal = { endpoint: "example-ats.iot.eu-west-1.amazonaws.com", caPath: "/ca.pem", claim: { certificatePath: "/c.pem", privateKeyPath: "/c.key" }, project: "smarthome", environment: "dev" };
    expect(fallback).toBe(parseAgentConfig(minimal).release.directory);
  });

  it("passes shellcheck as POSIX sh (installed by npm run setup)", () => {
    expect(execFileSync("shellcheck", ["--shell=sh", "--severity=style", launcher], { encoding: "utf8" })).toBe("");
  });
});
