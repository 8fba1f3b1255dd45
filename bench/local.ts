/**
 * npm run bench:local — on the local platform, with the real SDK client over mutual TLS:
 * 1. 100 devices provisioning at the same time (claim certificate → CSR → RegisterThing, through
 *    the real hook and DynamoDB);
 * 2. command round trips (controller publishes → device receives → device responds → controller
 *    receives) with 50 devices connected: p50/p99 over 500 round trips.
 *
 * Goal (issue 5): 100 provisionings in <= 30 s; round-trip p99 <= 50 ms.
 */
import { mqtt } from "aws-iot-device-sdk-v2";
import * as mqttjs from "mqtt";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { environments, parseEnvironment } from "../config";
import { deviceTopics } from "../contracts/topics";
import { startLocalPlatform } from "../local/platform";
import { connect, fileCredentials, provision } from "../local/testing/iot-device";

const DEVICES = 100;
const CONNECTED = 50;
const ROUND_TRIPS = 500;

async function main() {
  process.env.POWERTOOLS_LOG_LEVEL = "ERROR";
  const platform = await startLocalPlatform({ config: parseEnvironment(environments.dev), stateDirectory: mkdtempSync(join(tmpdir(), "bench-local-")) });
  const topics = deviceTopics("smarthome/dev");
  const serials = Array.from({ length: DEVICES }, (_, index) => `SN-BENCH-${index}`);
  const registered = await fetch(`${platform.api.url}/serials`, {
    method: "POST",
    headers: { "x-api-key": platform.api.key, "content-type": "application/json" },
    body: JSON.stringify({ serials }),
  });
  if (!registered.ok) throw new Error(`registering serials failed: ${registered.status}`);

  const provisioningStarted = process.hrtime.bigint();
  const devices = await Promise.all(serials.map((serial) => provision(platform, { serial })));
  const provisioningMs = Number(process.hrtime.bigint() - provisioningStarted) / 1e6;

  const connections = await Promise.all(devices.slice(0, CONNECTED).map((device) => connect(platform, device, device.thingName)));
  const controller = await connect(platform, fileCredentials(platform.controller), platform.controller.thingName);

  /** Round trips with commands and responses at one QoS: the device answers each command at once. */
  async function roundTrips(qos: mqtt.QoS): Promise<number[]> {
    const waiting = new Map<string, () => void>();
    await controller.subscribe(topics.responses("+"), qos, (_topic, payload) => waiting.get(Buffer.from(payload).toString("utf8"))?.());
    await Promise.all(
      connections.map((connection, index) =>
        connection.subscribe(topics.commands(devices[index]!.thingName), qos, (_topic, payload) => {
          void connection.publish(topics.responses(devices[index]!.thingName), payload, qos);
        }),
      ),
    );
    const timings: number[] = [];
    for (let trip = 0; trip < ROUND_TRIPS; trip += 1) {
      const device = devices[trip % CONNECTED]!;
      const id = `c-${qos}-${trip}`;
      const started = process.hrtime.bigint();
      await new Promise<void>((resolve) => {
        waiting.set(id, resolve);
        void controller.publish(topics.commands(device.thingName), id, qos);
      });
      waiting.delete(id);
      timings.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return timings.sort((a, b) => a - b);
  }
  const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  const atLeastOnce = await roundTrips(mqtt.QoS.AtLeastOnce);
  const atMostOnce = await roundTrips(mqtt.QoS.AtMostOnce);
  // The baseline's clients take the same client ids, so these go first.
  await Promise.all([...connections, controller].map((connection) => connection.disconnect()));
  const withoutNagle = await roundTripsWithNagleOff(platform, devices[0]!, ROUND_TRIPS);

  console.log(`bench:local — local IoT Core stand-in, aws-iot-device-sdk-v2 over mutual TLS, ${new Date().toISOString()}, node ${process.version}`);
  console.log("");
  console.log(`${DEVICES} devices provisioning concurrently: ${(provisioningMs / 1000).toFixed(2)} s (${(provisioningMs / DEVICES).toFixed(0)} ms per device amortized)`);
  for (const [label, sorted, connected] of [
    ["QoS 1, aws-crt (what the platform uses)", atLeastOnce, CONNECTED],
    ["QoS 0, aws-crt (baseline: no PUBACKs)", atMostOnce, CONNECTED],
    ["QoS 1, MQTT.js with TCP_NODELAY (baseline)", withoutNagle, 1],
  ] as const) {
    console.log(`command round trip, ${label}, ${connected} device(s) connected, ${ROUND_TRIPS} trips: p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms, max ${sorted.at(-1)!.toFixed(2)} ms`);
  }
  console.log("(the broker acknowledges at once through local/tcp-quickack-relay.py; without it, QoS 1 round trips with aws-crt take ~88 ms here: docs/local.md)");
  console.log("");
  const goals: [string, boolean][] = [
    [`100 provisionings <= 30 s (${(provisioningMs / 1000).toFixed(2)} s)`, provisioningMs <= 30_000],
    [`QoS 1 round-trip p99 <= 50 ms (${percentile(atLeastOnce, 99).toFixed(2)} ms)`, percentile(atLeastOnce, 99) <= 50],
  ];
  for (const [goal, met] of goals) console.log(`${met ? "met    " : "MISSED "} ${goal}`);

  await platform.stop();
  process.exit(goals.every(([, met]) => met) ? 0 : 1);
}

/**
 * The same QoS 1 round trip with MQTT.js clients that turn Nagle's algorithm off: what the broker
 * itself costs, measured in the same run.
 */
async function roundTripsWithNagleOff(platform: Awaited<ReturnType<typeof startLocalPlatform>>, device: { thingName: string; certificatePem: string; privateKeyPem: string }, trips: number): Promise<number[]> {
  const topics = deviceTopics("smarthome/dev");
  const ca = readFileSync(platform.mqtt.caPath);
  const controllerCredentials = fileCredentials(platform.controller);
  const options = (credentials: { certificatePem: string; privateKeyPem: string }, clientId: string) => ({
    protocol: "mqtts" as const,
    host: "localhost",
    port: platform.mqtt.port,
    ca,
    cert: credentials.certificatePem,
    key: credentials.privateKeyPem,
    clientId,
    protocolVersion: 4 as const,
    clean: true,
  });
  const deviceClient = await mqttjs.connectAsync(options(device, device.thingName));
  const controllerClient = await mqttjs.connectAsync(options(controllerCredentials, `${platform.controller.thingName}`));
  for (const client of [deviceClient, controllerClient]) (client.stream as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
  let answered: () => void = () => undefined;
  controllerClient.on("message", () => answered());
  deviceClient.on("message", (_topic, payload) => void deviceClient.publish(topics.responses(device.thingName), payload, { qos: 1 }));
  await controllerClient.subscribeAsync(topics.responses("+"), { qos: 1 });
  await deviceClient.subscribeAsync(topics.commands(device.thingName), { qos: 1 });
  const timings: number[] = [];
  for (let trip = 0; trip < trips; trip += 1) {
    const started = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      answered = resolve;
      void controllerClient.publish(topics.commands(device.thingName), `n-${trip}`, { qos: 1 });
    });
    timings.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  await Promise.all([deviceClient.endAsync(), controllerClient.endAsync()]);
  return timings.sort((a, b) => a - b);
}

void main();
