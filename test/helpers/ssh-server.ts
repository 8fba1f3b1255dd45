import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

/**
 * A real OpenSSH server (Debian's openssh-server) on loopback, for tests: a free port, a throw-away
 * host key and user key, key authentication only, and the given environment in every session
 * (sshd_config `SetEnv`). It logs in the test's own user.
 */
export interface SshServer {
  readonly port: number;
  readonly user: string;
  readonly directory: string;
  /** Private key authorized for `user`. */
  readonly clientKey: string;
  /** known_hosts line of the throw-away host key for 127.0.0.1. */
  readonly knownHosts: string;
  /** `authorized_keys` of the session user (tests may append a key, as EC2 Instance Connect does). */
  readonly authorizedKeys: string;
  stop(): Promise<void>;
}

export const SSHD = "/usr/sbin/sshd";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startSshServer(sessionEnvironment: Record<string, string>): Promise<SshServer> {
  const directory = mkdtempSync(join(tmpdir(), "sshd-"));
  const hostKey = join(directory, "host_ed25519");
  const clientKey = join(directory, "client_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", clientKey]);
  const authorizedKeys = join(directory, "authorized_keys");
  writeFileSync(authorizedKeys, readFileSync(`${clientKey}.pub`), { mode: 0o600 });
  const port = await freePort();
  const knownHosts = join(directory, "known_hosts");
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${readFileSync(`${hostKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ")}\n`);
  mkdirSync(join(directory, "empty"), { mode: 0o755 });
  const setEnv = Object.entries(sessionEnvironment).map(([name, value]) => `${name}=${value}`).join(" ");
  const config = join(directory, "sshd_config");
  writeFileSync(
    config,
    [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      `PidFile ${join(directory, "sshd.pid")}`,
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PubkeyAuthentication yes",
      "PermitRootLogin prohibit-password",
      "UsePAM no",
      // The temp directory is not root-owned 0755 all the way up; the keys are still private.
      "StrictModes no",
      `AllowUsers ${userInfo().username}`,
      setEnv ? `SetEnv ${setEnv}` : "",
      "",
    ].join("\n"),
  );
  // sshd needs its privilege-separation directory to exist.
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const child: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Ready when it accepts a connection.
  for (let attempt = 0; ; attempt += 1) {
    const ready = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (ready) break;
    if (attempt > 100 || child.exitCode !== null) throw new Error(`sshd did not start: ${log}`);
    await new Promise((resume) => setTimeout(resume, 50));
  }
  return {
    port,
    user: userInfo().username,
    directory,
    clientKey,
    knownHosts,
    authorizedKeys,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** ssh options for a client of this server: its key, its host key pinned, no agent, batch mode. */
export function sshClientOptions(server: SshServer): string[] {
  return ["-p", String(server.port), "-i", server.clientKey, "-o", `UserKnownHostsFile=${server.knownHosts}`, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "LogLevel=ERROR"];
}
