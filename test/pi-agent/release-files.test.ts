import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderUnit } from "../../pi-agent/build";
import { parseAgentConfig } from "../../pi-agent/config";
import { AGENT_NODE_FLAGS } from "../../pi-agent/runtime";
import { deviceSerial } from "../../pi-agent/serial";

const template = readFileSync(join(__dirname, "..", "..", "pi-agent", "release", "smart-home-agent.service"), "utf8");
const install = readFileSync(join(__dirname, "..", "..", "pi-agent", "release", "install.sh"), "utf8");

const minimalConfig = { endpoint: "example-ats.iot.eu-west-1.amazonaws.com", caPath: "/ca.pem", claim: { certificatePath: "/c.pem", privateKeyPath: "/c.key" }, project: "smarthome", environment: "dev" };

describe("pi agent: systemd unit", () => {
  const unit = renderUnit(template);
  const directives = unit.split("\n").filter((line) => /^[A-Za-z]+=/.test(line));
  const value = (name: string) => directives.filter((line) => line.startsWith(`${name}=`)).map((line) => line.slice(name.length + 1));

  it("is hardened, with a dedicated user, a read-only system and a state directory", () => {
    expect(value("User")).toEqual(["smart-home-agent"]);
    expect(value("ProtectSystem")).toEqual(["strict"]);
    expect(value("StateDirectory")).toEqual(["smart-home-agent"]);
    expect(value("NoNewPrivileges")).toEqual(["yes"]);
    expect(value("CapabilityBoundingSet")).toEqual([""]);
    expect(value("RestartPreventExitStatus")).toEqual(["78"]);
  });

  it("starts the program through the launcher (outside the release folder), restarts it whatever its exit, and lets it write only its release folder and claim", () => {
    // An update switches `current` and exits 75; Restart=always starts the launcher, which starts
    // the new version, or the previous one once the new one missed its connect deadline.
    expect(value("Restart")).toEqual(["always"]);
    expect(value("ExecStart")[0]).toMatch(/^\/usr\/local\/lib\/smart-home-agent\/launch\.sh .* -- --config /);
    expect(install).toContain('launcher_dir=/usr/local/lib/smart-home-agent\n');
    expect(install).toContain('install -m 0755 "$here/launch.sh" "$launcher_dir/launch.sh.new"\n');
    expect(value("ReadWritePaths")).toEqual(["/etc/smart-home-agent/claim /opt/smart-home-agent"]);
    expect(parseAgentConfig(minimalConfig).release.directory).toBe("/opt/smart-home-agent");
  });

  it("has no MemoryDenyWriteExecute (V8's JIT needs it off) and runs node with the runtime's flags", () => {
    expect(value("MemoryDenyWriteExecute")).toEqual([]);
    expect(value("ExecStart")).toEqual([`/usr/local/lib/smart-home-agent/launch.sh ${AGENT_NODE_FLAGS.join(" ")} -- --config /etc/smart-home-agent/config.json`]);
    expect(value("Environment")).toEqual(["MALLOC_ARENA_MAX=2"]);
    expect(unit).not.toMatch(/^@/m);
  });
});

describe("pi agent: config and serial", () => {
  const minimal = minimalConfig;

  it("fills the documented defaults", () => {
    expect(parseAgentConfig(minimal)).toMatchObject({ port: 8883, stateDirectory: "/var/lib/smart-home-agent", keepAliveSeconds: 60, commandTimeoutMs: 10_000, outboxLimit: 1000, gpio: { backend: "simulated", chip: "gpiochip0", outputs: {} } });
  });

  it("refuses a bad config with one line naming every problem", () => {
    const error = (() => {
      try {
        parseAgentConfig({ ...minimal, port: 0, gpio: { backend: "sysfs" }, extra: true }, "config.json");
      } catch (caught) {
        return caught as Error;
      }
      throw new Error("accepted a bad config");
    })();
    expect(error.message.split("\n")).toHaveLength(1);
    expect(error.message).toMatch(/^config\.json is invalid: /);
    for (const field of ["port", "gpio.backend", "extra"]) expect(error.message).toContain(field);
  });

  it("reads the Pi's own serial (NUL-terminated lowercase hex) in canonical form, and prefers the config's", () => {
    const path = join(mkdtempSync(join(tmpdir(), "serial-")), "serial-number");
    writeFileSync(path, "00000000b83c3c1b\0");
    expect(deviceSerial(undefined, path)).toBe("00000000B83C3C1B");
    expect(deviceSerial("sn-123", path)).toBe("SN-123");
    expect(() => deviceSerial(undefined, join(path, "missing"))).toThrow(/set "serial" in the config/);
  });
});
