import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { AgentConfig } from "../config";
import { AGENT_ENVIRONMENT, AGENT_NODE_FLAGS } from "../runtime";

/** The agent as its own OS process (tests, sim and bench) (a bundle run by a node binary), with its JSON log lines collected. */
export interface AgentProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, any>[];
  readonly stderr: string[];
  waitFor(message: string, timeoutMs?: number): Promise<Record<string, any>>;
  exited(): Promise<number | null>;
}

export function startAgentProcess(command: string[], agentJs: string, config: AgentConfig, env: NodeJS.ProcessEnv = {}): AgentProcess {
  // `command` runs node (e.g. [process.execPath] or [qemu, node]); flags and environment as the unit's.
  const [program, ...args] = command;
  return spawnAgent(program!, (configPath) => [...args, ...AGENT_NODE_FLAGS, agentJs, "--config", configPath], config, env);
}

/**
 * The agent as the systemd unit starts it: through the launcher (pi-agent/release/launch.sh) with
 * the unit's arguments, so the launcher picks (and if a trial ran out, rolls back) the release under
 * `config.release.directory`. Its stderr line, if any, is in the run's `stderr`.
 */
export function startAgentThroughLauncher(launcher: string, config: AgentConfig): AgentProcess {
  return spawnAgent(launcher, (configPath) => [...AGENT_NODE_FLAGS, "--", "--config", configPath], config, { SMART_HOME_AGENT_DIRECTORY: config.release.directory });
}

/** Writes the config beside the state directory, spawns `program` with `argsFor(configPath)` and collects its JSON log lines. */
function spawnAgent(program: string, argsFor: (configPath: string) => string[], config: AgentConfig, env: NodeJS.ProcessEnv): AgentProcess {
  const configPath = join(config.stateDirectory, "..", "config.json");
  mkdirSync(dirname(configPath), { recursive: true });
  writeFileSync(configPath, JSON.stringify(config));
  const child = spawn(program, argsFor(configPath), { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...AGENT_ENVIRONMENT, ...env } });
  const lines: Record<string, any>[] = [];
  const stderr: string[] = [];
  let partial = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    const text = partial + chunk.toString("utf8");
    const complete = text.split("\n");
    partial = complete.pop()!;
    for (const line of complete) if (line.trim()) lines.push(JSON.parse(line));
  });
  child.stderr!.on("data", (chunk: Buffer) => void stderr.push(chunk.toString("utf8")));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    lines,
    stderr,
    waitFor: async (message, timeoutMs = 30_000) => {
      const started = Date.now();
      while (!lines.some((line) => line.message === message) && child.exitCode === null) {
        if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for agent log "${message}"`);
        await new Promise((resume) => setTimeout(resume, 20));
      }
      const found = lines.find((line) => line.message === message);
      if (!found) throw new Error(`agent exited (${child.exitCode}) before "${message}": ${stderr.join("")} ${JSON.stringify(lines.slice(-5))}`);
      return found;
    },
    exited: () => exit,
  };
}
