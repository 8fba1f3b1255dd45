import { projectNames } from "../../contracts/names";
import { deviceTopicRules, topicRuleRoleStatements, type TopicRulesDefinition } from "../../contracts/topic-rules";
import { deviceTopics } from "../../contracts/topics";
import { createRulesEngine } from "../../local/rules-engine";
import { synthesizeApp } from "../../local/synthesized";
import { policyDocuments, resources, statements, testConfig } from "../helpers/synth";

/**
 * Issue #9 item 2: a topic rule is one spec. Renaming one rule's target table in a copy of the rule
 * definition moves the `iot` stack's rule, the `roles` stack's rule-role policy and the local rules
 * engine together.
 */
describe("topic rules from one spec", () => {
  const config = testConfig();
  const renamedTable = "smarthome-dev-last-responses";
  const renamed: TopicRulesDefinition = (names) => {
    const rules = deviceTopicRules(names);
    return {
      ...rules,
      rules: rules.rules.map((rule) => ({
        ...rule,
        actions: rule.actions.map((action) => (action.kind === "dynamodb" ? { ...action, tableName: renamedTable } : action)),
      })),
    };
  };
  const { stacks, json } = synthesizeApp(config, { topicRules: renamed });

  it("the iot stack's rule writes to the renamed table", () => {
    const rulesWithTables = Object.values(resources(json.iot, "aws_iot_topic_rule")).filter((rule) => rule.dynamodb);
    expect(rulesWithTables.length).toBe(1);
    expect(rulesWithTables[0].dynamodb).toEqual([expect.objectContaining({ table_name: renamedTable, hash_key_value: "$${topic(4)}" })]);
  });

  it("the roles stack lets the rule role write the renamed table, and no longer the device table", () => {
    const recordStatements = policyDocuments(json.roles)
      .flatMap(({ document }) => statements(document))
      .filter((statement) => statement.Sid === "RecordLastResponse");
    expect(recordStatements.length).toBe(1);
    expect(recordStatements[0]!.Resource).toEqual([expect.stringMatching(new RegExp(`:table/${renamedTable}$`))]);
    expect(recordStatements[0]!.Action).toEqual(["dynamodb:PutItem", "dynamodb:UpdateItem"]);
  });

  it("the local rules engine, run from the iot stack's rules, updates the renamed table", async () => {
    const updates: { tableName: string; key: Record<string, string>; attribute: string }[] = [];
    const engine = createRulesEngine(stacks.iot.topicRules.rules, {
      publishAlert: async () => undefined,
      invokeFunction: async () => undefined,
      writeLog: async () => undefined,
      updateItem: async (tableName, key, attribute) => void updates.push({ tableName, key, attribute }),
      reportError: (rule, error) => {
        throw new Error(`${rule}: ${error.message}`);
      },
    });
    await engine(deviceTopics(stacks.iot.names.topicRoot).responses("pi-1"), Buffer.from(JSON.stringify({ ok: true })));
    expect(updates).toEqual([{ tableName: renamedTable, key: { thingName: "pi-1" }, attribute: "lastResponse" }]);
  });

  it("without the rename, the rule refers to the iot stack's own device table", () => {
    const { json: original } = synthesizeApp(config);
    const rulesWithTables = Object.values(resources(original.iot, "aws_iot_topic_rule")).filter((rule) => rule.dynamodb);
    expect(rulesWithTables.length).toBe(1);
    expect(rulesWithTables[0].dynamodb[0].table_name).toBe("${aws_dynamodb_table.device-table_2294CCB2.name}");
  });
});

describe("topicRuleRoleStatements", () => {
  const names = projectNames("smarthome", "dev");
  const arn = (service: string, resource: string) => `arn:aws:${service}:eu-west-1:123456789012:${resource}`;

  it("gives each rule role one statement per sid, resources merged", () => {
    const statements = topicRuleRoleStatements(deviceTopicRules(names), names, arn);
    expect(statements["iot-alerts"]).toEqual([{ sid: "PublishAlerts", actions: ["sns:Publish"], resources: [arn("sns", names.alertsTopic)] }]);
    expect(statements["iot-rules"].map((statement) => statement.sid)).toEqual(["WriteIotLogs", "RecordLastResponse"]);
    expect(statements["iot-rules"][0]!.resources).toEqual([arn("logs", `log-group:${names.logGroupPattern}`)]);
  });

  it("refuses a log group outside the project's pattern, which the role could not write", () => {
    const rules = deviceTopicRules(names);
    const outside = { ...rules, errorAction: { ...rules.errorAction, logGroupName: "/other/errors" } };
    expect(() => topicRuleRoleStatements(outside, names, arn)).toThrow(/not under \/smarthome\/dev\/\*/);
  });

  it("refuses two actions sharing a sid with different permissions", () => {
    const rules = deviceTopicRules(names);
    const clash = { ...rules, rules: [...rules.rules, { ...rules.rules[0]!, id: "x", actions: [{ kind: "sns" as const, topicName: "t", role: "iot-rules" as const, sid: "WriteIotLogs" }] }] };
    expect(() => topicRuleRoleStatements(clash, names, arn)).toThrow(/actions sharing a sid need the same permissions/);
  });
});
