import type { TopicRuleAction, TopicRuleSpec } from "../contracts/topic-rules";

/**
 * The `iot` stack's topic rules, run locally from the same specs the stack deploys
 * (contracts/topic-rules.ts): the SQL (the subset the rules use) and actions, calling the same
 * handler code as the Lambdas. Anything outside that subset fails when the rules load, not silently
 * at run time.
 */
export type TopicRule = Pick<TopicRuleSpec, "name" | "sql" | "actions">;

/** Where actions land, by resource name as the specs give it. */
export interface RuleTargets {
  /** Publishes as SNS would, with `MessageStructure=json` for a JSON-format action (SNS then checks the message). */
  publishAlert(topicName: string, message: string, messageStructure?: "json"): Promise<void>;
  invokeFunction(functionName: string, event: unknown): Promise<void>;
  writeLog(logGroupName: string, message: unknown): Promise<void>;
  updateItem(tableName: string, key: Record<string, string>, attribute: string, value: unknown): Promise<void>;
  /** Where a failed action is reported (the rules' error action). */
  reportError(rule: string, error: Error): void;
}

interface CompiledRule {
  readonly rule: TopicRule;
  readonly filter: string;
  select(topic: string, payload: Record<string, unknown>): Record<string, unknown> | undefined;
}

const SQL = /^SELECT (.+?) FROM '([^']+)'(?: WHERE (.+))?$/;

export function compileRule(rule: TopicRule): CompiledRule {
  const match = SQL.exec(rule.sql.trim());
  if (!match) throw new Error(`rule ${rule.name}: the local rules engine does not understand ${rule.sql}`);
  const [, fieldList, filter, where] = match as unknown as [string, string, string, string | undefined];
  const fields = fieldList.split(",").map((field) => field.trim());
  const selectors = fields.map((field) => {
    if (field === "*") return (_topic: string, payload: Record<string, unknown>) => payload;
    const topicField = /^topic\((\d+)\) AS (\w+)$/.exec(field);
    if (topicField) return (topic: string) => ({ [topicField[2] as string]: topic.split("/")[Number(topicField[1]) - 1] });
    const timestampField = /^timestamp\(\) AS (\w+)$/.exec(field);
    if (timestampField) return () => ({ [timestampField[1] as string]: Date.now() });
    throw new Error(`rule ${rule.name}: unsupported SELECT field ${field}`);
  });
  const condition = where === undefined ? () => true : compileWhere(rule.name, where);
  return {
    rule,
    filter,
    select: (topic, payload) => (condition(payload) ? Object.assign({}, ...selectors.map((select) => select(topic, payload))) : undefined),
  };
}

type Condition = (payload: Record<string, unknown>) => boolean;

/**
 * The WHERE subset the stacks use: `startswith(field, 'text')` and `field = 'text'` terms, joined by
 * AND, where a term may also be a parenthesized OR of such terms. Anything else fails at load time.
 */
function compileWhere(ruleName: string, where: string): Condition {
  const term = (text: string): Condition => {
    const trimmed = text.trim();
    const group = /^\((.+)\)$/.exec(trimmed);
    if (group) {
      const alternatives = (group[1] as string).split(/ OR /).map(term);
      return (payload) => alternatives.some((alternative) => alternative(payload));
    }
    const startsWith = /^startswith\((\w+), '([^']*)'\)$/.exec(trimmed);
    if (startsWith) {
      const [, field, prefix] = startsWith as unknown as [string, string, string];
      return (payload) => typeof payload[field] === "string" && (payload[field] as string).startsWith(prefix);
    }
    const equals = /^(\w+) = '([^']*)'$/.exec(trimmed);
    if (equals) {
      const [, field, value] = equals as unknown as [string, string, string];
      return (payload) => payload[field] === value;
    }
    throw new Error(`rule ${ruleName}: unsupported WHERE term ${trimmed}`);
  };
  // Split on AND outside parentheses.
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < where.length; index += 1) {
    if (where[index] === "(") depth += 1;
    if (where[index] === ")") depth -= 1;
    if (depth === 0 && where.startsWith(" AND ", index)) {
      terms.push(where.slice(start, index));
      start = index + 5;
    }
  }
  terms.push(where.slice(start));
  const conditions = terms.map(term);
  return (payload) => conditions.every((condition) => condition(payload));
}

/** True when an MQTT topic matches a filter with `+` and `#` wildcards. */
export function topicMatches(filter: string, topic: string): boolean {
  const filterLevels = filter.split("/");
  const topicLevels = topic.split("/");
  for (let index = 0; index < filterLevels.length; index += 1) {
    if (filterLevels[index] === "#") return true;
    if (index >= topicLevels.length) return false;
    if (filterLevels[index] !== "+" && filterLevels[index] !== topicLevels[index]) return false;
  }
  return filterLevels.length === topicLevels.length;
}

/** Runs every rule whose filter matches the message; actions run concurrently, errors are reported. */
export function createRulesEngine(rules: readonly TopicRule[], targets: RuleTargets) {
  const compiled = rules.map(compileRule);
  return async (topic: string, payload: Buffer): Promise<void> => {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(payload.toString("utf8"));
    } catch {
      return; // IoT SQL selects nothing from a payload that is not JSON
    }
    await Promise.all(
      compiled
        .filter(({ filter }) => topicMatches(filter, topic))
        .map(async ({ rule, select }) => {
          const selected = select(topic, message);
          if (!selected) return;
          await Promise.all(
            rule.actions.map((action) =>
              runAction(action, topic, selected, targets).catch((error: Error) => targets.reportError(rule.name, error)),
            ),
          );
        }),
    );
  };
}

async function runAction(action: TopicRuleAction, topic: string, selected: Record<string, unknown>, targets: RuleTargets): Promise<void> {
  switch (action.kind) {
    case "sns":
      return targets.publishAlert(action.topicName, JSON.stringify(selected), action.messageFormat === "JSON" ? "json" : undefined);
    case "lambda":
      return targets.invokeFunction(action.functionName, selected);
    case "cloudwatch_logs":
      return targets.writeLog(action.logGroupName, selected);
    case "dynamodb": {
      const key = action.hashKeyValue.replace(/\$\{topic\((\d+)\)\}/g, (_match, level: string) => topic.split("/")[Number(level) - 1] ?? "");
      return targets.updateItem(action.tableName, { [action.hashKeyField]: key }, action.payloadField, selected);
    }
  }
}
