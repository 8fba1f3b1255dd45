import { DeleteThingCommand, DetachThingPrincipalCommand, ListThingPrincipalsCommand, UpdateCertificateCommand, type IoTClient } from "@aws-sdk/client-iot";
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { RegisterSerialsRequest, SerialRecord, SerialRegistration } from "../../contracts/serial-registry";
import { unlessConditionFails } from "../shared/runtime";

export interface RegistryDependencies {
  documents: DynamoDBDocumentClient;
  iot: IoTClient;
  serialTable: string;
  now(): Date;
}

/** A request the registry refuses, with the HTTP status and a message for the caller. */
export class RegistryError extends Error {
  constructor(
    readonly statusCode: 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

/** Registers serials; one already in the registry is reported with its status, not as an error. */
export async function registerSerials(request: RegisterSerialsRequest, deps: RegistryDependencies): Promise<SerialRegistration[]> {
  const now = deps.now().toISOString();
  const unique = [...new Set(request.serials)];
  const results: SerialRegistration[] = [];
  // A few at a time: up to 100 serials, without a burst DynamoDB would throttle.
  for (let start = 0; start < unique.length; start += 10) {
    results.push(...(await Promise.all(unique.slice(start, start + 10).map((serial) => registerOne(serial, request.batch, now, deps)))));
  }
  return results;
}

async function registerOne(serial: string, batch: string | undefined, now: string, deps: RegistryDependencies): Promise<SerialRegistration> {
  const record: SerialRecord = { serial, status: "registered", registeredAt: now, updatedAt: now, ...(batch ? { batch } : {}) };
  const created = await unlessConditionFails(() =>
    deps.documents.send(new PutCommand({ TableName: deps.serialTable, Item: record, ConditionExpression: "attribute_not_exists(serial)" })),
  );
  if (created) return { serial, status: "registered", created: true };
  const existing = await getSerial(serial, deps);
  return { serial, status: existing?.status ?? "registered", created: false };
}

export async function getSerial(serial: string, deps: RegistryDependencies): Promise<SerialRecord | undefined> {
  const { Item } = await deps.documents.send(new GetCommand({ TableName: deps.serialTable, Key: { serial }, ConsistentRead: true }));
  return Item as SerialRecord | undefined;
}

/**
 * provisioned → registered, so the device can provision again: its certificates are deactivated
 * and detached, and its thing deleted (the template never takes over an existing thing). The AWS
 * side goes first, so a failed reset can simply be retried.
 */
export async function resetSerial(serial: string, deps: RegistryDependencies): Promise<SerialRecord> {
  const record = await requireSerial(serial, deps);
  if (record.status !== "provisioned") {
    throw new RegistryError(409, `serial ${serial} is ${record.status}; only a provisioned serial can be reset`);
  }
  const certificates = await deviceCertificates(record, deps);
  for (const certificateId of certificates) await setCertificateStatus(certificateId, "INACTIVE", deps);
  if (record.thingName) await deleteThing(record.thingName, deps);
  return changeStatus(serial, "reset", deps, {
    update: "SET #status = :registered, updatedAt = :now REMOVE thingName, certificateId, claimCertificateId, provisionedAt",
    values: { ":registered": "registered", ":seen": "provisioned", ":now": deps.now().toISOString() },
  });
}

/** Any status → revoked (final): the device's certificates are revoked. Revoking twice is fine. */
export async function revokeSerial(serial: string, deps: RegistryDependencies): Promise<SerialRecord> {
  const record = await requireSerial(serial, deps);
  if (record.status === "revoked") return record;
  for (const certificateId of await deviceCertificates(record, deps)) await setCertificateStatus(certificateId, "REVOKED", deps);
  return changeStatus(serial, "revocation", deps, {
    update: "SET #status = :revoked, revokedAt = :now, updatedAt = :now",
    values: { ":revoked": "revoked", ":seen": record.status, ":now": deps.now().toISOString() },
  });
}

/** Applies an update only while the serial still has the status `:seen`; 409 when it moved on. */
async function changeStatus(
  serial: string,
  change: string,
  deps: RegistryDependencies,
  { update, values }: { update: string; values: Record<string, unknown> },
): Promise<SerialRecord> {
  const result = await unlessConditionFails(() =>
    deps.documents.send(
      new UpdateCommand({
        TableName: deps.serialTable,
        Key: { serial },
        UpdateExpression: update,
        ConditionExpression: "#status = :seen",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: values,
        ReturnValues: "ALL_NEW",
      }),
    ),
  );
  if (!result) throw new RegistryError(409, `serial ${serial} changed during the ${change}; read it and try again`);
  return result.Attributes as SerialRecord;
}

async function requireSerial(serial: string, deps: RegistryDependencies): Promise<SerialRecord> {
  const record = await getSerial(serial, deps);
  if (!record) throw new RegistryError(404, `serial ${serial} is not registered`);
  return record;
}

/** The certificate the hook recorded, and any other certificate attached to the device's thing. */
async function deviceCertificates(record: SerialRecord, deps: RegistryDependencies): Promise<string[]> {
  const ids = new Set(record.certificateId ? [record.certificateId] : []);
  if (record.thingName) {
    for (const principal of await thingPrincipals(record.thingName, deps)) {
      const id = /:cert\/([0-9a-f]+)$/.exec(principal)?.[1];
      if (id) ids.add(id);
    }
  }
  return [...ids];
}

/**
 * A certificate the hook recorded may not exist: when RegisterThing failed, IoT deletes the
 * never-activated certificate once its ownership token expires (a stranded serial).
 */
async function setCertificateStatus(certificateId: string, newStatus: "INACTIVE" | "REVOKED", deps: RegistryDependencies): Promise<void> {
  try {
    await deps.iot.send(new UpdateCertificateCommand({ certificateId, newStatus }));
  } catch (error) {
    if ((error as { name?: string }).name !== "ResourceNotFoundException") throw error;
  }
}

async function thingPrincipals(thingName: string, deps: RegistryDependencies): Promise<string[]> {
  try {
    return (await deps.iot.send(new ListThingPrincipalsCommand({ thingName }))).principals ?? [];
  } catch (error) {
    if ((error as { name?: string }).name === "ResourceNotFoundException") return [];
    throw error;
  }
}

async function deleteThing(thingName: string, deps: RegistryDependencies): Promise<void> {
  for (const principal of await thingPrincipals(thingName, deps)) {
    await deps.iot.send(new DetachThingPrincipalCommand({ thingName, principal }));
  }
  try {
    await deps.iot.send(new DeleteThingCommand({ thingName }));
  } catch (error) {
    if ((error as { name?: string }).name !== "ResourceNotFoundException") throw error;
  }
}
