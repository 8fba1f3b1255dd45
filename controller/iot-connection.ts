import { iot, mqtt } from "aws-iot-device-sdk-v2";
import type { ControllerIdentity } from "../contracts/controller-identity";
import type { Log } from "./log";

export interface IotConnectionOptions {
  readonly identity: ControllerIdentity;
  /** @default 8883 */
  readonly port?: number;
  readonly log: Log;
  /** Called for every message on the subscribed filters. */
  readonly onMessage: (topic: string, payload: string) => void;
  /** Topic filters to subscribe (QoS 1). */
  readonly subscriptions: readonly string[];
}

/** Backoff between reconnect attempts: 1 s doubling up to 60 s (the CRT's own exponential backoff). */
export const RECONNECT_MIN_SECONDS = 1;
export const RECONNECT_MAX_SECONDS = 60;

export interface IotConnection {
  readonly connected: boolean;
  publish(topic: string, payload: string): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * MQTT 3.1.1 over mutual TLS to AWS IoT Core as the controller thing. Certificate and key go to
 * TLS from memory (the CRT takes PEM strings), so the key never touches the disk.
 *
 * A persistent session (clean session off): while the controller is briefly away, IoT Core keeps
 * its subscriptions and queues QoS 1 responses for it (AWS IoT Core persistent sessions, up to the
 * account's session expiry, 1 hour by default), and the CRT resumes it on reconnect.
 */
export async function connectToIot(options: IotConnectionOptions): Promise<IotConnection> {
  const { identity, log } = options;
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(identity.certificatePem, identity.privateKey)
    .with_certificate_authority(identity.caPem)
    .with_endpoint(identity.endpoint)
    .with_port(options.port ?? 8883)
    .with_client_id(identity.thingName)
    .with_clean_session(false)
    .with_keep_alive_seconds(30)
    .with_reconnect_min_sec(RECONNECT_MIN_SECONDS)
    .with_reconnect_max_sec(RECONNECT_MAX_SECONDS)
    .build();
  const connection = new mqtt.MqttClient().new_connection(config);
  let connected = false;
  connection.on("interrupt", (error) => {
    connected = false;
    log("mqtt-interrupted", { error: String(error) }, "warn");
  });
  connection.on("resume", (returnCode, sessionPresent) => {
    log("mqtt-resumed", { returnCode, sessionPresent });
    if (sessionPresent) {
      connected = true;
      return;
    }
    // Without a resumed session the broker forgot the subscriptions: make them again, and count
    // as connected (healthy, accepting commands) only once answers can arrive.
    subscribeAll().then(
      () => {
        connected = true;
        log("mqtt-resubscribed");
      },
      (error: Error) => log("mqtt-subscribe-failed", { error: error.message }, "error"),
    );
  });
  connection.on("closed", () => {
    connected = false;
  });
  const decoder = new TextDecoder();
  const subscribeAll = () =>
    Promise.all(options.subscriptions.map((filter) => connection.subscribe(filter, mqtt.QoS.AtLeastOnce, (topic, payload) => options.onMessage(topic, decoder.decode(payload)))));

  const sessionPresent = await connection.connect();
  await subscribeAll();
  connected = true;
  log("mqtt-connected", { endpoint: identity.endpoint, clientId: identity.thingName, sessionPresent });
  return {
    get connected() {
      return connected;
    },
    publish: async (topic, payload) => {
      await connection.publish(topic, payload, mqtt.QoS.AtLeastOnce);
    },
    disconnect: async () => {
      connected = false;
      await connection.disconnect();
    },
  };
}
