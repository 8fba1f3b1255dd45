import { mqtt } from "aws-iot-device-sdk-v2";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deviceTopics } from "../../contracts/topics";
import { startLocalPlatform, type LocalPlatform } from "../../local/platform";
import { connect, fileCredentials, provision, ProvisioningRejected } from "../helpers/iot-device";
import { defaultConfig } from "../helpers/synth";

/**
 * The local platform with the real aws-iot-device-sdk-v2 client over mutual TLS: fleet provisioning
 * through the real hook, policies from the synthesized stacks, lifecycle events into the real
 * presence handler.
 */
jest.setTimeout(60_000);

let platform: LocalPlatform;
const topics = deviceTopics("smarthome/dev");
const qos = mqtt.QoS.AtLeastOnce;

async function register(...serials: string[]): Promise<void> {
  const response = await fetch(`${platform.api.url}/serials`, {
    method: "POST",
    headers: { "x-api-key": platform.api.key, "content-type": "application/json" },
    body: JSON.stringify({ serials }),
  });
  expect(response.status).toBe(200);
}

/** Messages a connection receives on a topic filter, collected as they come. */
async function collect(connection: mqtt.MqttClientConnection, filter: string): Promise<string[]> {
  const received: string[] = [];
  await connection.subscribe(filter, qos, (_topic, payload) => void received.push(Buffer.from(payload).toString("utf8")));
  return received;
}

const until = async (condition: () => boolean | Promise<boolean>, timeoutMs = 5000) => {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error("timed out");
    await new Promise((resume) => setTimeout(resume, 20));
  }
};

beforeAll(async () => {
  platform = await startLocalPlatform({ config: defaultConfig, stateDirectory: mkdtempSync(join(tmpdir(), "local-platform-")) });
});

afterAll(async () => {
  await platform.stop();
});

describe("local platform: fleet provisioning", () => {
  it("provisions a registered serial from a CSR, then the device works as its thing", async () => {
    await register("SN-LOCAL-1");
    const device = await provision(platform, { serial: "SN-LOCAL-1" });
    expect(device.thingName).toBe("smarthome-dev-SN-LOCAL-1");
    expect(device.deviceConfiguration).toEqual({ topicRoot: "smarthome/dev" });

    const connection = await connect(platform, device, device.thingName);
    const commands = await collect(connection, topics.commands(device.thingName));
    const controller = await connect(platform, fileCredentials(platform.controller), platform.controller.thingName);
    const responses = await collect(controller, topics.responses("+"));

    await controller.publish(topics.commands(device.thingName), JSON.stringify({ id: "c-1" }), qos);
    await until(() => commands.length === 1);
    await connection.publish(topics.responses(device.thingName), JSON.stringify({ commandId: "c-1" }), qos);
    await until(() => responses.length === 1);
    expect(JSON.parse(responses[0]!)).toEqual({ commandId: "c-1" });
    await connection.disconnect();
    await controller.disconnect();
  });

  it("CreateKeysAndCertificate works too", async () => {
    await register("SN-LOCAL-KEYS");
    const device = await provision(platform, { serial: "SN-LOCAL-KEYS", useCsr: false });
    expect(device.privateKeyPem).toContain("PRIVATE KEY");
    const connection = await connect(platform, device, device.thingName);
    await connection.disconnect();
  });

  it.each([
    ["an unknown serial", "SN-LOCAL-NOBODY", async () => undefined],
    ["an already-provisioned serial", "SN-LOCAL-TWICE", async () => {
      await register("SN-LOCAL-TWICE");
      await provision(platform, { serial: "SN-LOCAL-TWICE" });
    }],
    ["a revoked serial", "SN-LOCAL-REVOKED", async () => {
      await register("SN-LOCAL-REVOKED");
      await fetch(`${platform.api.url}/serials/SN-LOCAL-REVOKED`, { method: "DELETE", headers: { "x-api-key": platform.api.key } });
    }],
  ])("rejects %s with IoT Core's error shape", async (_name, serial, prepare) => {
    await prepare();
    const error = await provision(platform, { serial }).catch((rejection: unknown) => rejection);
    expect(error).toBeInstanceOf(ProvisioningRejected);
    expect((error as ProvisioningRejected).response).toEqual({ statusCode: 403, errorCode: "AccessDenied", errorMessage: expect.any(String) });
  });
});
