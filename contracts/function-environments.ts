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

/**
 * What each function is configured with, by meaning rather than by variable name. A stack turns
 * settings into the Lambda's environment (`…Environment(settings)`), the function's entry turns its
 * parsed environment back into settings (`…Settings(environment)`), and the local platform hands
 * settings straight to the handler factory: the variable names live only in this file.
 */
export interface DevicePresenceSettings {
  readonly deviceTable: string;
  readonly alertsTopicArn: string;
  readonly presenceCheckQueueUrl: string;
  readonly offlineGraceSeconds: number;
}

export const devicePresenceVariables = (settings: DevicePresenceSettings): DevicePresenceEnvironment => ({
  DEVICE_TABLE: settings.deviceTable,
  ALERTS_TOPIC_ARN: settings.alertsTopicArn,
  PRESENCE_CHECK_QUEUE_URL: settings.presenceCheckQueueUrl,
  OFFLINE_GRACE_SECONDS: String(settings.offlineGraceSeconds),
});

export const devicePresenceSettings = (environment: z.output<typeof devicePresenceEnvironment>): DevicePresenceSettings => ({
  deviceTable: environment.DEVICE_TABLE,
  alertsTopicArn: environment.ALERTS_TOPIC_ARN,
  presenceCheckQueueUrl: environment.PRESENCE_CHECK_QUEUE_URL,
  offlineGraceSeconds: Number(environment.OFFLINE_GRACE_SECONDS),
});

export interface DailyCheckSettings {
  readonly deviceTable: string;
  readonly alertsTopicArn: string;
  /** Send the summary even when every device is healthy. */
  readonly dailyDigest: boolean;
}

export const dailyCheckVariables = (settings: DailyCheckSettings): DailyCheckEnvironment => ({
  DEVICE_TABLE: settings.deviceTable,
  ALERTS_TOPIC_ARN: settings.alertsTopicArn,
  DAILY_DIGEST: settings.dailyDigest ? "true" : "false",
});

export const dailyCheckSettings = (environment: z.output<typeof dailyCheckEnvironment>): DailyCheckSettings => ({
  deviceTable: environment.DEVICE_TABLE,
  alertsTopicArn: environment.ALERTS_TOPIC_ARN,
  dailyDigest: environment.DAILY_DIGEST === "true",
});

export interface AlertFormatterSettings {
  readonly slackWebhookSecretId: string;
}

export const alertFormatterVariables = (settings: AlertFormatterSettings): AlertFormatterEnvironment => ({ SLACK_WEBHOOK_SECRET_ID: settings.slackWebhookSecretId });

export const alertFormatterSettings = (environment: z.output<typeof alertFormatterEnvironment>): AlertFormatterSettings => ({
  slackWebhookSecretId: environment.SLACK_WEBHOOK_SECRET_ID,
});

export interface ProvisioningHookSettings {
  readonly serialTable: string;
  /** Claim certificate id → batch, for the batches the config lists as active. */
  readonly activeClaimCertificates: ReadonlyMap<string, string>;
  /** `<project>-<env>`; thing names are `<prefix>-<serial>`. */
  readonly thingNamePrefix: string;
  /** @default STRANDED_PROVISIONING_SECONDS */
  readonly strandedAfterSeconds?: number;
}

/**
 * The hook's environment. `activeClaimCertificates` is a JSON string here because a stack only
 * knows the certificate ids as Terraform references (it passes `Fn.jsonencode(...)`).
 */
export const provisioningHookVariables = (settings: Omit<ProvisioningHookSettings, "activeClaimCertificates"> & { readonly activeClaimCertificatesJson: string }): ProvisioningHookEnvironment => ({
  SERIAL_TABLE: settings.serialTable,
  ACTIVE_CLAIM_CERTIFICATES: settings.activeClaimCertificatesJson,
  THING_NAME_PREFIX: settings.thingNamePrefix,
  ...(settings.strandedAfterSeconds === undefined ? {} : { STRANDED_AFTER_SECONDS: String(settings.strandedAfterSeconds) }),
});

export const provisioningHookSettings = (environment: z.output<typeof provisioningHookEnvironment>): Required<ProvisioningHookSettings> => ({
  serialTable: environment.SERIAL_TABLE,
  activeClaimCertificates: environment.ACTIVE_CLAIM_CERTIFICATES,
  thingNamePrefix: environment.THING_NAME_PREFIX,
  strandedAfterSeconds: Number(environment.STRANDED_AFTER_SECONDS),
});

export interface SerialApiSettings {
  readonly serialTable: string;
}

export const serialApiVariables = (settings: SerialApiSettings): SerialApiEnvironment => ({ SERIAL_TABLE: settings.serialTable });

export const serialApiSettings = (environment: z.output<typeof serialApiEnvironment>): SerialApiSettings => ({ serialTable: environment.SERIAL_TABLE });
