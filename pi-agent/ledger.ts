import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { writeFileAtomically } from "./files";
import type { OutboxMessage } from "./outbox";

/**
 * The outcome of the last `limit` command ids, on disk: a command delivered twice (QoS 1 redelivery,
 * a controller retry) is answered with its first outcome and never executed again, even across a
 * restart. Oldest ids are forgotten first.
 *
 * The file is a journal, one `[commandId, outcome]` JSON line per command, appended (one small
 * write, no garbage proportional to the ledger) and compacted atomically once it holds twice the
 * limit. A line cut short by a crash is skipped on load. Not fsynced: see Outbox.save.
 */
export class CommandLedger {
  private readonly outcomes = new Map<string, OutboxMessage>();
  private journalLines = 0;

  constructor(
    private readonly file: string,
    private readonly limit: number,
  ) {
    if (!existsSync(file)) return;
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line) continue;
      try {
        const [commandId, outcome] = JSON.parse(line) as [string, OutboxMessage];
        this.remember(commandId, outcome);
        this.journalLines += 1;
      } catch {
        // the last line of a journal cut by a crash or power cut
      }
    }
  }

  get(commandId: string): OutboxMessage | undefined {
    return this.outcomes.get(commandId);
  }

  record(commandId: string, outcome: OutboxMessage): void {
    this.remember(commandId, outcome);
    if (this.journalLines + 1 > 2 * this.limit) {
      writeFileAtomically(this.file, [...this.outcomes].map((entry) => `${JSON.stringify(entry)}\n`).join(""), 0o600, false);
      this.journalLines = this.outcomes.size;
    } else {
      appendFileSync(this.file, `${JSON.stringify([commandId, outcome])}\n`, { mode: 0o600 });
      this.journalLines += 1;
    }
  }

  private remember(commandId: string, outcome: OutboxMessage): void {
    this.outcomes.delete(commandId);
    this.outcomes.set(commandId, outcome);
    for (const oldest of this.outcomes.keys()) {
      if (this.outcomes.size <= this.limit) break;
      this.outcomes.delete(oldest);
    }
  }
}
