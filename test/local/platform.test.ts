import { mqtt } from "aws-iot-device-sdk-v2";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
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

/** IoT Core refuses the connection: the client's connect fails. */
async function refused(attempt: Promise<mqtt.MqttClientConnection>): Promise<boolean> {
  return attempt.then(
    async (connection) => {
      await connection.disconnect();
      return false;
    },
    () => true,
  );
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

describe("local platform: policies from the synthesized stacks", () => {
  let deviceA: Awaited<ReturnType<typeof provision>>;
  let deviceB: Awaited<ReturnType<typeof provision>>;

  beforeAll(async () => {
    await register("SN-ISO-A", "SN-ISO-B");
    deviceA = await provision(platform, { serial: "SN-ISO-A" });
    deviceB = await provision(platform, { serial: "SN-ISO-B" });
  });

  it("a device cannot subscribe to another device's commands, nor to a wildcard", async () => {
    const a = await connect(platform, deviceA, deviceA.thingName);
    expect((await a.subscribe(topics.commands(deviceB.thingName), qos)).qos).toBe(128);
    expect((await a.subscribe(topics.commands("+"), qos)).qos).toBe(128);
    expect((await a.subscribe(topics.commands(deviceA.thingName), qos)).qos).toBe(1);
    await a.disconnect();
  });

  it("a device cannot receive another device's commands or publish on its behalf", async () => {
    const a = await connect(platform, deviceA, deviceA.thingName);
    const b = await connect(platform, deviceB, deviceB.thingName);
    const controller = await connect(platform, fileCredentials(platform.controller), platform.controller.thingName);
    const toA = await collect(a, topics.commands(deviceA.thingName));
    const responses = await collect(controller, topics.responses("+"));
    await controller.publish(topics.commands(deviceB.thingName), "for B", qos);
    await controller.publish(topics.commands(deviceA.thingName), "for A", qos);
    await until(() => toA.length === 1);
    expect(toA).toEqual(["for A"]);

    const interrupted = new Promise<void>((resolve) => a.on("interrupt", () => resolve()));
    void a.publish(topics.responses(deviceB.thingName), "forged", qos).catch(() => undefined);
    await interrupted; // IoT Core closes the connection of a client that publishes where it may not
    await new Promise((resume) => setTimeout(resume, 200));
    expect(responses).toEqual([]);
    await Promise.all([a.disconnect().catch(() => undefined), b.disconnect(), controller.disconnect()]);
  });

  it("a device cannot connect with another client id, or with its own id once its certificate is revoked", async () => {
    expect(await refused(connect(platform, deviceA, deviceB.thingName))).toBe(true);
    expect(await refused(connect(platform, deviceB, deviceB.thingName))).toBe(false);
    await fetch(`${platform.api.url}/serials/SN-ISO-B`, { method: "DELETE", headers: { "x-api-key": platform.api.key } });
    expect(await refused(connect(platform, deviceB, deviceB.thingName))).toBe(true);
  });

  it("a claim certificate can do nothing but provisioning", async () => {
    const claim = fileCredentials(platform.claims[0]!);
    expect(await refused(connect(platform, claim, deviceA.thingName))).toBe(true);
    const connection = await connect(platform, claim, "provisioning-smarthome-dev-snoop");
    expect((await connection.subscribe(topics.commands(deviceA.thingName), qos)).qos).toBe(128);
    expect((await connection.subscribe("$aws/events/presence/+/+", qos)).qos).toBe(128);
    const interrupted = new Promise<void>((resolve) => connection.on("interrupt", () => resolve()));
    void connection.publish(topics.errors(deviceA.thingName), "forged", qos).catch(() => undefined);
    await interrupted;
    await connection.disconnect().catch(() => undefined);
  });
});

describe("local platform: scale and presence", () => {
  it("50 devices provisioning at the same time each get their own certificate, with no cross-talk", async () => {
    const serials = Array.from({ length: 50 }, (_, index) => `SN-MANY-${index}`);
    await register(...serials);
    const devices = await Promise.all(serials.map((serial) => provision(platform, { serial })));
    expect(new Set(devices.map((device) => device.certificatePem)).size).toBe(50);
    expect(devices.map((device) => device.thingName).sort()).toEqual(serials.map((serial) => `smarthome-dev-${serial}`).sort());

    const connections = await Promise.all(devices.map((device) => connect(platform, device, device.thingName)));
    const inboxes = await Promise.all(connections.map((connection, index) => collect(connection, topics.commands(devices[index]!.thingName))));
    const controller = await connect(platform, fileCredentials(platform.controller), platform.controller.thingName);
    await Promise.all(devices.map((device) => controller.publish(topics.commands(device.thingName), device.thingName, qos)));
    await until(() => inboxes.every((inbox) => inbox.length === 1));
    inboxes.forEach((inbox, index) => expect(inbox).toEqual([devices[index]!.thingName]));
    await Promise.all([...connections, controller].map((connection) => connection.disconnect()));
  });

  it("a disconnect produces the lifecycle event, and the presence handler records it", async () => {
    await register("SN-PRESENCE-1");
    const device = await provision(platform, { serial: "SN-PRESENCE-1" });
    const controller = await connect(platform, fileCredentials(platform.controller), platform.controller.thingName);
    const connection = await connect(platform, device, device.thingName);
    const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
    const { DynamoDBDocumentClient, GetCommand } = await import("@aws-sdk/lib-dynamodb");
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient(platform.services.clientConfig("dynamodb")));
    const item = async () => (await documents.send(new GetCommand({ TableName: "smarthome-dev-devices", Key: { thingName: device.thingName }, ConsistentRead: true }))).Item;
    await until(async () => (await item())?.connected === true);
    await connection.disconnect();
    await until(async () => (await item())?.connected === false);
    expect(await item()).toMatchObject({ lastDisconnectReason: "CLIENT_INITIATED_DISCONNECT" });
    // The presence function queued its delayed offline check.
    await until(() => platform.services.sentMessages.some((message) => message.body.includes(device.thingName)));
    documents.destroy();
    await controller.disconnect();
  });
});

describe("local platform: the serial contract end to end", () => {
  it("#8.5 a Raspberry Pi registered and provisioning with its own lowercase serial becomes the canonical thing", async () => {
    await register("00000000b83c3c1b");
    const device = await provision(platform, { serial: "00000000b83c3c1b" });
    expect(device.thingName).toBe("smarthome-dev-00000000B83C3C1B");
    expect(platform.registry.things.get("smarthome-dev-00000000B83C3C1B")?.attributes).toEqual({ serialNumber: "00000000B83C3C1B" });
    const connection = await connect(platform, device, device.thingName);
    await connection.disconnect();
  });

  it("#8.9 a serial stranded in provisioned (the hook said yes, RegisterThing failed) provisions again after the grace period, or an operator resets it", async () => {
    // The table as the hook leaves it when RegisterThing fails afterwards: provisioned, no thing.
    const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
    const { DynamoDBDocumentClient, PutCommand } = await import("@aws-sdk/lib-dynamodb");
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient(platform.services.clientConfig("dynamodb")));
    const strand = async (serial: string, minutesAgo: number) => {
      const at = new Date(Date.now() - minutesAgo * 60_000).toISOString();
      await documents.send(
        new PutCommand({
          TableName: "smarthome-dev-serials",
          Item: { serial, status: "provisioned", registeredAt: at, updatedAt: at, provisionedAt: at, thingName: `smarthome-dev-${serial}`, certificateId: "0f".repeat(32) },
        }),
      );
    };
    await strand("SN-STRAND-1", 1);
    await expect(provision(platform, { serial: "SN-STRAND-1" })).rejects.toBeInstanceOf(ProvisioningRejected);
    await strand("SN-STRAND-1", 30);
    const device = await provision(platform, { serial: "SN-STRAND-1" });
    expect(platform.registry.things.has(device.thingName)).toBe(true);
    await (await connect(platform, device, device.thingName)).disconnect();

    await strand("SN-STRAND-2", 1);
    const reset = await fetch(`${platform.api.url}/serials/SN-STRAND-2/reset`, { method: "POST", headers: { "x-api-key": platform.api.key } });
    expect(reset.status).toBe(200);
    expect((await provision(platform, { serial: "SN-STRAND-2" })).thingName).toBe("smarthome-dev-SN-STRAND-2");
    documents.destroy();
  });
});

describe("local platform: revocation bites at once", () => {
  it.each([
    ["revoke", "SN-CUT-1", "DELETE", ""],
    ["reset", "SN-CUT-2", "POST", "/reset"],
  ])("#8.12 %s cuts the device's live connection at once (AUTH_ERROR), and nothing it publishes afterwards is delivered", async (_name, serial, method, suffix) => {
    await register(serial);
    const device = await provision(platform, { serial });
    const controller = await connect(platform, fileCredentials(platform.controller), platform.controller.thingName);
    const responses = await collect(controller, topics.responses("+"));
    const connection = await connect(platform, device, device.thingName);
    await connection.publish(topics.responses(device.thingName), JSON.stringify({ commandId: "before" }), qos);
    await until(() => responses.length === 1);

    const interrupted = new Promise<number>((resolve) => connection.on("interrupt", () => resolve(Date.now())));
    const started = Date.now();
    const answer = await fetch(`${platform.api.url}/serials/${serial}${suffix}`, { method, headers: { "x-api-key": platform.api.key } });
    expect(answer.status).toBe(200);
    expect((await interrupted) - started).toBeLessThan(2000);
    void connection.publish(topics.responses(device.thingName), JSON.stringify({ commandId: "after" }), qos).catch(() => undefined);
    await new Promise((resume) => setTimeout(resume, 300));
    expect(responses.map((response) => JSON.parse(response).commandId)).toEqual(["before"]);

    // The lifecycle event says why, as the presence function records it.
    const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
    const { DynamoDBDocumentClient, GetCommand } = await import("@aws-sdk/lib-dynamodb");
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient(platform.services.clientConfig("dynamodb")));
    const item = async () => (await documents.send(new GetCommand({ TableName: "smarthome-dev-devices", Key: { thingName: device.thingName }, ConsistentRead: true }))).Item;
    await until(async () => (await item())?.connected === false);
    expect(await item()).toMatchObject({ lastDisconnectReason: "AUTH_ERROR" });
    documents.destroy();
    await connection.disconnect().catch(() => undefined);
    await controller.disconnect();
  });
});

describe("local platform: topic rules", () => {
  it("a device error reaches the alert sink; a response reaches the device table and the response log", async () => {
    await register("SN-RULES-1");
    const device = await provision(platform, { serial: "SN-RULES-1" });
    const connection = await connect(platform, device, device.thingName);
    const error = { commandId: "c-9", code: "RELAY_STUCK", message: "relay 2 did not switch", at: "2026-11-27T10:00:00Z" };
    await connection.publish(topics.errors(device.thingName), JSON.stringify(error), qos);
    await connection.publish(topics.responses(device.thingName), JSON.stringify({ commandId: "c-8", result: { on: true }, completedAt: "2026-11-27T10:00:01Z" }), qos);

    const alerts = () => (existsSync(platform.alertsPath) ? readFileSync(platform.alertsPath, "utf8").trim().split("\n").map((line) => JSON.parse(line)) : []);
    await until(() => alerts().some((alert) => alert.message.includes("RELAY_STUCK")));
    expect(JSON.parse(alerts().find((alert) => alert.message.includes("RELAY_STUCK")).message)).toEqual({ ...error, thingName: device.thingName });

    const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
    const { DynamoDBDocumentClient, GetCommand } = await import("@aws-sdk/lib-dynamodb");
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient(platform.services.clientConfig("dynamodb")));
    const lastResponse = async () =>
      (await documents.send(new GetCommand({ TableName: "smarthome-dev-devices", Key: { thingName: device.thingName }, ConsistentRead: true }))).Item?.lastResponse;
    await until(async () => (await lastResponse()) !== undefined);
    expect(await lastResponse()).toMatchObject({ commandId: "c-8", thingName: device.thingName, receivedAt: expect.any(Number) });
    documents.destroy();
    await connection.disconnect();
  });
});
