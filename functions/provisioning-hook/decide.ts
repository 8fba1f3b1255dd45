import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Logger } from "@aws-lambda-powertools/logger";
import * as z from "zod/mini";
import { deviceThingName, SERIAL_PATTERN } from "../../contracts/devices";
import type { SerialRecord } from "../../contracts/serial-registry";
import { unlessConditionFails } from "../shared/runtime";

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
  documents: DynamoDBDocumentClient;
  serialTable: string;
  /** Claim certificate id → batch, for the batches config lists as active. */
  activeClaimCertificates: ReadonlyMap<string, string>;
  /** `<project>-<env>`: thing names are `<prefix>-<serial>`. */
  thingNamePrefix: string;
  logger: Logger;
  now(): Date;
}

const DENY: HookAnswer = { allowProvisioning: false, parameterOverrides: {} };

/**
 * Allows a device to provision only with an active batch's claim certificate and a serial that is
 * `registered`; the same conditional write that allows it moves the serial to `provisioned`, so of
 * two devices racing with one serial exactly one is allowed.
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
  const serial = event.parameters.SerialNumber;
  if (!serial || !SERIAL_PATTERN.test(serial)) {
    deps.logger.warn("denied: SerialNumber missing or malformed", { claimCertificateId: event.claimCertificateId });
    return DENY;
  }
  const now = deps.now().toISOString();
  const thingName = deviceThingName(deps.thingNamePrefix, serial);
  const provisioned = await unlessConditionFails(() =>
    deps.documents.send(
      new UpdateCommand({
        TableName: deps.serialTable,
        Key: { serial },
        UpdateExpression:
          "SET #status = :provisioned, provisionedAt = :now, updatedAt = :now, thingName = :thing, certificateId = :certificate, claimCertificateId = :claim",
        ConditionExpression: "#status = :registered",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: {
          ":provisioned": "provisioned",
          ":registered": "registered",
          ":now": now,
          ":thing": thingName,
          ":certificate": event.certificateId,
          ":claim": event.claimCertificateId,
        },
      }),
    ),
  );
  if (!provisioned) {
    const { Item } = await deps.documents.send(new GetCommand({ TableName: deps.serialTable, Key: { serial } }));
    const status = (Item as SerialRecord | undefined)?.status ?? "unknown";
    deps.logger.warn(`denied: serial is ${status}${status === "provisioned" ? " (an operator must reset it first)" : ""}`, { serial, batch });
    return DENY;
  }
  deps.logger.info("allowed: serial provisioned", { serial, thingName, batch, certificateId: event.certificateId });
  return { allowProvisioning: true, parameterOverrides: {} };
}
