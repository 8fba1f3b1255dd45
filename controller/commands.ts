import { randomUUID } from "node:crypto";
import { commandSchema, deviceErrorSchema, responseSchema, type Command, type CommandResponse, type DeviceError } from "../contracts/messages";
import { deviceTopics, thingNameTopicLevel, type DeviceTopics } from "../contracts/topics";
import type { Log } from "./log";

export type CommandOutcome =
  | { readonly status: "completed"; readonly commandId: string; readonly response: CommandResponse }
  | { readonly status: "failed"; readonly commandId: string; readonly error: DeviceError }
  | { readonly status: "timeout"; readonly commandId: string };

export interface CommandBrokerOptions {
  readonly topicRoot: string;
  /** Publishes one command at QoS 1; resolves when the broker acknowledged it (PUBACK). */
  readonly publish: (topic: string, payload: string) => Promise<void>;
  readonly log: Log;
  /** @default Date.now */
  readonly now?: () => number;
}

interface Pending {
  readonly thingName: string;
  readonly settle: (outcome: CommandOutcome) => void;
}

/**
 * Sends commands and pairs each with the device's answer by command id. Answers that come after the
 * caller stopped waiting are logged as late (the responses topic rule stores them in the device
 * table either way); answers from another thing than the command's are ignored.
 */
export class CommandBroker {
  private readonly topics: DeviceTopics;
  private readonly thingLevel: number;
  private readonly pending = new Map<string, Pending>();
  /** Commands that timed out, by id, until their answer comes (bounded). */
  private readonly expired = new Map<string, string>();
  private readonly now: () => number;
  private idle: (() => void)[] = [];

  constructor(private readonly options: CommandBrokerOptions) {
    this.topics = deviceTopics(options.topicRoot);
    this.thingLevel = thingNameTopicLevel(options.topicRoot);
    this.now = options.now ?? Date.now;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Publishes a command and waits up to `timeoutMs` for its response or error. */
  async send(thingName: string, request: { action: string; params?: Record<string, unknown> }, timeoutMs: number): Promise<CommandOutcome> {
    const sentAt = this.now();
    const command: Command = commandSchema.parse({
      id: randomUUID(),
      action: request.action,
      params: request.params ?? {},
      sentAt: new Date(sentAt).toISOString(),
      expiresAt: new Date(sentAt + timeoutMs).toISOString(),
    });
    const outcome = new Promise<CommandOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.finish(command.id);
        this.rememberExpired(command.id, thingName);
        this.options.log("command-timeout", { commandId: command.id, thingName, timeoutMs }, "warn");
        resolve({ status: "timeout", commandId: command.id });
      }, timeoutMs);
      this.pending.set(command.id, {
        thingName,
        settle: (result) => {
          clearTimeout(timer);
          this.finish(command.id);
          resolve(result);
        },
      });
    });
    try {
      await this.options.publish(this.topics.commands(thingName), JSON.stringify(command));
    } catch (error) {
      this.pending.get(command.id)?.settle({ status: "timeout", commandId: command.id });
      throw error;
    }
    this.options.log("command-sent", { commandId: command.id, thingName, action: command.action });
    return outcome;
  }

  /** A message on a responses or errors topic. */
  receive(topic: string, payload: string): void {
    const thingName = topic.split("/")[this.thingLevel - 1] ?? "";
    const kind = topic.endsWith("/responses") ? "response" : "error";
    let message: { commandId?: string };
    try {
      const json: unknown = JSON.parse(payload);
      message = kind === "response" ? responseSchema.parse(json) : deviceErrorSchema.parse(json);
    } catch (error) {
      this.options.log("device-message-invalid", { thingName, kind, reason: (error as Error).message.slice(0, 300) }, "warn");
      return;
    }
    const commandId = message.commandId;
    const pending = commandId ? this.pending.get(commandId) : undefined;
    if (commandId && pending && pending.thingName === thingName) {
      this.options.log(`device-${kind}`, { commandId, thingName });
      pending.settle(
        kind === "response"
          ? { status: "completed", commandId, response: message as CommandResponse }
          : { status: "failed", commandId, error: message as DeviceError },
      );
      return;
    }
    if (commandId && this.expired.get(commandId) === thingName) {
      this.expired.delete(commandId);
      this.options.log(`late-device-${kind}`, { commandId, thingName, message }, "warn");
      return;
    }
    this.options.log(`unmatched-device-${kind}`, { commandId, thingName, message }, "warn");
  }

  /** Resolves when no command is waiting for its answer. */
  drained(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private finish(commandId: string): void {
    this.pending.delete(commandId);
    if (this.pending.size === 0) {
      const waiting = this.idle;
      this.idle = [];
      for (const resolve of waiting) resolve();
    }
  }

  private rememberExpired(commandId: string, thingName: string): void {
    this.expired.set(commandId, thingName);
    // Keep the most recent 1,000: enough to label late answers, bounded in memory.
    if (this.expired.size > 1000) this.expired.delete(this.expired.keys().next().value as string);
  }
}
