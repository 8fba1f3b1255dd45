/**
 * npm run local [-- --json]   The whole platform on one machine: AWS IoT Core (MQTT over mutual
 * TLS, fleet provisioning, policies, lifecycle events, rules), DynamoDB, SNS, SQS and the serial
 * API, built from the synthesized stacks of SMART_HOME_ENV (default dev). Ctrl-C stops it.
 *
 * State (CA, keys, alerts, logs) lives in .local/ (ignored by git); the CA is created once.
 */
import { join } from "node:path";
import { loadEnvironment } from "../config";
import { startLocalPlatform } from "./platform";

const STATE_DIRECTORY = join(__dirname, "..", ".local");

async function main(args: readonly string[]): Promise<void> {
  const unknown = args.filter((arg) => arg !== "--json");
  if (unknown.length > 0) {
    console.error(`unknown argument ${unknown.join(" ")}; usage: npm run local [-- --json]`);
    process.exitCode = 2;
    return;
  }
  const platform = await startLocalPlatform({
    config: loadEnvironment(),
    stateDirectory: STATE_DIRECTORY,
    mqttPort: Number(process.env.LOCAL_MQTT_PORT ?? 8883),
    apiPort: Number(process.env.LOCAL_API_PORT ?? 4566),
  });
  const summary = {
    mqtt: { endpoint: "localhost", port: platform.mqtt.port, caPath: platform.mqtt.caPath },
    api: { url: platform.api.url, key: platform.api.key },
    provisioningTemplate: platform.provisioningTemplate,
    claims: platform.claims,
    controller: platform.controller,
    alerts: platform.alertsPath,
  };
  if (args.includes("--json")) {
    console.log(JSON.stringify(summary));
  } else {
    console.log(`Smart-home platform running locally (Ctrl-C stops it)
  MQTT (mutual TLS)   localhost:${summary.mqtt.port}   CA ${summary.mqtt.caPath}
  serial API          ${summary.api.url}   x-api-key: ${summary.api.key}
  template            ${summary.provisioningTemplate}
  claim certificates  ${summary.claims.map((claim) => `${claim.batch}: ${claim.certificatePath} + ${claim.privateKeyPath}`).join("\n                      ")}
  controller          ${summary.controller.thingName}: ${summary.controller.certificatePath}
  alerts              ${summary.alerts}`);
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    platform.stop().then(
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

main(process.argv.slice(2)).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
