import * as z from "zod/mini";

/**
 * The built-in commands every Pi agent understands: the `action` of a command (contracts/messages.ts)
 * with the shape of its `params` and of its response's `result`. The agent validates with these, and
 * the controller can build commands and read results with the same schemas.
 */

/** `ping`: no parameters; answers that the agent is alive. */
export const pingParamsSchema = z.strictObject({});
export const pingResultSchema = z.strictObject({
  pong: z.literal(true),
  /** Seconds since the agent process started. */
  uptimeSeconds: z.number().check(z.nonnegative()),
});

/** An output a `set-output` command may switch: its name in the agent's config. */
const outputName = z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[a-z][a-z0-9_-]*$/, "must be a lowercase output name, e.g. relay-1"));

/** `get-state`: no parameters; answers the agent's view of itself and of its outputs. */
export const getStateParamsSchema = z.strictObject({});
export const getStateResultSchema = z.strictObject({
  thingName: z.string(),
  agentVersion: z.string(),
  uptimeSeconds: z.number().check(z.nonnegative()),
  /** Every configured output and its last set value (`null`: not set since the agent started). */
  outputs: z.record(z.string(), z.nullable(z.boolean())),
  /** Responses and errors waiting to be published. */
  queuedMessages: z.int().check(z.nonnegative()),
});

/** `set-output`: switch one configured GPIO output on or off. */
export const setOutputParamsSchema = z.strictObject({
  output: outputName,
  on: z.boolean(),
});
export const setOutputResultSchema = z.strictObject({
  output: outputName,
  on: z.boolean(),
});

export const builtInCommands = {
  ping: { params: pingParamsSchema, result: pingResultSchema },
  "get-state": { params: getStateParamsSchema, result: getStateResultSchema },
  "set-output": { params: setOutputParamsSchema, result: setOutputResultSchema },
} as const;

export type BuiltInAction = keyof typeof builtInCommands;
export type PingResult = z.infer<typeof pingResultSchema>;
export type GetStateResult = z.infer<typeof getStateResultSchema>;
export type SetOutputParams = z.infer<typeof setOutputParamsSchema>;
export type SetOutputResult = z.infer<typeof setOutputResultSchema>;

/**
 * Error codes a device publishes (deviceErrorSchema.code) when a command does not complete. The
 * controller can tell a command it may resend (`COMMAND_TIMEOUT`, `AGENT_STOPPING`) from one it
 * must not (`MALFORMED_COMMAND`, `UNKNOWN_COMMAND`, `INVALID_PARAMS`, `COMMAND_EXPIRED`).
 */
export const commandErrorCodes = {
  /** The payload is not JSON or not a command (contracts/messages.ts commandSchema). */
  malformed: "MALFORMED_COMMAND",
  /** No handler for the action. */
  unknown: "UNKNOWN_COMMAND",
  /** The params do not match the action's schema. */
  invalidParams: "INVALID_PARAMS",
  /** Received after its expiresAt: not executed. */
  expired: "COMMAND_EXPIRED",
  /** The handler threw. */
  failed: "COMMAND_FAILED",
  /** The handler did not finish within the agent's command timeout. */
  timeout: "COMMAND_TIMEOUT",
  /** The agent stopped (SIGTERM) before the handler finished. */
  stopping: "AGENT_STOPPING",
} as const;

export type CommandErrorCode = (typeof commandErrorCodes)[keyof typeof commandErrorCodes];
