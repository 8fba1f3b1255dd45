import type { IotPolicyDocument, IotPolicyStatement } from "../contracts/iot-policies";

/**
 * AWS IoT Core's policy evaluation, for the local stand-in: the same documents the stacks
 * synthesize decide what a local client may do.
 *
 * - An explicit Deny wins; otherwise one matching Allow allows; otherwise the request is denied.
 * - Resources and actions match with IAM wildcards: `*` any run of characters (`/` included), `?`
 *   one character. MQTT wildcards `+` and `#` are plain characters, as in IoT policies.
 * - Policy variables (`${iot:ClientId}`, `${iot:Connection.Thing.ThingName}`, …) are replaced from
 *   the connection; a statement whose variable has no value does not apply.
 * - Conditions support the operators IoT policies use here; any other fails closed.
 */
export type IotAction = "iot:Connect" | "iot:Publish" | "iot:Subscribe" | "iot:Receive";

export interface ConnectionContext {
  readonly clientId: string;
  /** The thing the connection's certificate is attached to, if any. */
  readonly thingName?: string;
  readonly certificateId?: string;
}

export interface IotRequest {
  readonly action: IotAction;
  /** Full ARN: `…:client/<id>`, `…:topic/<topic>` or `…:topicfilter/<filter>`. */
  readonly resource: string;
  readonly connection: ConnectionContext;
}

export type Decision = "Allow" | "Deny";

/** Whether the policies allow the request. */
export function evaluate(policies: readonly IotPolicyDocument[], request: IotRequest): Decision {
  const applicable = policies.flatMap((policy) => policy.Statement).filter((statement) => applies(statement, request));
  if (applicable.some((statement) => statement.Effect === "Deny")) return "Deny";
  return applicable.some((statement) => statement.Effect === "Allow") ? "Allow" : "Deny";
}

function applies(statement: IotPolicyStatement, request: IotRequest): boolean {
  if (!asArray(statement.Action).some((action) => wildcardMatch(action, request.action))) return false;
  const resources = asArray(statement.Resource)
    .map((resource) => substituteVariables(resource, request.connection))
    .filter((resource): resource is string => resource !== undefined);
  if (!resources.some((resource) => wildcardMatch(resource, request.resource))) return false;
  return conditionsHold(statement.Condition ?? {}, request.connection);
}

function asArray(value: string | readonly string[]): readonly string[] {
  return typeof value === "string" ? [value] : value;
}

/** The connection's value of a policy variable or condition key; undefined when it has none. */
function contextValue(key: string, connection: ConnectionContext): string | undefined {
  switch (key) {
    case "iot:ClientId":
      return connection.clientId;
    case "iot:Connection.Thing.ThingName":
      return connection.thingName;
    case "iot:Connection.Thing.IsAttached":
      return String(connection.thingName !== undefined && connection.thingName === connection.clientId);
    case "iot:Certificate.Id":
      return connection.certificateId;
    default:
      return undefined;
  }
}

function substituteVariables(resource: string, connection: ConnectionContext): string | undefined {
  let unresolved = false;
  const substituted = resource.replace(/\$\{([^}]+)\}/g, (_match, key: string) => {
    const value = contextValue(key, connection);
    if (value === undefined) unresolved = true;
    return value ?? "";
  });
  return unresolved ? undefined : substituted;
}

type Operator = (actual: string | undefined, expected: readonly string[]) => boolean;

const OPERATORS: Record<string, Operator> = {
  Bool: (actual, expected) => actual !== undefined && expected.some((value) => value.toLowerCase() === actual.toLowerCase()),
  StringEquals: (actual, expected) => actual !== undefined && expected.includes(actual),
  StringNotEquals: (actual, expected) => actual === undefined || !expected.includes(actual),
  StringLike: (actual, expected) => actual !== undefined && expected.some((pattern) => wildcardMatch(pattern, actual)),
  StringNotLike: (actual, expected) => actual === undefined || !expected.some((pattern) => wildcardMatch(pattern, actual)),
};

function conditionsHold(conditions: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>, connection: ConnectionContext): boolean {
  return Object.entries(conditions).every(([operator, keys]) => {
    const test = OPERATORS[operator];
    if (!test) throw new Error(`the local IoT stand-in does not support the condition operator ${operator}`);
    return Object.entries(keys).every(([key, expected]) => test(contextValue(key, connection), asArray(expected)));
  });
}

/** IAM-style wildcard match: `*` any characters, `?` exactly one; everything else literal. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const expression = pattern.replace(/[.+^${}()|[\]\\#]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${expression}$`, "s").test(value);
}
