import { alertSchema } from "../contracts/alerts";
import { SERIAL_PATTERN, deviceThingName } from "../contracts/devices";
import { controllerPolicyDocument, devicePolicyDocument } from "../contracts/iot-policies";
import { commandSchema, deviceErrorSchema, responseSchema } from "../contracts/messages";
import { projectNames } from "../contracts/names";
import { deviceTopics, LIFECYCLE_TOPIC_FILTER, lifecycleTopic, thingNameTopicLevel } from "../contracts/topics";

const names = projectNames("smarthome", "dev");
const scope = { arnPrefix: "arn:aws:iot:eu-west-1:123456789012:", topicRoot: names.topicRoot };

describe("topics and names", () => {
  it("gives each device its command, responses and errors topic", () => {
    const topics = deviceTopics(names.topicRoot);
    expect(topics.commands("smarthome-dev-SN1")).toBe("smarthome/dev/devices/smarthome-dev-SN1/commands");
    expect(topics.responses("smarthome-dev-SN1")).toBe("smarthome/dev/devices/smarthome-dev-SN1/responses");
    expect(topics.errors("smarthome-dev-SN1")).toBe("smarthome/dev/devices/smarthome-dev-SN1/errors");
    expect(thingNameTopicLevel(names.topicRoot)).toBe(4);
  });

  it("stays within IoT Core's topic limits (7 slashes, 256 bytes) for the longest thing name", () => {
    const topic = deviceTopics(projectNames("a".repeat(16), "b".repeat(12)).topicRoot).responses(`${"a".repeat(16)}-${"b".repeat(12)}-${"S".repeat(40)}`);
    expect(topic.split("/").length - 1).toBeLessThanOrEqual(7);
    expect(Buffer.byteLength(topic)).toBeLessThanOrEqual(256);
  });

  it("spells the lifecycle topics as AWS does", () => {
    expect(lifecycleTopic("connected", "abc")).toBe("$aws/events/presence/connected/abc");
    expect(LIFECYCLE_TOPIC_FILTER).toBe("$aws/events/presence/+/+");
  });

  it("names things from serials, and rule names fit IoT's ^[a-zA-Z0-9_]+$", () => {
    expect(deviceThingName(names.prefix, "SN123")).toBe("smarthome-dev-SN123");
    expect(() => deviceThingName(names.prefix, "sn 1")).toThrow(/is not a serial/);
    expect(SERIAL_PATTERN.test("SN-0001")).toBe(true);
    expect(names.iotRule("device_errors_to_alerts")).toMatch(/^[a-zA-Z0-9_]+$/);
  });
});

describe("IoT policies", () => {
  const all = [devicePolicyDocument(scope), controllerPolicyDocument(scope, names.controllerThing)];

  it("no iot:* action and no * resource in any of them", () => {
    for (const document of all) {
      for (const statement of document.Statement) {
        expect(statement.Action.filter((action) => action.includes("*"))).toEqual([]);
        expect(statement.Resource.filter((resource) => resource === "*" || resource.endsWith(":*"))).toEqual([]);
      }
    }
  });

  it("device: connects only as its own thing, attached; subscribes to its own commands and Jobs topics; publishes its own responses, errors and Jobs requests", () => {
    expect(devicePolicyDocument(scope).Statement).toEqual([
      {
        Effect: "Allow",
        Action: ["iot:Connect"],
        Resource: ["arn:aws:iot:eu-west-1:123456789012:client/${iot:Connection.Thing.ThingName}"],
        Condition: { Bool: { "iot:Connection.Thing.IsAttached": "true" } },
      },
      {
        Effect: "Allow",
        Action: ["iot:Subscribe"],
        Resource: [
          "arn:aws:iot:eu-west-1:123456789012:topicfilter/smarthome/dev/devices/${iot:Connection.Thing.ThingName}/commands",
          "arn:aws:iot:eu-west-1:123456789012:topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/jobs/*",
        ],
      },
      {
        Effect: "Allow",
        Action: ["iot:Receive"],
        Resource: [
          "arn:aws:iot:eu-west-1:123456789012:topic/smarthome/dev/devices/${iot:Connection.Thing.ThingName}/commands",
          "arn:aws:iot:eu-west-1:123456789012:topic/$aws/things/${iot:Connection.Thing.ThingName}/jobs/*",
        ],
      },
      {
        Effect: "Allow",
        Action: ["iot:Publish"],
        Resource: [
          "arn:aws:iot:eu-west-1:123456789012:topic/smarthome/dev/devices/${iot:Connection.Thing.ThingName}/responses",
          "arn:aws:iot:eu-west-1:123456789012:topic/smarthome/dev/devices/${iot:Connection.Thing.ThingName}/errors",
          "arn:aws:iot:eu-west-1:123456789012:topic/$aws/things/${iot:Connection.Thing.ThingName}/jobs/get",
          "arn:aws:iot:eu-west-1:123456789012:topic/$aws/things/${iot:Connection.Thing.ThingName}/jobs/start-next",
          "arn:aws:iot:eu-west-1:123456789012:topic/$aws/things/${iot:Connection.Thing.ThingName}/jobs/*/get",
          "arn:aws:iot:eu-west-1:123456789012:topic/$aws/things/${iot:Connection.Thing.ThingName}/jobs/*/update",
        ],
      },
    ]);
  });

  it("controller: connects only as the controller; publishes commands; subscribes to and receives responses and errors", () => {
    const statements = controllerPolicyDocument(scope, names.controllerThing).Statement;
    expect(statements.map((s) => [s.Action[0], s.Resource])).toEqual([
      ["iot:Connect", ["arn:aws:iot:eu-west-1:123456789012:client/smarthome-dev-controller"]],
      ["iot:Publish", ["arn:aws:iot:eu-west-1:123456789012:topic/smarthome/dev/devices/*/commands"]],
      [
        "iot:Subscribe",
        ["arn:aws:iot:eu-west-1:123456789012:topicfilter/smarthome/dev/devices/+/responses", "arn:aws:iot:eu-west-1:123456789012:topicfilter/smarthome/dev/devices/+/errors"],
      ],
      ["iot:Receive", ["arn:aws:iot:eu-west-1:123456789012:topic/smarthome/dev/devices/*/responses", "arn:aws:iot:eu-west-1:123456789012:topic/smarthome/dev/devices/*/errors"]],
    ]);
    expect(statements[0]?.Condition).toEqual({ Bool: { "iot:Connection.Thing.IsAttached": "true" } });
  });
});

describe("message schemas", () => {
  const command = { id: "c-1", action: "light.set", params: { on: true }, sentAt: "2026-11-27T10:00:00Z", expiresAt: "2026-11-27T10:01:00Z" };

  it("accepts a command, a response and an error", () => {
    expect(commandSchema.parse(command)).toEqual(command);
    expect(commandSchema.parse({ ...command, params: undefined }).params).toEqual({});
    expect(responseSchema.parse({ commandId: "c-1", result: { on: true }, completedAt: "2026-11-27T10:00:01Z" }).commandId).toBe("c-1");
    expect(deviceErrorSchema.parse({ code: "BAD_PAYLOAD", message: "not JSON", at: "2026-11-27T10:00:01Z" }).commandId).toBeUndefined();
  });

  it.each([
    [{ ...command, expiresAt: "2026-11-27T09:00:00Z" }, "expiresAt"],
    [{ ...command, action: "Light Set" }, "action"],
    [{ ...command, id: "" }, "id"],
    [{ ...command, sentAt: "yesterday" }, "sentAt"],
    [{ ...command, extra: 1 }, ""],
  ])("rejects a bad command (%#: %s)", (bad, path) => {
    const result = commandSchema.safeParse(bad);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join("."))).toContain(path);
  });

  it("rejects an error code that is not UPPER_SNAKE_CASE", () => {
    expect(deviceErrorSchema.safeParse({ code: "oops", message: "", at: "2026-11-27T10:00:01Z" }).success).toBe(false);
  });

  it("knows the three kinds of alert", () => {
    expect(alertSchema.safeParse({ code: "X", message: "m", at: "2026-11-27T10:00:01Z", thingName: "t" }).success).toBe(true);
    expect(alertSchema.safeParse({ kind: "device-offline", thingName: "t", disconnectedAt: "2026-11-27T10:00:01Z", disconnectReason: "r", graceSeconds: 1 }).success).toBe(true);
    expect(alertSchema.safeParse({ kind: "nope" }).success).toBe(false);
  });
});
