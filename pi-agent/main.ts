import { Agent } from "./agent";
import { ConfigError, loadAgentConfig } from "./config";
import { createLogger, errorText } from "./log";

/**
 * `node agent.js [--config <file>]`: runs until SIGTERM or SIGINT. A bad config stops it with one
 * line on stderr and exit code 78 (EX_CONFIG), which the unit does not restart.
 */
declare const AGENT_VERSION: string | undefined;
const version = typeof AGENT_VERSION === "string" ? AGENT_VERSION : "dev";

async function main(): Promise<void> {
  const flag = process.argv.indexOf("--config");
  const file = flag >= 0 ? process.argv[flag + 1] : (process.env.SMART_HOME_AGENT_CONFIG ?? "/etc/smart-home-agent/config.json");
  const logger = createLogger({ component: "smart-home-agent", version });
  let config;
  try {
    config = loadAgentConfig(file ?? "");
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`smart-home-agent: ${error.message}\n`);
    process.exit(78);
  }
  const agent = new Agent(config, { logger, version });
  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    logger.info("stopping", { signal });
    stopping ??= agent.stop().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  try {
    await agent.start();
    logger.info("ready", { thingName: agent.thingName });
  } catch (error) {
    logger.error("agent failed", { error: errorText(error) });
    process.exit(1);
  }
}

void main();
