import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { tokenMatches } from "../../controller/http-api";
import { deviceView } from "../../controller/devices";
import { CommandBroker } from "../../controller/commands";
import { readControllerSecrets } from "../../controller/secrets";
import { parseSettings } from "../../controller/settings";
import { startAwsStandIn, type AwsStandIn } from "../../local/aws-services";

/** The controller's plain functions; Secrets Manager through the local stand-in's wire protocol. */
describe("settings", () => {
  const required = { CONTROLLER_SECRET_ID: "a", CONTROLLER_API_TOKEN_SECRET_ID: "b", DEVICE_TABLE_NAME: "t", TOPIC_ROOT: "smarthome/dev" };

  it("applies the documented defaults", () => {
    expect(parseSettings(required)).toEqual({ ...required, PORT: 8080, HOST: "0.0.0.0", IOT_PORT: 8883, COMMAND_TIMEOUT_MS: 5000, SHUTDOWN_GRACE_MS: 10000 });
  });

  it("names every missing or bad variable", () => {
    expect(() => parseSettings({ ...required, TOPIC_ROOT: undefined, PORT: "http" })).toThrow(/TOPIC_ROOT.*PORT|PORT.*TOPIC_ROOT/);
  });
});

describe("tokenMatches", () => {
  it("accepts only the exact token, whatever the length of the guess", () => {
    const token = "x".repeat(48);
    expect(tokenMatches(token, token)).toBe(true);
    for (const guess of ["", "x", `${token}x`, token.slice(1), `y${token.slice(1)}`]) expect(tokenMatches(guess, token)).toBe(false);
  });
});

describe("deviceView", () => {
  it("shows presence, last seen and last response; a disconnected device was last seen when it left", () => {
    expect(deviceView({ thingName: "a", connected: true, eventOrder: 1, lastEventAt: 1_700_000_000_000, sessionIdentifier: "s" })).toEqual({
      thingName: "a",
      connected: true,
      lastSeenAt: "2023-11-14T22:13:20.000Z",
      lastResponse: null,
    });
    expect(deviceView({ thingName: "b", connected: false, eventOrder: 2, lastEventAt: 5, lastDisconnectedAt: 1_700_000_000_000, sessionIdentifier: "s", lastResponse: { r: 1 } })).toMatchObject({
      connected: false,
      lastSeenAt: "2023-11-14T22:13:20.000Z",
      lastResponse: { r: 1 },
    });
  });

  it("an item the responses rule created before any lifecycle event is not connected and never seen", () => {
    expect(deviceView({ thingName: "c", lastResponse: { r: 2 } })).toEqual({ thingName: "c", connected: false, lastSeenAt: null, lastResponse: { r: 2 } });
  });

  it("refuses a malformed item, naming the field, rather than guessing", () => {
    expect(() => deviceView({ thingName: "d", connected: "yes" })).toThrow(/device table item is malformed: .*connected/);
    expect(() => deviceView({ connected: true })).toThrow(/malformed/);
  });
});

describe("CommandBroker", () => {
  const topicRoot = "smarthome/dev";
  const logs: Record<string, unknown>[] = [];
  const broker = new CommandBroker({ topicRoot, publish: async () => undefined, log: (event, fields) => void logs.push({ event, ...fields }) });

  it("ignores an answer from another thing than the command's", async () => {
    const outcome = broker.send("thing-a", { action: "ping" }, 200);
    const sent = await new Promise<string>((resolve) => setImmediate(() => resolve(logs.find((line) => line.event === "command-sent")!.commandId as string)));
    broker.receive(`${topicRoot}/devices/thing-b/responses`, JSON.stringify({ commandId: sent, result: 1, completedAt: new Date().toISOString() }));
    expect(await outcome).toEqual({ status: "timeout", commandId: sent });
    expect(logs.map((line) => line.event)).toEqual(["command-sent", "unmatched-device-response", "command-timeout"]);
  });

  it("a failed publish rejects and leaves nothing waiting", async () => {
    const failing = new CommandBroker({ topicRoot, publish: async () => Promise.reject(new Error("not connected")), log: () => undefined });
    await expect(failing.send("thing-a", { action: "ping" }, 1000)).rejects.toThrow("not connected");
    expect(failing.inFlight).toBe(0);
  });

  it("logs a payload that is not a response and changes nothing", () => {
    broker.receive(`${topicRoot}/devices/thing-a/responses`, "{nope");
    expect(logs.at(-1)).toMatchObject({ event: "device-message-invalid", thingName: "thing-a" });
    expect(broker.inFlight).toBe(0);
  });
});

describe("readControllerSecrets (Secrets Manager stand-in)", () => {
  let aws: AwsStandIn;
  let client: SecretsManagerClient;
  const ids = { identitySecretId: "p/controller/iot-identity", apiTokenSecretId: "p/controller/api-token" };
  // PEM-shaped placeholders (the reader passes them through; no real key in the repo).
  const pem = (label: string, body: string) => `-----BEGIN ${label}-----${body}`;
  const identity = { thingName: "t", endpoint: "e", certificatePem: pem("CERTIFICATE", "x"), privateKey: pem("PRIVATE KEY", "x"), caPem: pem("CERTIFICATE", "y") };

  beforeAll(async () => {
    aws = await startAwsStandIn();
    client = new SecretsManagerClient({ endpoint: aws.env.AWS_ENDPOINT_URL_SECRETS_MANAGER, region: "eu-west-1", credentials: { accessKeyId: "a", secretAccessKey: "b" } });
  });
  afterAll(async () => {
    client.destroy();
    await aws.close();
  });

  it("reads identity and token", async () => {
    aws.secrets.set(ids.identitySecretId, JSON.stringify(identity));
    aws.secrets.set(ids.apiTokenSecretId, "k".repeat(48));
    expect(await readControllerSecrets(client, ids)).toEqual({ identity, apiToken: "k".repeat(48) });
  });

  it("names the bad identity fields without echoing secret values", async () => {
    aws.secrets.set(ids.identitySecretId, JSON.stringify({ ...identity, privateKey: "SECRET-MATERIAL" }));
    aws.secrets.set(ids.apiTokenSecretId, "k".repeat(48));
    const error = await readControllerSecrets(client, ids).catch((caught: Error) => caught);
    expect((error as Error).message).toBe("secret p/controller/iot-identity is not a controller identity (bad fields: privateKey)");
  });

  it("refuses a short API token", async () => {
    aws.secrets.set(ids.identitySecretId, JSON.stringify(identity));
    aws.secrets.set(ids.apiTokenSecretId, "short");
    await expect(readControllerSecrets(client, ids)).rejects.toThrow(/at least 32 characters/);
  });
});
