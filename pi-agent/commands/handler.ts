import type * as z from "zod/mini";
import type { Logger } from "../log";

/** What a handler may read of the agent. */
export interface CommandContext {
  readonly thingName: string;
  readonly logger: Logger;
  /** Aborted when the command times out or the agent stops; a long handler should give up then. */
  readonly signal: AbortSignal;
}

/**
 * One command the agent understands: its action name, the schema of its params (parsed before the
 * handler runs; a mismatch is INVALID_PARAMS) and the work. The result becomes the response's
 * `result`; a throw becomes COMMAND_FAILED.
 */
export interface CommandHandler<Params = any, Result = unknown> {
  readonly action: string;
  readonly params: z.ZodMiniType<Params>;
  run(params: Params, context: CommandContext): Promise<Result>;
}

export function defineHandler<Params, Result>(handler: CommandHandler<Params, Result>): CommandHandler<Params, Result> {
  return handler;
}
