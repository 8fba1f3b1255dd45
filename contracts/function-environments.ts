import * as z from "zod/mini";
import { activeClaimCertificatesJsonSchema, STRANDED_PROVISIONING_SECONDS } from "./serial-registry";

/**
 * The environment each Lambda reads. The stack that deploys a function types its environment with
 * these, and the function parses its environment with the same schema at cold start.
 */
const arn = z.string().check(z.regex(/^arn:/, "must be an ARN"));
const nonEmpty = z.string().check(z.minLength(1));

export const devicePresenceEnvironment = z.object({
  DEVICE_TABLE: nonEmpty,
  ALERTS_TOPIC_ARN: arn,
  PRESENCE_CHECK_QUEUE_URL: z.url(),
  /** A device still offline this long after a disconnect raises one alert (SQS delays cap it at 900). */
  OFFLINE_GRACE_SECONDS: z.string().check(z.regex(/^([0-9]|[1-9][0-9]|[1-8][0-9]{2}|900)$/, "must be whole seconds from 0 to 900")),
});

export const dailyCheckEnvironment = z.object({
  DEVICE_TABLE: nonEmpty,
  ALERTS_TOPIC_ARN: arn,
  /** "true": send the summary even when every device is healthy. */
  DAILY_DIGEST: z._default(z.literal(["true", "false"]), "false"),
});

export const alertFormatterEnvironment = z.object({
  SLACK_WEBHOOK_SECRET_ID: nonEmpty,
});

export type DevicePresenceEnvironment = z.input<typeof devicePresenceEnvironment>;
export type DailyCheckEnvironment = z.input<typeof dailyCheckEnvironment>;
export type AlertFormatterEnvironment = z.input<typeof alertFormatterEnvironment>;

export const provisioningHookEnvironment = z.object({
  SERIAL_TABLE: nonEmpty,
  /** JSON: `[{ "batch": "2026-11-a", "certificateId": "…" }]`, the claim certificates of active batches (parsed to id → batch). */
  ACTIVE_CLAIM_CERTIFICATES: activeClaimCertificatesJsonSchema,
  /** `<project>-<env>`; a device's thing name is `<prefix>-<serial>`. */
  THING_NAME_PREFIX: nonEmpty,
  /** Seconds after which a `provisioned` serial with no thing counts as stranded (STRANDED_PROVISIONING_SECONDS). */
  STRANDED_AFTER_SECONDS: z._default(z.string().check(z.regex(/^[1-9][0-9]*$/, "must be whole seconds above 0")), String(STRANDED_PROVISIONING_SECONDS)),
});

export const serialApiEnvironment = z.object({
  SERIAL_TABLE: nonEmpty,
});

export type ProvisioningHookEnvironment = z.input<typeof provisioningHookEnvironment>;
export type SerialApiEnvironment = z.input<typeof serialApiEnvironment>;
