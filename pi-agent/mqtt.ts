// Deep imports: the SDK root also loads Greengrass IPC, shadow and jobs clients (~4 MB of RSS on a Pi).
import { AwsIotMqttConnectionConfigBuilder } from "aws-crt/dist/native/aws_iot";
import { MqttClient, type MqttClientConnection } from "aws-crt/dist/native/mqtt";
import { readFileSync } from "node:fs";
import type { AgentConfig } from "./config";

/** MQTT 3.1.1 over mutual TLS to IoT Core's data endpoint, as both the claim and the device identity use it. */
export function mqttConnection(
  config: AgentConfig,
  credentials: { certificatePem: string; privateKeyPem: string },
  options: { clientId: string; cleanSession: boolean },
): MqttClientConnection {
  // The CRT reconnects by itself after an interruption, doubling its wait from min to max; a random
  // start per process spreads a fleet that dropped at the same moment.
  const reconnectMinSec = 1 + Math.floor(Math.random() * 4);
  const built = AwsIotMqttConnectionConfigBuilder.new_mtls_builder(credentials.certificatePem, credentials.privateKeyPem)
    .with_certificate_authority(readFileSync(config.caPath, "utf8"))
    .with_endpoint(config.endpoint)
    .with_port(config.port)
    .with_client_id(options.clientId)
    .with_clean_session(options.cleanSession)
    .with_keep_alive_seconds(config.keepAliveSeconds)
    .with_reconnect_min_sec(reconnectMinSec)
    .with_reconnect_max_sec(Math.max(reconnectMinSec, Math.round(config.backoff.maxMs / 1000)))
    .build();
  return new MqttClient().new_connection(built);
}
