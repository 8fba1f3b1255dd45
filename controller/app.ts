import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { anyDeviceTopicFilter } from "../contracts/topics";
import { CommandBroker } from "./commands";
import { DeviceDirectory } from "./devices";
import { createApiHandler } from "./http-api";
import { connectToIot, type IotConnection } from "./iot-connection";
import type { Log } from "./log";
import { readControllerSecrets } from "./secrets";
import type { ControllerSettings } from "./settings";

export interface RunningController {
  readonly port: number;
  /** Stop accepting, drain in-flight commands (up to the grace time), disconnect. */
  shutdown(): Promise<void>;
}

/** Reads its secrets, connects to IoT Core, then serves the HTTP API. */
export async function startController(settings: ControllerSettings, log: Log): Promise<RunningController> {
  const secretsClient = new SecretsManagerClient({});
  const secrets = await readControllerSecrets(secretsClient, {
    identitySecretId: settings.CONTROLLER_SECRET_ID,
    apiTokenSecretId: settings.CONTROLLER_API_TOKEN_SECRET_ID,
  });
  secretsClient.destroy();
  log("secrets-read", { thingName: secrets.identity.thingName, endpoint: secrets.identity.endpoint });

  let connection: IotConnection | undefined;
  const commands = new CommandBroker({
    topicRoot: settings.TOPIC_ROOT,
    publish: (topic, payload) => {
      if (!connection) throw new Error("not connected");
      return connection.publish(topic, payload);
    },
    log,
  });
  connection = await connectToIot({
    identity: secrets.identity,
    port: settings.IOT_PORT,
    log,
    subscriptions: [anyDeviceTopicFilter(settings.TOPIC_ROOT, "responses"), anyDeviceTopicFilter(settings.TOPIC_ROOT, "errors")],
    onMessage: (topic, payload) => commands.receive(topic, payload),
  });

  const dynamo = new DynamoDBClient({});
  const devices = new DeviceDirectory(DynamoDBDocumentClient.from(dynamo), settings.DEVICE_TABLE_NAME);
  let accepting = true;
  const server: Server = createServer(
    createApiHandler({
      apiToken: secrets.apiToken,
      commands,
      devices,
      isConnected: () => connection?.connected === true,
      isAccepting: () => accepting,
      defaultTimeoutMs: settings.COMMAND_TIMEOUT_MS,
      log,
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.PORT, settings.HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log("listening", { host: settings.HOST, port });

  return {
    port,
    shutdown: async () => {
      accepting = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      log("shutdown-started", { inFlight: commands.inFlight });
      const grace = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), settings.SHUTDOWN_GRACE_MS).unref());
      const drained = await Promise.race([commands.drained().then(() => "drained" as const), grace]);
      log("shutdown-drained", { result: drained, inFlight: commands.inFlight });
      // In-flight requests got their answers; let their responses flush, then close kept-alive sockets.
      server.closeIdleConnections();
      await Promise.race([closed, grace]);
      server.closeAllConnections();
      await connection?.disconnect();
      dynamo.destroy();
      log("shutdown-complete");
    },
  };
}
