/**
 * The command line of `npm run release:agent`, parsed and checked before anything else runs.
 * Ranges are CreateJob's (AWS IoT API reference: JobExecutionsRolloutConfig, AbortCriteria,
 * TimeoutConfig): a value AWS would refuse fails here, with the flag's name.
 */
import { parseArgs } from "node:util";
import { agentVersionSchema } from "../../contracts/agent-release";

export class UsageError extends Error {}

/** `--target all`: the environment's device thing group, which every provisioned device joins. */
export const ALL_DEVICES_TARGET = "all";

export interface ReleaseOptions {
  readonly version: string;
  /** Thing group or thing names, or ALL_DEVICES_TARGET. */
  readonly targets: readonly string[];
  /** @default dist/<agentReleaseFileName(version)> (what npm run build:agent writes) */
  readonly tarball?: string;
  /** Secrets Manager secret id holding the PKCS#8 PEM key; without it, AGENT_RELEASE_SIGNING_KEY. */
  readonly signingKeySecret?: string;
  /** Devices notified per minute (jobExecutionsRolloutConfig.maximumPerMinute). @default 10 */
  readonly rolloutPerMinute: number;
  /** Cancel the job when this percentage of executed devices FAILED, REJECTED or TIMED_OUT (each). @default 10 */
  readonly abortFailedPercent: number;
  /** … once at least this many devices have finished. @default 10 */
  readonly abortMinExecuted: number;
  /** A device that stays IN_PROGRESS this long is TIMED_OUT (timeoutConfig). @default 60 */
  readonly timeoutMinutes: number;
  /** Makes the job id unique per release attempt (CI: run id and attempt). @default a UTC timestamp */
  readonly attempt: string;
  /** Check everything and print the job, but upload and create nothing. */
  readonly dryRun: boolean;
}

export const USAGE = `usage: npm run release:agent -- --version <v> --target <thing-group|thing[,thing…]|${ALL_DEVICES_TARGET}>
  [--tarball <file>] [--signing-key-secret <secret id>] [--rollout-per-minute N]
  [--abort-failed-percent P --abort-min-executed N] [--timeout-minutes N] [--attempt <id>] [--dry-run]
The Ed25519 signing key (PKCS#8 PEM) comes from AGENT_RELEASE_SIGNING_KEY or --signing-key-secret, never from the command line.`;

function integer(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, not "${raw}"`);
  return value;
}

export function parseReleaseOptions(argv: readonly string[], now: Date = new Date()): ReleaseOptions {
  // A key pasted into the command line ends up in shell history and process lists: refuse it.
  if (argv.some((arg) => arg.includes("PRIVATE KEY"))) {
    throw new UsageError("a private key was passed on the command line; put it in AGENT_RELEASE_SIGNING_KEY or a secret (--signing-key-secret)");
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        version: { type: "string" },
        target: { type: "string" },
        tarball: { type: "string" },
        "signing-key-secret": { type: "string" },
        "rollout-per-minute": { type: "string" },
        "abort-failed-percent": { type: "string" },
        "abort-min-executed": { type: "string" },
        "timeout-minutes": { type: "string" },
        attempt: { type: "string" },
        "dry-run": { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (!values.version) throw new UsageError(`--version is required\n${USAGE}`);
  if (!agentVersionSchema.safeParse(values.version).success) throw new UsageError(`--version must be a version like 1.4.0 (no leading v), not "${values.version}"`);
  const targets = (values.target ?? "").split(",").map((target) => target.trim()).filter(Boolean);
  if (targets.length === 0) throw new UsageError(`--target is required: a thing group, things separated by commas, or "${ALL_DEVICES_TARGET}"\n${USAGE}`);
  const badTarget = targets.find((target) => !/^[a-zA-Z0-9:_-]{1,128}$/.test(target));
  if (badTarget !== undefined) throw new UsageError(`--target "${badTarget}" is not a thing or thing group name ([a-zA-Z0-9:_-], 128 characters)`);
  // CreateJob takes at most 100 targets (AssociateTargetsWithJob's cap); a bigger set is a group.
  if (targets.length > 100) throw new UsageError(`--target names ${targets.length} things; a job takes at most 100, use a thing group`);

  const abortPercentRaw = values["abort-failed-percent"];
  let abortFailedPercent = 10;
  if (abortPercentRaw !== undefined) {
    abortFailedPercent = Number(abortPercentRaw);
    // AbortCriteria.thresholdPercentage: at most 100, two decimals.
    if (!/^\d+(\.\d{1,2})?$/.test(abortPercentRaw) || abortFailedPercent <= 0 || abortFailedPercent > 100) {
      throw new UsageError(`--abort-failed-percent must be a percentage above 0 and at most 100 with up to two decimals, not "${abortPercentRaw}"`);
    }
  }
  const attempt = values.attempt ?? now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  if (!/^[a-zA-Z0-9_-]{1,40}$/.test(attempt)) throw new UsageError(`--attempt must be letters, digits, _ or - (at most 40), not "${attempt}"`);

  return {
    version: values.version,
    targets,
    tarball: values.tarball,
    signingKeySecret: values["signing-key-secret"],
    rolloutPerMinute: integer("rollout-per-minute", values["rollout-per-minute"], 10, 1, 1000),
    abortFailedPercent,
    abortMinExecuted: integer("abort-min-executed", values["abort-min-executed"], 10, 1, 1_000_000),
    timeoutMinutes: integer("timeout-minutes", values["timeout-minutes"], 60, 1, 10080),
    attempt,
    dryRun: values["dry-run"] ?? false,
  };
}
