import { snsMessageStructureError } from "../../local/aws-services";
import { createRulesEngine, type RuleTargets, type TopicRule } from "../../local/rules-engine";
import { resources, synthAll } from "../helpers/synth";

/** The local rules engine with recording targets; SNS refusals come from the SNS stand-in's own check. */
function recordingTargets() {
  const published: { message: string; messageStructure?: string }[] = [];
  const invoked: unknown[] = [];
  const errors: { rule: string; message: string }[] = [];
  const targets: RuleTargets = {
    publishAlert: async (_topicArn, message, messageStructure) => {
      const refusal = snsMessageStructureError(message, messageStructure);
      if (refusal) throw new Error(refusal);
      published.push({ message, messageStructure });
    },
    invokeFunction: async (_name, event) => void invoked.push(event),
    writeLog: async () => undefined,
    updateItem: async () => undefined,
    reportError: (rule, error) => void errors.push({ rule, message: error.message }),
  };
  return { targets, published, invoked, errors };
}

const iot = synthAll().iot;
const ruleNamed = (name: string) => {
  const rules = Object.values(resources(iot, "aws_iot_topic_rule")).filter((rule) => rule.name === name);
  expect(rules.length).toBe(1);
  return rules[0];
};

describe("local rules engine", () => {
  const errorPayload = Buffer.from(JSON.stringify({ code: "RELAY_STUCK", message: "relay 2 does not switch" }));
  const errorRule = (messageFormat?: "RAW" | "JSON"): TopicRule => ({
    name: "errors",
    sql: "SELECT *, topic(4) AS thingName FROM 'smarthome/dev/things/+/errors'",
    actions: [{ kind: "sns", topicName: "alerts", messageFormat, role: "iot-alerts", sid: "PublishAlerts" }],
  });

  it("#8.1 an SNS action with messageFormat JSON and no top-level \"default\" fails into the error action, as on AWS", async () => {
    const { targets, published, errors } = recordingTargets();
    await createRulesEngine([errorRule("JSON")], targets)("smarthome/dev/things/pi-1/errors", errorPayload);
    expect(published).toEqual([]);
    expect(errors).toEqual([{ rule: "errors", message: expect.stringContaining("No default entry in JSON message body") }]);
  });

  it("#8.1 RAW (and IoT's default) publishes the selected JSON as it is", async () => {
    for (const format of ["RAW", undefined] as const) {
      const { targets, published, errors } = recordingTargets();
      await createRulesEngine([errorRule(format)], targets)("smarthome/dev/things/pi-1/errors", errorPayload);
      expect(errors).toEqual([]);
      expect(published.map(({ message }) => JSON.parse(message))).toEqual([{ code: "RELAY_STUCK", message: "relay 2 does not switch", thingName: "pi-1" }]);
    }
  });

  it("#8.1 the synthesized device-errors rule publishes RAW", () => {
    expect(ruleNamed("smarthome_dev_device_errors_to_alerts").sns).toEqual([expect.objectContaining({ message_format: "RAW" })]);
  });

  it("#8.6 the synthesized presence rule passes connected and disconnected events of project clients only, never connect_failed", async () => {
    const presence = ruleNamed("smarthome_dev_presence_events");
    const { targets, invoked, errors } = recordingTargets();
    const engine = createRulesEngine([{ name: presence.name, sql: presence.sql, actions: [{ kind: "lambda", functionName: "presence" }] }], targets);
    const event = (eventType: string, clientId: string) =>
      engine(`$aws/events/presence/${eventType}/${clientId}`, Buffer.from(JSON.stringify({ clientId, eventType, timestamp: 1 })));
    await event("connected", "smarthome-dev-SN1");
    await event("disconnected", "smarthome-dev-SN1");
    await event("connect_failed", "smarthome-dev-SN1");
    await event("connected", "provisioning-smarthome-dev-x");
    expect(errors).toEqual([]);
    expect(invoked.map((e) => (e as { eventType: string }).eventType)).toEqual(["connected", "disconnected"]);
  });

  it("refuses, when it loads, a WHERE clause it does not understand", () => {
    const { targets } = recordingTargets();
    expect(() => createRulesEngine([{ name: "r", sql: "SELECT * FROM 'a/b' WHERE x > 1", actions: [] }], targets)).toThrow(/unsupported WHERE term x > 1/);
  });
});
