import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomically } from "./files";
import type { OutboxMessage } from "./outbox";

/**
 * The outcome of the last `limit` command ids, on disk: a command delivered twice (QoS 1 redelivery,
 * a controller retry) is answered with its first outcome and never executed again, even across a
 * restart. Oldest ids are forgotten first.
 */
export class CommandLedger {
  private readonly outcomes: Map<string, OutboxMessage>;

  constructor(
    private readonly file: string,
    private readonly limit: number,
  ) {
    const saved = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as [string, OutboxMessage][]) : [];
    this.outcomes = new Map(saved);
  }

  get(commandId: string): OutboxMessage | undefined {
    return this.outcomes.get(commandId);
  }

  record(commandId: string, outcome: OutboxMessage): void {
    this.outcomes.set(commandId, outcome);
    for (const oldest of this.outcomes.keys()) {
      if (this.outcomes.size <= this.limit) break;
      this.outcomes.delete(oldest);
    }
    writeFileAtomically(this.file, JSON.stringify([...this.outcomes]), 0o600, false); // not fsynced: see Outbox.save
  }
}
