import type { Logger } from "@aws-lambda-powertools/logger";
import * as z from "zod/mini";
import { canonicalSerial, deviceThingName } from "../../contracts/devices";
import { SERIAL_NUMBER_PARAMETER, THING_NAME_PARAMETER } from "../../contracts/provisioning-template";
import type { SerialRecord } from "../../contracts/serial-registry";
import type { SerialTable } from "../shared/serial-table";

/** The pre-provisioning hook's input, as AWS IoT documents it. */
export const preProvisioningEventSchema = z.object({
  claimCertificateId: z.string().check(z.minLength(1)),
  certificateId: z.string().check(z.minLength(1)),
  certificatePem: z.string(),
  templateArn: z.string().check(z.startsWith("arn:")),
  clientId: z.string(),
  parameters: z.record(z.string(), z.string()),
});

export type PreProvisioningEvent = z.infer<typeof preProvisioningEventSchema>;

export interface HookAnswer {
  allowProvisioning: boolean;
  parameterOverrides: Record<string, string>;
}

export interface HookDependencies {
  table: SerialTable;
  /** Claim certificate id → batch, for the batches config lists as active. */
  activeClaimCertificates: ReadonlyMap<string, string>;
  /** `<project>-<env>`: thing names are `<prefix>-<serial>`. */
  thingNamePrefix: string;
  logger: Logger;
  now(): Date;
  /** Whether a thing exists in the IoT registry (DescribeThing). */
  thingExists(thingName: string): Promise<boolean>;
  /** A serial `provisioned` longer than this with no thing is stranded and may provision again. */
  strandedAfterMs: number;
}

const DENY: HookAnswer = { allowProvisioning: false, parameterOverrides: {} };

/** `provisioned` for longer than the grace period, and its thing is not in the registry. */
async function stranded(existing: SerialRecord, deps: HookDependencies): Promise<boolean> {
  if (existing.status !== "provisioned" || !existing.provisionedAt) return false;
  if (deps.now().getTime() - Date.parse(existing.provisionedAt) < deps.strandedAfterMs) return false;
  return !(await deps.thingExists(existing.thingName ?? deviceThingName(deps.thingNamePrefix, existing.serial)));
}

/**
 * Allows a device to provision only with an active batch's claim certificate and a serial that is
 * `registered`; the same conditional write that allows it moves the serial to `provisioned`, so of
 * two devices racing with one serial exactly one is allowed. A serial stranded in `provisioned`
 * (no thing after STRANDED_PROVISIONING_SECONDS) is allowed again the same way.
 */
export async function decide(input: unknown, deps: HookDependencies): Promise<HookAnswer> {
  const parsed = preProvisioningEventSchema.safeParse(input);
  if (!parsed.success) {
    deps.logger.warn("denied: malformed pre-provisioning event", { issues: parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`) });
    return DENY;
  }
  const event = parsed.data;
  const batch = deps.activeClaimCertificates.get(event.claimCertificateId);
  if (!batch) {
    deps.logger.warn("denied: claim certificate is not an active batch's", { claimCertificateId: event.claimCertificateId });
    return DENY;
  }
  let serial: string;
  try {
    serial = canonicalSerial(event.parameters[SERIAL_NUMBER_PARAMETER] ?? "");
  } catch {
    deps.logger.warn("denied: SerialNumber missing or malformed", { claimCertificateId: event.claimCertificateId });
    return DENY;
  }
  const now = deps.now();
  const thingName = deviceThingName(deps.thingNamePrefix, serial);
  const device = { thingName, certificateId: event.certificateId, claimCertificateId: event.claimCertificateId };
  if (!(await deps.table.markProvisioned(serial, device, now, { status: "registered" }))) {
    const existing = await deps.table.get(serial);
    const status = existing?.status ?? "unknown";
    if (existing?.provisionedAt && (await stranded(existing, deps))) {
      // Only the attempt that still sees the same provisionedAt wins, so two retrying devices never both do.
      if (await deps.table.markProvisioned(serial, device, now, { strandedSince: existing.provisionedAt })) {
        deps.logger.warn("allowed again: serial was provisioned but has no thing (RegisterThing failed after the hook allowed it)", {
          serial,
          thingName,
          batch,
          strandedSince: existing.provisionedAt,
        });
        return allow(serial, thingName);
      }
    }
    deps.logger.warn(`denied: serial is ${status}${status === "provisioned" ? " (an operator must reset it first)" : ""}`, { serial, batch });
    return DENY;
  }
  deps.logger.info("allowed: serial provisioned", { serial, thingName, batch, certificateId: event.certificateId });
  return allow(serial, thingName);
}

/**
 * IoT adds the overrides to RegisterThing's parameters ("parameterOverrides values will be added to
 * parameters parameter of the RegisterThing request payload", AWS IoT developer guide,
 * "Pre-provisioning hooks"), so the template takes the thing name the hook derived and the canonical
 * serial, whatever the device sent: deviceThingName() is the only place a thing name is made.
 */
function allow(serial: string, thingName: string): HookAnswer {
  return { allowProvisioning: true, parameterOverrides: { [SERIAL_NUMBER_PARAMETER]: serial, [THING_NAME_PARAMETER]: thingName } };
}
