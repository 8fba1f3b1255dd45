import { commandErrorCodes, type CommandErrorCode } from "../contracts/commands";
import { commandSchema, deviceErrorSchema, responseSchema, type Command } from "../contracts/messages";
import type { CommandHandler } from "./commands/handler";
import type { CommandLedger } from "./ledger";
import { errorText, type Logger } from "./log";
import type { OutboxMessage } from "./outbox";

export interface DispatcherOptions {
  readonly thingName: string;
  readonly handlers: readonly CommandHandler[];
  readonly ledger: CommandLedger;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Every outcome goes here exactly once per delivery: the outbox. */
  readonly emit: (outcome: OutboxMessage) => void;
  readonly now?: () => Date;
}

/**
 * Turns each delivered command payload into exactly one response or one error, correlated by
 * command id. Malformed, unknown, invalid and expired commands are answered without running
 * anything; a repeated id is answered with its first outcome (waiting for it if still running)
 * without running twice; a handler that throws or outlives the timeout is answered with an error
 * while the agent carries on.
 */
export class Dispatcher {
  private readonly handlers: Map<string, CommandHandler>;
  private readonly running = new Map<string, { outcome: Promise<OutboxMessage>; abort: AbortController }>();
  private stopping = false;

  constructor(private readonly options: DispatcherOptions) {
    this.handlers = new Map(options.handlers.map((handler) => [handler.action, handler]));
    if (this.handlers.size !== options.handlers.length) throw new Error("two command handlers share an action");
  }

  get inFlight(): number {
    return this.running.size;
  }

  /** Handles one delivered payload; resolves once its outcome is emitted. */
  async deliver(payload: Uint8Array): Promise<void> {
    const now = this.options.now?.() ?? new Date();
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(payload).toString("utf8"));
    } catch (error) {
      return this.options.emit(this.error(undefined, commandErrorCodes.malformed, `not JSON: ${errorText(error)}`));
    }
    const parsed = commandSchema.safeParse(json);
    if (!parsed.success) {
      const claimedId = (json as { id?: unknown } | null)?.id;
      const commandId = typeof claimedId === "string" && deviceErrorSchema.shape.commandId.safeParse(claimedId).success ? claimedId : undefined;
      const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ");
      return this.options.emit(this.error(commandId, commandErrorCodes.malformed, `not a command: ${problems}`));
    }
    const command = parsed.data;
    const log = this.options.logger.child({ commandId: command.id, action: command.action });

    const earlier = this.options.ledger.get(command.id) ?? (await this.running.get(command.id)?.outcome);
    if (earlier) {
      log.info("repeated command id: answering with the first outcome");
      return this.options.emit(earlier);
    }
    if (Date.parse(command.expiresAt) <= now.getTime()) {
      return this.finish(command, log, this.error(command.id, commandErrorCodes.expired, `expired at ${command.expiresAt}, received at ${now.toISOString()}`));
    }
    const abort = new AbortController();
    const outcome = this.execute(command, log, abort);
    this.running.set(command.id, { outcome, abort });
    try {
      this.finish(command, log, await outcome);
    } finally {
      this.running.delete(command.id);
    }
  }

  /** Stops taking commands; every running one is answered AGENT_STOPPING unless it finishes first. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const { abort } of this.running.values()) abort.abort(new StopSignal());
    await Promise.allSettled([...this.running.values()].map((entry) => entry.outcome));
  }

  private async execute(command: Command, log: Logger, abort: AbortController): Promise<OutboxMessage> {
    if (this.stopping) return this.error(command.id, commandErrorCodes.stopping, "the agent is stopping");
    const handler = this.handlers.get(command.action);
    if (!handler) return this.error(command.id, commandErrorCodes.unknown, `unknown action "${command.action}" (known: ${[...this.handlers.keys()].join(", ")})`);
    const params = handler.params.safeParse(command.params);
    if (!params.success) {
      return this.error(command.id, commandErrorCodes.invalidParams, params.error.issues.map((issue) => `${issue.path.join(".") || "(params)"}: ${issue.message}`).join("; "));
    }
    const timer = setTimeout(() => abort.abort(new TimeoutSignal()), this.options.timeoutMs);
    const aborted = new Promise<never>((_, reject) => abort.signal.addEventListener("abort", () => reject(abort.signal.reason), { once: true }));
    const started = Date.now();
    try {
      const result = await Promise.race([handler.run(params.data, { thingName: this.options.thingName, logger: log, signal: abort.signal }), aborted]);
      log.info("command completed", { durationMs: Date.now() - started });
      return { kind: "responses", payload: responseSchema.parse({ commandId: command.id, result, completedAt: new Date().toISOString() }) };
    } catch (error) {
      if (error instanceof TimeoutSignal) return this.error(command.id, commandErrorCodes.timeout, `no result within ${this.options.timeoutMs} ms`);
      if (error instanceof StopSignal) return this.error(command.id, commandErrorCodes.stopping, "the agent stopped before the command finished");
      log.warn("command failed", { error: errorText(error) });
      return this.error(command.id, commandErrorCodes.failed, errorText(error));
    } finally {
      clearTimeout(timer);
      aborted.catch(() => undefined);
    }
  }

  private finish(command: Command, log: Logger, outcome: OutboxMessage): void {
    this.options.ledger.record(command.id, outcome);
    if (outcome.kind === "errors") log.warn("command answered with an error", { code: outcome.payload.code });
    this.options.emit(outcome);
  }

  private error(commandId: string | undefined, code: CommandErrorCode, message: string): OutboxMessage {
    const payload = deviceErrorSchema.parse({ ...(commandId ? { commandId } : {}), code, message: message.slice(0, 1024), at: new Date().toISOString() });
    return { kind: "errors", payload };
  }
}

class TimeoutSignal extends Error {}
class StopSignal extends Error {}
