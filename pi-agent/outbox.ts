import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomically } from "./files";
import type { Logger } from "./log";

/** A message the agent owes the controller: a response or an error, for its own topic of that kind. */
export interface OutboxMessage {
  readonly kind: "responses" | "errors";
  readonly payload: Record<string, unknown>;
}

/**
 * The bounded on-disk queue of responses and errors not yet acknowledged by IoT Core (PUBACK).
 * Every message goes through it, online or not, so the order on the wire is the order of
 * completion and a crash or a power cut loses nothing that was already answered. Beyond `limit`
 * entries the oldest is dropped, with a warning that counts the drops since the agent started.
 */
export class Outbox {
  private readonly entries: OutboxMessage[];
  /** Messages dropped because the queue was full, since the agent started. */
  dropped = 0;

  constructor(
    private readonly file: string,
    private readonly limit: number,
    private readonly logger: Logger,
  ) {
    this.entries = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as OutboxMessage[]) : [];
    if (this.entries.length > 0) logger.info("outbox loaded", { queued: this.entries.length });
  }

  get size(): number {
    return this.entries.length;
  }

  head(): OutboxMessage | undefined {
    return this.entries[0];
  }

  push(message: OutboxMessage): void {
    this.entries.push(message);
    while (this.entries.length > this.limit) {
      const oldest = this.entries.shift()!;
      this.dropped += 1;
      this.logger.warn("outbox full: dropped the oldest message", { limit: this.limit, droppedTotal: this.dropped, droppedKind: oldest.kind, droppedCommandId: oldest.payload.commandId });
    }
    this.save();
  }

  /** Removes the head once IoT Core acknowledged it. */
  shift(): void {
    this.entries.shift();
    this.save();
  }

  private save(): void {
    // Atomic but not fsynced: it survives a crash or a kill; a power cut may lose the last few
    // seconds of it (ext4 commits every 5 s), where two fsyncs per write would cost ~10 ms per
    // message on an SD card. The controller sees such a loss as a command without an answer.
    writeFileAtomically(this.file, JSON.stringify(this.entries), 0o600, false);
  }
}
