import {
  DeleteThingCommand,
  DetachThingPrincipalCommand,
  ListThingPrincipalsCommand,
  ResourceNotFoundException,
  UpdateCertificateCommand,
  type IoTClient,
} from "@aws-sdk/client-iot";
import type { RegisterSerialsRequest, SerialRecord, SerialRegistration } from "../../contracts/serial-registry";
import type { SerialTable } from "../shared/serial-table";

export interface RegistryDependencies {
  table: SerialTable;
  iot: IoTClient;
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
  const now = deps.now();
  const unique = [...new Set(request.serials)];
  const results: SerialRegistration[] = [];
  // A few at a time: up to 100 serials, without a burst DynamoDB would throttle.
  for (let start = 0; start < unique.length; start += 10) {
    results.push(...(await Promise.all(unique.slice(start, start + 10).map((serial) => registerOne(serial, request.batch, now, deps)))));
  }
  return results;
}

async function registerOne(serial: string, batch: string | undefined, now: Date, deps: RegistryDependencies): Promise<SerialRegistration> {
  if (await deps.table.register(serial, batch, now)) return { serial, status: "registered", created: true };
  const existing = await deps.table.get(serial);
  return { serial, status: existing?.status ?? "registered", created: false };
}

export async function getSerial(serial: string, deps: RegistryDependencies): Promise<SerialRecord> {
  const record = await deps.table.get(serial);
  if (!record) throw new RegistryError(404, `serial ${serial} is not registered`);
  return record;
}

/**
 * provisioned → registered, so the device can provision again: its certificates are deactivated
 * and detached, and its thing deleted (the template never takes over an existing thing). The AWS
 * side goes first, so a failed reset can simply be retried.
 */
export async function resetSerial(serial: string, deps: RegistryDependencies): Promise<SerialRecord> {
  const record = await getSerial(serial, deps);
  if (record.status !== "provisioned") {
    throw new RegistryError(409, `serial ${serial} is ${record.status}; only a provisioned serial can be reset`);
  }
  const certificates = await deviceCertificates(record, deps);
  for (const certificateId of certificates) await setCertificateStatus(certificateId, "INACTIVE", deps);
  if (record.thingName) await deleteThing(record.thingName, deps);
  return changed(serial, "reset", await deps.table.reset(serial, deps.now()));
}

/** Any status → revoked (final): the device's certificates are revoked. Revoking twice is fine. */
export async function revokeSerial(serial: string, deps: RegistryDependencies): Promise<SerialRecord> {
  const record = await getSerial(serial, deps);
  if (record.status === "revoked") return record;
  for (const certificateId of await deviceCertificates(record, deps)) await setCertificateStatus(certificateId, "REVOKED", deps);
  return changed(serial, "revocation", await deps.table.revoke(serial, record.status, deps.now()));
}

/** The record a conditional change wrote; 409 when the serial moved on in between. */
function changed(serial: string, change: string, record: SerialRecord | undefined): SerialRecord {
  if (!record) throw new RegistryError(409, `serial ${serial} changed during the ${change}; read it and try again`);
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
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
}

async function thingPrincipals(thingName: string, deps: RegistryDependencies): Promise<string[]> {
  try {
    return (await deps.iot.send(new ListThingPrincipalsCommand({ thingName }))).principals ?? [];
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return [];
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
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
}
