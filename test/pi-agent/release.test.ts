import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectNames } from "../../contracts/names";
import { startLocalPlatform, type LocalPlatform } from "../../local/platform";
import { buildRelease, type Release } from "../../pi-agent/build";
import { defaultConfig } from "../helpers/synth";
import { startAgentProcess, type AgentProcess } from "../../pi-agent/sim/agent-process";
import { agentConfigFor, command, controllerFor, registerSerials, until, type Controller } from "./fixtures";

/**
 * The arm64 artifact itself, not the x64 source: the release tarball is unpacked and its own Node.js
 * runs its own bundle and aws-crt binary under qemu user-mode emulation, against the local platform.
 */
jest.setTimeout(300_000);

const QEMU = "/usr/bin/qemu-aarch64-static";
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
const names = projectNames(defaultConfig.project, defaultConfig.name);
let release: Release;
let unpacked: string;
let platform: LocalPlatform;
let controller: Controller;
let agent: AgentProcess | undefined;

beforeAll(async () => {
  const missing = [QEMU, join(ARM64_SYSROOT, "lib", "ld-linux-aarch64.so.1"), join(ARM64_SYSROOT, "lib", "libstdc++.so.6")].filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new Error(`the arm64 release cannot run here: ${missing.join(", ")} missing (Debian qemu-user-static, libc6-arm64-cross, libstdc++6-arm64-cross); run npm run setup`);
  }
  const out = mkdtempSync(join(tmpdir(), "agent-release-test-"));
  release = await buildRelease(out);
  execFileSync("tar", ["-xzf", release.tarball, "-C", out]);
  unpacked = join(out, `smart-home-agent-${release.version}-linux-arm64`);
  platform = await startLocalPlatform({ config: defaultConfig, stateDirectory: mkdtempSync(join(tmpdir(), "pi-agent-release-")) });
  controller = await controllerFor(platform, names.topicRoot);
});

afterAll(async () => {
  if (agent && agent.child.exitCode === null) agent.child.kill("SIGKILL");
  await controller?.close();
  await platform?.stop();
});

describe("pi agent release (linux-arm64)", () => {
  it("has the documented layout, an aarch64 node and aws-crt binary, and its sha256", () => {
    expect(release.files.map((file) => file.path.split("/").slice(1).join("/"))).toEqual(
      expect.arrayContaining(["bin/node", "lib/agent.js", "lib/aws-crt-nodejs.node", "systemd/smart-home-agent.service", "install.sh", "launch.sh", "config.example.json", "docs/pi.md", "VERSION"]),
    );
    expect(release.sha256).toMatch(/^[0-9a-f]{64}$/);
    for (const binary of ["bin/node", "lib/aws-crt-nodejs.node"]) {
      const header = execFileSync("od", ["-An", "-tx1", "-j18", "-N2", join(unpacked, binary)]).toString().trim();
      expect([binary, header]).toEqual([binary, "b7 00"]); // ELF e_machine 183: EM_AARCH64
    }
    expect(statSync(join(unpacked, "bin", "node")).mode & 0o111).not.toBe(0);
  });

  it("under qemu, provisions by claim, receives a command and publishes the response", async () => {
    await registerSerials(platform, "SN-ARM64-1");
    const config = agentConfigFor(platform, defaultConfig, { serial: "SN-ARM64-1" });
    agent = startAgentProcess([QEMU, join(unpacked, "bin", "node")], join(unpacked, "lib", "agent.js"), config, { QEMU_LD_PREFIX: ARM64_SYSROOT });
    const ready = await agent.waitFor("ready", 180_000);
    expect(ready).toMatchObject({ thingName: "smarthome-dev-SN-ARM64-1", version: release.version });
    expect(agent.lines.some((line) => line.message === "provisioned")).toBe(true);
    await controller.send("smarthome-dev-SN-ARM64-1", command("arm64-1", "get-state", {}, 120_000));
    await until(() => controller.received.some((message) => message.payload.commandId === "arm64-1"), 60_000, "the arm64 agent's response");
    expect(controller.received.find((message) => message.payload.commandId === "arm64-1")).toMatchObject({
      kind: "responses",
      payload: { result: { thingName: "smarthome-dev-SN-ARM64-1", agentVersion: release.version } },
    });
    agent.child.kill("SIGTERM");
    expect(await agent.exited()).toBe(0);
  });
});
