import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
