import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod/mini";
import { writeFileAtomically } from "../files";

/**
 * What the agent remembers about update jobs across restarts, in `<stateDirectory>/updates.json`
 * (written atomically: a power cut leaves the old or the new file, never half of one).
 *
 * - `switch`: a job switched `current` to a new version and restarted; the next start finishes it
 *   (SUCCEEDED once the new version connects; FAILED from the previous version after a rollback).
 * - `outcomes`: the terminal status each recent job got, so a job delivered again after a restart
 *   (IoT keeps an IN_PROGRESS execution until the device reports) is answered, never run twice.
 */
export const TERMINAL_OUTCOMES = ["SUCCEEDED", "FAILED", "REJECTED"] as const;
export type TerminalOutcome = (typeof TERMINAL_OUTCOMES)[number];

const switchSchema = z.strictObject({
  jobId: z.string(),
  version: z.string(),
  previousVersion: z.string(),
  /** Epoch ms of the switch: the connect deadline counts from here, across crash-restarts of the new version. */
  switchedAt: z.number(),
  /** Set by the new version when it switched back; the previous version reports it as the FAILED reason. */
  rollbackReason: z.optional(z.string()),
});
export type PendingSwitch = z.infer<typeof switchSchema>;

const outcomeSchema = z.strictObject({ jobId: z.string(), status: z.enum(TERMINAL_OUTCOMES), reason: z.string() });
export type JobOutcome = z.infer<typeof outcomeSchema>;

const stateSchema = z.strictObject({
  switch: z.optional(switchSchema),
  outcomes: z.array(outcomeSchema),
});
type UpdateStateFile = z.infer<typeof stateSchema>;

/** Outcomes remembered; IoT runs one job per device at a time, so a handful is plenty. */
const OUTCOMES_KEPT = 50;

export class UpdateStateStore {
  private readonly path: string;

  constructor(stateDirectory: string) {
    this.path = join(stateDirectory, "updates.json");
  }

  private read(): UpdateStateFile {
    if (!existsSync(this.path)) return { outcomes: [] };
    const parsed = stateSchema.safeParse(JSON.parse(readFileSync(this.path, "utf8")));
    if (!parsed.success) throw new Error(`${this.path} is not an update state file: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
    return parsed.data;
  }

  private write(state: UpdateStateFile): void {
    writeFileAtomically(this.path, `${JSON.stringify(state)}\n`);
  }

  pendingSwitch(): PendingSwitch | undefined {
    return this.read().switch;
  }

  recordSwitch(pending: PendingSwitch): void {
    this.write({ ...this.read(), switch: pending });
  }

  recordRollback(reason: string): void {
    const state = this.read();
    if (!state.switch) throw new Error("no switch to roll back");
    this.write({ ...state, switch: { ...state.switch, rollbackReason: reason } });
  }

  outcome(jobId: string): JobOutcome | undefined {
    return this.read().outcomes.find((outcome) => outcome.jobId === jobId);
  }

  /** Records a job's terminal outcome and ends the switch it belonged to, in one write. */
  recordOutcome(outcome: JobOutcome): void {
    const state = this.read();
    const outcomes = [...state.outcomes.filter((kept) => kept.jobId !== outcome.jobId), outcome].slice(-OUTCOMES_KEPT);
    this.write({ outcomes, switch: state.switch?.jobId === outcome.jobId ? undefined : state.switch });
  }
}
