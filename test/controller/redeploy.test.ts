import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sshClientOptions, startSshServer, type SshServer } from "../helpers/ssh-server";

/**
 * controller/deploy/redeploy.sh over a real SSH server on loopback, piped to `sudo -n bash -s --
 * <image>` exactly as the null_resource does. No container engine runs on these machines (nor in
 * CI), so `docker` on the session's PATH is a stand-in (fixtures/docker) that keeps each container's
 * image and running state in files; the script's own logic (lock, pull, stop, run, health,
 * rollback) is what is under test.
 */
jest.setTimeout(60_000);

const SCRIPT = join(__dirname, "..", "..", "controller", "deploy", "redeploy.sh");
const REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/smarthome-dev/controller";
const image = (tag: string) => `${REPOSITORY}:${tag}`;

let server: SshServer;
let root: string;
const state = () => join(root, "docker");
const configDir = () => join(root, "etc");

function redeploy(target: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const ssh = spawn("ssh", [...sshClientOptions(server), `${server.user}@127.0.0.1`, `sudo -n bash -s -- ${target}`], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    ssh.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    ssh.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    ssh.once("exit", (code) => resolve({ code, output }));
    ssh.stdin.end(readFileSync(SCRIPT));
  });
}

/** Containers by name → [image, running]. */
function containers(): Record<string, [string, boolean]> {
  const dir = join(state(), "containers");
  if (!existsSync(dir)) return {};
  return Object.fromEntries(
    readdirSync(dir).map((name) => [name, [readFileSync(join(dir, name, "image"), "utf8").trim(), readFileSync(join(dir, name, "running"), "utf8").trim() === "1"]]),
  );
}
const setSwitch = (name: string, lines: string[]) => writeFileSync(join(state(), name), lines.map((line) => `${line}\n`).join(""));

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "redeploy-"));
  server = await startSshServer({
    PATH: `${join(__dirname, "fixtures")}:/usr/local/bin:/usr/bin:/bin`,
    DOCKER_STANDIN_STATE: join(root, "docker"),
    CONTROLLER_CONFIG_DIR: join(root, "etc"),
    CONTROLLER_REDEPLOY_LOCK: join(root, "redeploy.lock"),
    CONTROLLER_HEALTH_TIMEOUT_SECONDS: "2",
    CONTROLLER_HEALTH_POLL_SECONDS: "1",
  });
});

afterAll(async () => {
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  rmSync(state(), { recursive: true, force: true });
  rmSync(configDir(), { recursive: true, force: true });
  mkdirSync(state(), { recursive: true });
  mkdirSync(configDir(), { recursive: true });
  // What the ec2 stack's user data writes.
  writeFileSync(join(configDir(), "run.conf"), "CONTAINER_NAME=controller\nCONTROLLER_PORT=8080\nLOG_REGION=eu-west-1\nLOG_GROUP=/smarthome/dev/controller\n");
  writeFileSync(join(configDir(), "controller.env"), "PORT=8080\n");
});

const steps = (output: string) => [...output.matchAll(/ redeploy step=(\S+)/g)].map((match) => match[1]);

describe("redeploy.sh over SSH", () => {
  it("happy path: first deploy, then a new tag replaces the running container and records it", async () => {
    const first = await redeploy(image("sha-1"));
    expect(first.code).toBe(0);
    expect(steps(first.output)).toEqual(["lock", "current", "pull", "run", "health", "done"]);
    expect(containers()).toEqual({ controller: [image("sha-1"), true] });

    const second = await redeploy(image("sha-2"));
    expect(second.code).toBe(0);
    expect(steps(second.output)).toEqual(["lock", "current", "pull", "stop", "run", "health", "done"]);
    expect(second.output).toMatch(/step=done result=deployed image=\S+:sha-2 previous=\S+:sha-1/);
    expect(containers()).toEqual({ controller: [image("sha-2"), true] });
    expect(readFileSync(join(configDir(), "image"), "utf8")).toBe(`${image("sha-2")}\n`);
    const args = readFileSync(join(state(), "containers", "controller", "args"), "utf8");
    expect(args).toContain("--restart unless-stopped");
    expect(args).toContain(`--env-file ${join(configDir(), "controller.env")}`);
    expect(args).toContain("--publish 8080:8080");
    expect(args).toContain("--log-opt awslogs-group=/smarthome/dev/controller");

    // The same image again changes nothing.
    const again = await redeploy(image("sha-2"));
    expect(again.code).toBe(0);
    expect(again.output).toContain("step=done result=unchanged");
    expect(readFileSync(join(state(), "calls.log"), "utf8").match(/^pull /gm)).toHaveLength(2);
  });

  it("pull failure: exits 1 and leaves the old container running, untouched", async () => {
    expect((await redeploy(image("sha-1"))).code).toBe(0);
    setSwitch("fail-pull", [image("sha-bad")]);
    const failed = await redeploy(image("sha-bad"));
    expect(failed.code).toBe(1);
    expect(failed.output).toMatch(/step=pull result=failed exit=1 reason="could not pull \S+:sha-bad; \S+:sha-1 keeps running"/);
    expect(containers()).toEqual({ controller: [image("sha-1"), true] });
    const calls = readFileSync(join(state(), "calls.log"), "utf8").split("\n");
    expect(calls.slice(calls.findIndex((call) => call.includes("sha-bad"))).filter((call) => /^(stop|rm|rename|run)/.test(call))).toEqual([]);
  });

  it("unhealthy new container: rolls back to the previous image and exits 1", async () => {
    expect((await redeploy(image("sha-1"))).code).toBe(0);
    setSwitch("unhealthy", [image("sha-sick")]);
    const failed = await redeploy(image("sha-sick"));
    expect(failed.code).toBe(1);
    expect(steps(failed.output)).toEqual(["lock", "current", "pull", "stop", "run", "rollback", "health"]);
    expect(failed.output).toMatch(/step=rollback result=restored image=\S+:sha-1/);
    expect(containers()).toEqual({ controller: [image("sha-1"), true] });
    expect(readFileSync(join(configDir(), "image"), "utf8")).toBe(`${image("sha-1")}\n`);
  });

  it("two deploys at once: the second is refused (exit 75) and the first completes", async () => {
    setSwitch("pull-delay", ["2"]);
    const first = redeploy(image("sha-a"));
    // Let the first take the lock before the second starts.
    for (let attempt = 0; attempt < 100 && !existsSync(join(state(), "calls.log")); attempt += 1) await new Promise((resume) => setTimeout(resume, 50));
    const second = await redeploy(image("sha-b"));
    expect(second.code).toBe(75);
    expect(second.output).toMatch(/step=lock result=failed exit=75/);
    expect((await first).code).toBe(0);
    expect(containers()).toEqual({ controller: [image("sha-a"), true] });
  });

  it("refuses bad input and changes nothing", async () => {
    for (const target of ["not-an-image", `${REPOSITORY}:latest`, `${REPOSITORY}:tag;reboot`]) {
      const refused = await redeploy(`'${target}'`);
      expect(refused.code).toBe(64);
    }
    expect(existsSync(join(state(), "calls.log"))).toBe(false);
  });
});

describe("the deploy scripts and their stand-ins", () => {
  it("pass shellcheck (installed by npm run setup)", () => {
    const scripts = [SCRIPT, join(__dirname, "..", "..", "controller", "deploy", "ssh-redeploy.sh"), ...["docker", "aws", "sudo"].map((name) => join(__dirname, "fixtures", name))];
    expect(scripts).toHaveLength(5);
    expect(() => execFileSync("shellcheck", ["--severity=style", ...scripts], { encoding: "utf8" })).not.toThrow();
  });
});
