/**
 * The controller process (the container's entry point): settings from the environment, secrets
 * from Secrets Manager, MQTT to AWS IoT Core, HTTP API on PORT. SIGTERM (docker stop) drains.
 */
import { startController } from "./app";
import { jsonLog } from "./log";
import { parseSettings } from "./settings";

const log = jsonLog();

async function main(): Promise<void> {
  const settings = parseSettings(process.env);
  const controller = await startController(settings, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("signal", { signal });
    controller.shutdown().then(
      () => process.exit(0),
      (error: Error) => {
        log("shutdown-failed", { error: error.message }, "error");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: Error) => {
  log("start-failed", { error: error.message }, "error");
  process.exit(1);
});
