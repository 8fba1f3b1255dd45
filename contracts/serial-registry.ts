import * as z from "zod/mini";
import { canonicalSerial, SERIAL_PATTERN, SERIAL_PATTERN_ANY_CASE } from "./devices";

/**
 * The serial registry: which serials may become devices. CI registers serials through the serial
 * API; the pre-provisioning hook lets a registered serial provision once.
 *
 *   registered ──(hook allows a device)──▶ provisioned ──(operator: reset)──▶ registered
 *                                          provisioned, no thing after STRANDED_PROVISIONING_SECONDS
 *                                               ──(hook allows the device again)──▶ provisioned
 *        └──────────────(operator: revoke)──────────────▶ revoked (final)
 */
export const SERIAL_STATUSES = ["registered", "provisioned", "revoked"] as const;
export type SerialStatus = (typeof SERIAL_STATUSES)[number];

/**
 * A serial `provisioned` this long with no thing in the registry was stranded: the hook allowed it,
 * then RegisterThing failed (which takes seconds, not minutes). The hook then lets the device
 * provision again, and an operator can reset it.
 */
export const STRANDED_PROVISIONING_SECONDS = 600;

/** The table's partition key. */
export const SERIAL_TABLE_KEY = "serial";

const timestamp = z.iso.datetime();
const nonEmpty = z.string().check(z.minLength(1));

/**
 * An item of the serial table, parsed wherever one is read (functions/shared/serial-table.ts is the
 * only code that reads or writes the table).
 */
export const serialRecordSchema = z.object({
  serial: z.string().check(z.regex(SERIAL_PATTERN, `must match ${SERIAL_PATTERN.source}`)),
  status: z.enum(SERIAL_STATUSES),
  /** Manufacturing batch the serial was registered under, when CI gave one. */
  batch: z.optional(nonEmpty),
  registeredAt: timestamp,
  updatedAt: timestamp,
  provisionedAt: z.optional(timestamp),
  revokedAt: z.optional(timestamp),
  /** Thing and certificate the device got when it provisioned. */
  thingName: z.optional(nonEmpty),
  certificateId: z.optional(nonEmpty),
  /** Claim certificate (batch) the device provisioned with. */
  claimCertificateId: z.optional(nonEmpty),
});

export type SerialRecord = z.infer<typeof serialRecordSchema>;

/** One claim certificate of an active batch: the provisioning hook allows only these. */
export const activeClaimCertificateSchema = z.object({ batch: nonEmpty, certificateId: nonEmpty });

/**
 * The provisioning hook's list of active claim certificates, as JSON text (its environment), parsed
 * to claim certificate id → batch.
 */
export const activeClaimCertificatesJsonSchema = z.pipe(
  z.pipe(
    z.string(),
    z.transform((text: string, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.issues.push({ code: "custom", input: text, message: "must be JSON: [{\"batch\": …, \"certificateId\": …}]" });
        return z.NEVER;
      }
    }),
  ),
  z.pipe(
    z.array(activeClaimCertificateSchema),
    z.transform((claims) => new Map(claims.map(({ batch, certificateId }) => [certificateId, batch]))),
  ),
);

/**
 * A serial in any case (a Raspberry Pi reports lowercase hex), parsed to its canonical uppercase
 * form: the registry, the hook and the thing name only ever see that.
 */
export const serialSchema = z.pipe(
  z.string().check(z.regex(SERIAL_PATTERN_ANY_CASE, `must match ${SERIAL_PATTERN_ANY_CASE.source} (any case)`)),
  z.transform((serial: string) => canonicalSerial(serial)),
);

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
  // The input side: API Gateway checks what CI sends, before the function makes it canonical.
  return z.toJSONSchema(registerSerialsRequestSchema, { target: "draft-4", io: "input" }) as Record<string, unknown>;
}

/** What `POST /serials` answers for each serial. */
export interface SerialRegistration {
  serial: string;
  status: SerialStatus;
  /** False when the serial was already in the registry (re-posting is not an error). */
  created: boolean;
}
