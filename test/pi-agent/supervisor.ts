import { join } from "node:path";
import type { AgentConfig } from "../../pi-agent/config";
import { startAgentThroughLauncher, type AgentProcess } from "../../pi-agent/sim/agent-process";

/** The unit's ExecStart, the real script (install.sh copies it to /usr/local/lib/smart-home-agent on a Pi). */
export const LAUNCHER = join(__dirname, "..", "..", "pi-agent", "release", "launch.sh");

/**
 * What systemd does for the agent's unit, for tests: runs the real launcher as ExecStart does
 * (`launch.sh <runtime flags> -- --config …`, with SMART_HOME_AGENT_DIRECTORY pointing it at the
 * test's `release.directory`), which rolls back a version whose trial ran out and execs
 * `current/bin/node … current/lib/agent.js`, so each start runs whatever version the link points at
 * then; and restarts it whenever it exits, except with 78 (RestartPreventExitStatus=78).
 * `restartDelayMs` stands in for RestartSec=5 so tests do not wait seconds per restart.
 */
export class Supervisor {
  readonly runs: AgentProcess[] = [];
  private stopping = false;
  private readonly settled: Promise<void>;
  private resolveSettled!: () => void;

  constructor(
    private readonly config: AgentConfig,
    private readonly restartDelayMs = 100,
  ) {
    this.settled = new Promise((resolve) => (this.resolveSettled = resolve));
    this.start();
  }

  get current(): AgentProcess {
    return this.runs.at(-1)!;
  }

  /** Every log line of every run, in order. */
  get lines(): Record<string, any>[] {
    return this.runs.flatMap((run) => run.lines);
  }

  /** Exit codes of the runs that ended. */
  get exitCodes(): (number | null)[] {
    return this.runs.filter((run) => run.child.exitCode !== null || run.child.signalCode !== null).map((run) => run.child.exitCode);
  }

  /** Waits for a run (this one or a later one) to log `message`; returns the line. */
  async waitFor(message: string, predicate: (line: Record<string, any>) => boolean = () => true, timeoutMs = 60_000): Promise<Record<string, any>> {
    const started = Date.now();
    for (;;) {
      const found = this.lines.find((line) => line.message === message && predicate(line));
      if (found) return found;
      if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for "${message}"; last lines: ${JSON.stringify(this.lines.slice(-5))}`);
      await new Promise((resume) => setTimeout(resume, 50));
    }
  }

  /** SIGTERM, as `systemctl stop`; no restart afterwards. */
  async stop(): Promise<void> {
    this.stopping = true;
    const run = this.current;
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGTERM");
    await run.exited();
    this.resolveSettled();
    await this.settled;
  }

  private start(): void {
    const run = startAgentThroughLauncher(LAUNCHER, this.config);
    this.runs.push(run);
    void run.exited().then((code) => {
      if (this.stopping || code === 78) return this.resolveSettled();
      setTimeout(() => (this.stopping ? this.resolveSettled() : this.start()), this.restartDelayMs);
    });
  }
}
