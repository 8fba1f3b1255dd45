import { Agent } from "./agent";
import { ConfigError, loadAgentConfig } from "./config";
import { createLogger, errorText } from "./log";
import { ON_TRIAL_VARIABLE } from "./updates/release-directory";

/**
 * `node agent.js [--config <file>]`: runs until SIGTERM or SIGINT. A bad config stops it with one
 * line on stderr and exit code 78 (EX_CONFIG), which the unit does not restart; except for a
 * version on trial after an update, which exits 1 instead so the unit restarts it and the launcher
 * rolls it back at the deadline (a new version that rejects the device's config must not stop the
 * device for good).
 */
declare const AGENT_VERSION: string | undefined;
const version = typeof AGENT_VERSION === "string" ? AGENT_VERSION : "dev";
/** EX_TEMPFAIL: "restart me" (any code but 78 is restarted by the unit; this one reads clearly in journalctl). */
const EXIT_RESTART = 75;
/** EX_CONFIG: the unit's RestartPreventExitStatus. */
const EXIT_BAD_CONFIG = 78;

async function main(): Promise<void> {
  const flag = process.argv.indexOf("--config");
  const file = flag >= 0 ? process.argv[flag + 1] : (process.env.SMART_HOME_AGENT_CONFIG ?? "/etc/smart-home-agent/config.json");
  const logger = createLogger({ component: "smart-home-agent", version });
  let config;
  try {
    config = loadAgentConfig(file ?? "");
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const onTrial = process.env[ON_TRIAL_VARIABLE] === version;
    process.stderr.write(`smart-home-agent: ${error.message}${onTrial ? ` (version ${version} is on trial: exiting to be rolled back)` : ""}\n`);
    process.exit(onTrial ? 1 : EXIT_BAD_CONFIG);
  }
  let stopping: Promise<void> | undefined;
  const stop = (why: { signal: string } | { restart: string }, exitCode = 0) => {
    logger.info("stopping", why);
    stopping ??= agent.stop().then(() => process.exit(exitCode));
  };
  // After an update switched `current`, exit so systemd's Restart=always starts the new (or, after a
  // rollback, the previous) version through the link.
  const agent = new Agent(config, { logger, version, restart: (reason) => stop({ restart: reason }, EXIT_RESTART) });
  process.on("SIGTERM", () => stop({ signal: "SIGTERM" }));
  process.on("SIGINT", () => stop({ signal: "SIGINT" }));
  try {
    await agent.start();
    // start() also returns when a stop came first (a signal, or a rollback before connecting).
    if (!stopping) logger.info("ready", { thingName: agent.thingName });
  } catch (error) {
    logger.error("agent failed", { error: errorText(error) });
    process.exit(1);
  }
}

void main();
