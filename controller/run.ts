/**
 * npm run controller                 the controller with the environment of this shell (AWS)
 * npm run controller -- --local      the local platform (as npm run local) plus the controller
 *                                    reading its identity from the local Secrets Manager stand-in
 */
import { join } from "node:path";
import { loadEnvironment } from "../config";
import { startLocalPlatform } from "../local/platform";
import { startLocalController } from "./local";

async function runLocal(): Promise<void> {
  const config = loadEnvironment();
  const platform = await startLocalPlatform({
    config,
    stateDirectory: join(__dirname, "..", ".local"),
    mqttPort: Number(process.env.LOCAL_MQTT_PORT ?? 8883),
    apiPort: Number(process.env.LOCAL_API_PORT ?? 4566),
  });
  const controller = await startLocalController(platform, config, { port: config.controller.port });
  controller.process.stdout!.pipe(process.stdout);
  console.log(`Local platform and controller running (Ctrl-C stops both)
  MQTT (mutual TLS)   localhost:${platform.mqtt.port}   CA ${platform.mqtt.caPath}
  serial API          ${platform.api.url}   x-api-key: ${platform.api.key}
  claim certificates  ${platform.claims.map((claim) => `${claim.batch}: ${claim.certificatePath} + ${claim.privateKeyPath}`).join("\n                      ")}
  controller API      ${controller.url}   Authorization: Bearer ${controller.apiToken}
    curl -H 'Authorization: Bearer ${controller.apiToken}' ${controller.url}/devices`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    controller
      .stop()
      .then(() => platform.stop())
      .then(
        () => process.exit(0),
        (error: Error) => {
          console.error(`stopping failed: ${error.message}`);
          process.exit(1);
        },
      );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === "--local") {
  runLocal().catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
} else if (args.length === 0) {
  require("./main");
} else {
  console.error(`unknown argument ${args.join(" ")}; usage: npm run controller [-- --local]`);
  process.exit(2);
}
