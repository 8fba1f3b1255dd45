import * as z from "zod/mini";
import { readFileSync } from "node:fs";
import { isReleasePublicKeyBase64, RELEASE_PUBLIC_KEY_FORMAT } from "../contracts/agent-release";

/**
 * The agent's one config file (JSON, default /etc/smart-home-agent/config.json). Everything a Pi of
 * one batch shares is here; what is the Pi's own (serial, certificate, thing name) is found or
 * created at run time and kept in the state directory.
 */
const path = z.string().check(z.minLength(1));
const releasePublicKey = z.string().check(z.refine(isReleasePublicKeyBase64, RELEASE_PUBLIC_KEY_FORMAT));
const outputName = z.string().check(z.regex(/^[a-z][a-z0-9_-]*$/, "must be a lowercase output name, e.g. relay-1"));

export const agentConfigSchema = z.strictObject({
  /** AWS IoT Core data endpoint (`aws iot describe-endpoint --endpoint-type iot:Data-ATS`). */
  endpoint: z.string().check(z.minLength(1)),
  /** @default 8883 (MQTT over TLS) */
  port: z._default(z.int().check(z.minimum(1), z.maximum(65535)), 8883),
  /** CA the endpoint's server certificate chains to (Amazon Root CA 1 for IoT Core). */
  caPath: path,
  /** The batch claim certificate and key; deleted after the device has its own identity. */
  claim: z.strictObject({ certificatePath: path, privateKeyPath: path }),
  /** Project and environment (config/environments): the provisioning template name and the claim client id come from contracts/names.ts. */
  project: z.string().check(z.regex(/^[a-z][a-z0-9-]*$/, "must be the project name, e.g. smarthome")),
  environment: z.string().check(z.regex(/^[a-z][a-z0-9-]*$/, "must be the environment name, e.g. dev")),
  /** Serial number; @default the Pi's own, from /proc/device-tree/serial-number */
  serial: z.optional(z.string()),
  /** Where the certificate, key, thing name, outbox and command ledger live (systemd StateDirectory). @default /var/lib/smart-home-agent */
  stateDirectory: z._default(path, "/var/lib/smart-home-agent"),
  /** @default 60 - MQTT keep-alive; IoT Core allows 30 to 1200 seconds. */
  keepAliveSeconds: z._default(z.int().check(z.minimum(30), z.maximum(1200)), 60),
  /** A handler that runs longer is answered with COMMAND_TIMEOUT. @default 10000 */
  commandTimeoutMs: z._default(z.int().check(z.minimum(1), z.maximum(300_000)), 10_000),
  /** Responses and errors kept while offline; the oldest is dropped (and counted) beyond this. @default 1000 */
  outboxLimit: z._default(z.int().check(z.minimum(1), z.maximum(100_000)), 1000),
  /** Command ids remembered so a repeated command gets its first result again. @default 500 */
  ledgerLimit: z._default(z.int().check(z.minimum(1), z.maximum(100_000)), 500),
  /** Backoff of provisioning and connecting: full jitter between 0 and min(max, initial * 2^attempt). */
  backoff: z._default(
    z.strictObject({
      initialMs: z._default(z.int().check(z.minimum(1)), 1000),
      maxMs: z._default(z.int().check(z.minimum(1)), 300_000),
    }),
    { initialMs: 1000, maxMs: 300_000 },
  ),
  /**
   * Over-the-air updates through IoT Jobs (docs/pi.md "Updates"). Without `publicKey` the agent
   * REJECTS every update job: it never runs a release it cannot verify.
   */
  release: z._default(
    z.strictObject({
      /** The Ed25519 release public key (contracts/agent-release.ts `releasePublicKeyToBase64`). @default none: updates are rejected */
      publicKey: z.optional(releasePublicKey),
      /** Holds `releases/<version>/` and the `current` link the unit starts (ReadWritePaths= in the unit). @default /opt/smart-home-agent */
      directory: z._default(path, "/opt/smart-home-agent"),
      /** A download larger than this is abandoned (the arm64 release is ~30 MB). @default 157286400 (150 MiB) */
      maxDownloadBytes: z._default(z.int().check(z.minimum(1)), 150 * 1024 * 1024),
      /** The whole download must finish within this. @default 600000 (10 minutes, a slow link) */
      downloadTimeoutMs: z._default(z.int().check(z.minimum(1000)), 600_000),
      /** A version just switched to must connect within this, or the agent switches back. @default 120 */
      connectDeadlineSeconds: z._default(z.int().check(z.minimum(1), z.maximum(3600)), 120),
    }),
    { directory: "/opt/smart-home-agent", maxDownloadBytes: 150 * 1024 * 1024, downloadTimeoutMs: 600_000, connectDeadlineSeconds: 120 },
  ),
  /** GPIO outputs `set-output` may switch. */
  gpio: z._default(
    z.strictObject({
      /** `libgpiod`: gpioset of libgpiod's tools (on a Pi); `simulated`: in memory (anywhere else). @default simulated */
      backend: z._default(z.enum(["libgpiod", "simulated"]), "simulated"),
      /** @default gpiochip0 (the 40-pin header on Pi 3, 4, 5 and Zero 2 W with current kernels) */
      chip: z._default(z.string().check(z.regex(/^gpiochip[0-9]+$/, "must be gpiochip<N>")), "gpiochip0"),
      /** Output name → line offset on the chip (the BCM GPIO number on the 40-pin header). */
      outputs: z._default(z.record(outputName, z.int().check(z.minimum(0), z.maximum(511))), {}),
    }),
    { backend: "simulated", chip: "gpiochip0", outputs: {} },
  ),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type AgentConfigInput = z.input<typeof agentConfigSchema>;

export class ConfigError extends Error {}

// zod/mini ships without messages ("Invalid input"); a person fixing a config on a Pi needs them.
z.config(z.locales.en());

/** Parses a config object; throws a ConfigError whose message is one line naming every problem. */
export function parseAgentConfig(input: unknown, source = "config"): AgentConfig {
  const parsed = agentConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
  throw new ConfigError(`${source} is invalid: ${problems.join("; ")}`);
}

export function loadAgentConfig(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file} is not JSON: ${(error as Error).message}`);
  }
  return parseAgentConfig(json, file);
}
