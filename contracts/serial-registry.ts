import * as z from "zod/mini";
import { SERIAL_PATTERN } from "./devices";

/**
 * The serial registry: which serials may become devices. CI registers serials through the serial
 * API; the pre-provisioning hook lets a registered serial provision once.
 *
 *   registered ──(hook allows a device)──▶ provisioned ──(operator: reset)──▶ registered
 *        └──────────────(operator: revoke)──────────────▶ revoked (final)
 */
export const SERIAL_STATUSES = ["registered", "provisioned", "revoked"] as const;
export type SerialStatus = (typeof SERIAL_STATUSES)[number];

/** The table's partition key. */
export const SERIAL_TABLE_KEY = "serial";

export interface SerialRecord {
  serial: string;
  status: SerialStatus;
  /** Manufacturing batch the serial was registered under, when CI gave one. */
  batch?: string;
  registeredAt: string;
  updatedAt: string;
  provisionedAt?: string;
  revokedAt?: string;
  /** Thing and certificate the device got when it provisioned. */
  thingName?: string;
  certificateId?: string;
  /** Claim certificate (batch) the device provisioned with. */
  claimCertificateId?: string;
}

export const serialSchema = z.string().check(z.regex(SERIAL_PATTERN, `must match ${SERIAL_PATTERN.source}`));

/** A manufacturing batch name, e.g. `2026-11-a`. */
export const BATCH_PATTERN = /^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$/;

export const MAX_SERIALS_PER_REQUEST = 100;

/**
 * `POST /serials`. API Gateway validates bodies with this schema (as a JSON-schema model) before
 * the function runs, and the function validates again with the same schema.
 */
export const registerSerialsRequestSchema = z.strictObject({
  serials: z.array(serialSchema).check(z.minLength(1), z.maxLength(MAX_SERIALS_PER_REQUEST)),
  batch: z.optional(z.string().check(z.regex(BATCH_PATTERN, `must match ${BATCH_PATTERN.source}`))),
});

export type RegisterSerialsRequest = z.infer<typeof registerSerialsRequestSchema>;

/** The JSON-schema (draft-04, as API Gateway models take) of `POST /serials`. */
export function registerSerialsRequestJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(registerSerialsRequestSchema, { target: "draft-4" }) as Record<string, unknown>;
}

/** What `POST /serials` answers for each serial. */
export interface SerialRegistration {
  serial: string;
  status: SerialStatus;
  /** False when the serial was already in the registry (re-posting is not an error). */
  created: boolean;
}
