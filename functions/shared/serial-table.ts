import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SERIAL_TABLE_KEY, serialRecordSchema, type SerialRecord, type SerialStatus } from "../../contracts/serial-registry";
import { unlessConditionFails } from "./conditional-write";

/** What a device got when the hook let it provision. */
export interface ProvisionedDevice {
  readonly thingName: string;
  readonly certificateId: string;
  /** The claim certificate (batch) it provisioned with. */
  readonly claimCertificateId: string;
}

/** A serial table item that does not match the record schema: a bug or a hand edit, never guessed at. */
export class MalformedSerialRecord extends Error {}

/**
 * The serial table: the one place that knows its attribute names and the conditions of every
 * status change. Items are parsed with the contract's schema on every read. Each change is a
 * conditional write: undefined (or false) when the serial was not in the state the change needs,
 * so two racing writers never both win.
 */
export class SerialTable {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(serial: string): Promise<SerialRecord | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: this.key(serial), ConsistentRead: true }));
    return Item === undefined ? undefined : parseRecord(Item, serial);
  }

  /** Adds a `registered` serial; false when the serial is already in the table (in any status). */
  async register(serial: string, batch: string | undefined, now: Date): Promise<boolean> {
    const at = now.toISOString();
    const record: SerialRecord = { serial, status: "registered", registeredAt: at, updatedAt: at, ...(batch ? { batch } : {}) };
    const written = await unlessConditionFails(() =>
      this.documents.send(new PutCommand({ TableName: this.tableName, Item: record, ConditionExpression: "attribute_not_exists(#key)", ExpressionAttributeNames: { "#key": SERIAL_TABLE_KEY } })),
    );
    return written !== undefined;
  }

  /**
   * registered → provisioned, or again provisioned → provisioned for a stranded serial (only while
   * it still has the `provisionedAt` the caller saw, so of two retrying devices one wins).
   */
  async markProvisioned(serial: string, device: ProvisionedDevice, now: Date, from: { status: "registered" } | { strandedSince: string }): Promise<boolean> {
    const condition = "status" in from ? { expression: "#status = :registered", values: { ":registered": "registered" } } : { expression: "#status = :provisioned AND #provisionedAt = :seen", values: { ":seen": from.strandedSince } };
    const result = await this.update(serial, {
      update: "SET #status = :provisioned, #provisionedAt = :now, #updatedAt = :now, #thingName = :thing, #certificateId = :certificate, #claimCertificateId = :claim",
      condition: condition.expression,
      values: {
        ":provisioned": "provisioned",
        ":now": now.toISOString(),
        ":thing": device.thingName,
        ":certificate": device.certificateId,
        ":claim": device.claimCertificateId,
        ...condition.values,
      },
    });
    return result !== undefined;
  }

  /** provisioned → registered, forgetting the device; undefined when the serial is no longer provisioned. */
  async reset(serial: string, now: Date): Promise<SerialRecord | undefined> {
    return this.update(serial, {
      update: "SET #status = :registered, #updatedAt = :now REMOVE #thingName, #certificateId, #claimCertificateId, #provisionedAt",
      condition: "#status = :seen",
      values: { ":registered": "registered", ":seen": "provisioned", ":now": now.toISOString() },
    });
  }

  /** `seen` → revoked; undefined when the serial's status is no longer `seen`. */
  async revoke(serial: string, seen: SerialStatus, now: Date): Promise<SerialRecord | undefined> {
    return this.update(serial, {
      update: "SET #status = :revoked, #revokedAt = :now, #updatedAt = :now",
      condition: "#status = :seen",
      values: { ":revoked": "revoked", ":seen": seen, ":now": now.toISOString() },
    });
  }

  private key(serial: string): Record<string, string> {
    return { [SERIAL_TABLE_KEY]: serial };
  }

  /** A conditional UpdateItem returning the whole new record; undefined when the condition fails. */
  private async update(serial: string, { update, condition, values }: { update: string; condition: string; values: Record<string, unknown> }): Promise<SerialRecord | undefined> {
    const result = await unlessConditionFails(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(serial),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: attributeNames(`${update} ${condition}`),
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      ),
    );
    return result === undefined ? undefined : parseRecord(result.Attributes, serial);
  }
}

/** `#name` placeholders of an expression, each mapped to the record attribute of that name (checked against the schema). */
function attributeNames(expression: string): Record<string, string> {
  const attributes = Object.keys(serialRecordSchema.shape);
  const names: Record<string, string> = {};
  for (const [, name] of expression.matchAll(/#(\w+)/g)) {
    if (!attributes.includes(name as string)) throw new Error(`${name} is not an attribute of the serial table`);
    names[`#${name}`] = name as string;
  }
  return names;
}

function parseRecord(item: unknown, serial: string): SerialRecord {
  const record = serialRecordSchema.safeParse(item);
  if (!record.success) {
    throw new MalformedSerialRecord(`serial table item ${serial} is malformed: ${record.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
  }
  return record.data;
}
