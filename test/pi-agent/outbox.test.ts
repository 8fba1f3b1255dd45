import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommandLedger } from "../../pi-agent/ledger";
import { Outbox } from "../../pi-agent/outbox";
import { memoryLogger } from "./fixtures";

describe("pi agent: outbox", () => {
  it("keeps messages on disk in order, and drops the oldest with a counted warning when full", () => {
    const file = join(mkdtempSync(join(tmpdir(), "outbox-")), "outbox.json");
    const { logger, lines } = memoryLogger();
    const outbox = new Outbox(file, 3, logger);
    for (let index = 1; index <= 5; index += 1) outbox.push({ kind: "responses", payload: { commandId: `c-${index}` } });
    expect(outbox.size).toBe(3);
    expect(outbox.dropped).toBe(2);
    const warnings = lines.filter((line) => line.message === "outbox full: dropped the oldest message");
    expect(warnings.map((line) => [line.droppedCommandId, line.droppedTotal])).toEqual([["c-1", 1], ["c-2", 2]]);

    outbox.shift();
    const reloaded = new Outbox(file, 3, logger); // what the agent finds after a restart or a power cut
    expect(reloaded.size).toBe(2);
    expect(reloaded.head()).toEqual({ kind: "responses", payload: { commandId: "c-4" } });
  });
});

describe("pi agent: command ledger", () => {
  it("remembers the last `limit` outcomes across a restart, compacts its journal, and skips a line cut short", () => {
    const file = join(mkdtempSync(join(tmpdir(), "ledger-")), "command-ledger.jsonl");
    const ledger = new CommandLedger(file, 3);
    for (let index = 1; index <= 7; index += 1) ledger.record(`c-${index}`, { kind: "responses", payload: { commandId: `c-${index}` } });
    expect(readFileSync(file, "utf8").trim().split("\n").length).toBeLessThanOrEqual(6);
    appendFileSync(file, '["c-8", {"kind":"respo'); // a crash mid-write
    const reloaded = new CommandLedger(file, 3);
    expect(["c-4", "c-5", "c-6", "c-7", "c-8"].map((id) => reloaded.get(id) !== undefined)).toEqual([false, true, true, true, false]);
  });
});
