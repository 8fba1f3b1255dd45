/**
 * The `iot` stack's topic rules, run locally: the synthesized SQL (the subset the stack uses) and
 * actions, calling the same handler code as the Lambdas. Anything outside that subset fails when
 * the rules load, not silently at run time.
 */
export interface TopicRule {
  readonly name: string;
  readonly sql: string;
  readonly actions: readonly RuleAction[];
}

export type RuleAction =
  | { readonly kind: "sns"; readonly topicArn: string }
  | { readonly kind: "lambda"; readonly functionName: string }
  | { readonly kind: "cloudwatch_logs"; readonly logGroupName: string }
  | { readonly kind: "dynamodb"; readonly tableName: string; readonly hashKeyField: string; readonly hashKeyValue: string; readonly payloadField: string };

export interface RuleTargets {
  publishAlert(topicArn: string, message: string): Promise<void>;
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
  let condition = (_payload: Record<string, unknown>) => true;
  if (where) {
    const startsWith = /^startswith\((\w+), '([^']*)'\)$/.exec(where.trim());
    if (!startsWith) throw new Error(`rule ${rule.name}: unsupported WHERE ${where}`);
    condition = (payload) => typeof payload[startsWith[1] as string] === "string" && (payload[startsWith[1] as string] as string).startsWith(startsWith[2] as string);
  }
  return {
    rule,
    filter,
    select: (topic, payload) => (condition(payload) ? Object.assign({}, ...selectors.map((select) => select(topic, payload))) : undefined),
  };
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

async function runAction(action: RuleAction, topic: string, selected: Record<string, unknown>, targets: RuleTargets): Promise<void> {
  switch (action.kind) {
    case "sns":
      return targets.publishAlert(action.topicArn, JSON.stringify(selected));
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
