/**
 * moto server in the project's own virtual environment (~/.cache/smart-home/venvs/moto, rebuilt
 * when scripts/emulate/requirements.txt changes), started on a free loopback port.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";

const REQUIREMENTS = join(__dirname, "requirements.txt");
const VENV = join(process.env.SMART_HOME_CACHE ?? join(homedir(), ".cache", "smart-home"), "venvs", "moto");

/** Creates or refreshes the venv; returns the moto_server executable. */
export function ensureMotoVenv(): string {
  const wanted = createHash("sha256").update(readFileSync(REQUIREMENTS)).digest("hex");
  const stamp = join(VENV, ".requirements.sha256");
  const server = join(VENV, "bin", "moto_server");
  if (existsSync(server) && existsSync(stamp) && readFileSync(stamp, "utf8") === wanted) return server;
  // The stamp is written last, so an interrupted install is redone from scratch next time.
  rmSync(VENV, { recursive: true, force: true });
  console.log(`creating the moto venv in ${VENV} (pip, about a minute)`);
  execFileSync(process.env.PYTHON ?? "python3", ["-m", "venv", VENV], { stdio: "inherit" });
  execFileSync(join(VENV, "bin", "pip"), ["install", "--quiet", "--disable-pip-version-check", "-r", REQUIREMENTS], { stdio: "inherit" });
  writeFileSync(stamp, wanted);
  return server;
}

export interface MotoServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts moto_server on 127.0.0.1 at a free port and waits until it answers. */
export async function startMoto(server: string): Promise<MotoServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(server, ["-H", "127.0.0.1", "-p", String(port)], {
    // Without AWS managed policies, attaching AmazonSSMManagedInstanceCore to the controller role fails.
    env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: "true" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  // moto must not outlive this process, however it ends.
  const killMoto = () => child.kill("SIGKILL");
  process.once("exit", killMoto);
  let log = "";
  child.stderr?.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited ${child.exitCode}:\n${log}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`moto_server did not answer on ${endpoint} within 60 s:\n${log}`);
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  return {
    endpoint,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
      }),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
