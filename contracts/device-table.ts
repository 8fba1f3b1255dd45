import * as z from "zod/mini";

/**
 * An item of the device table: one per IoT client id (thing name). The presence function owns the
 * presence fields (it sets connected, eventOrder, lastEventAt and sessionIdentifier together); the
 * responses topic rule writes `lastResponse`, so an item may exist before its first lifecycle event.
 */
const milliseconds = z.number().check(z.gte(0));
const thingName = z.string().check(z.minLength(1));

export const deviceRecordSchema = z.object({
  thingName,
  connected: z.boolean(),
  /** eventOrder() of the last lifecycle event applied. */
  eventOrder: z.int().check(z.gte(0)),
  /** Timestamp (ms) of the last lifecycle event applied. */
  lastEventAt: milliseconds,
  sessionIdentifier: z.string(),
  lastConnectedAt: z.optional(milliseconds),
  lastDisconnectedAt: z.optional(milliseconds),
  lastDisconnectReason: z.optional(z.string()),
  /** eventOrder of the disconnect whose delayed offline check is queued. */
  checkScheduledFor: z.optional(z.int()),
  /** eventOrder of the disconnect an offline alert was sent for. */
  offlineAlertedFor: z.optional(z.int()),
  lastResponse: z.optional(z.unknown()),
});

export type DeviceRecord = z.infer<typeof deviceRecordSchema>;

/** An item only the responses rule has written: no lifecycle event applied yet. */
const itemWithoutPresenceSchema = z.object({ thingName, connected: z.optional(z.undefined()), lastResponse: z.optional(z.unknown()) });

/** The table's partition key. */
export const DEVICE_TABLE_KEY = "thingName";

/**
 * A device table item as read from DynamoDB: its presence record, or undefined when no lifecycle
 * event was applied yet. Throws on an item that is neither (a bug or a hand edit, never guessed at).
 */
export function devicePresence(item: unknown): DeviceRecord | undefined {
  return parseDeviceItem(item).presence;
}

/** Any device table item, parsed: the thing, its presence when a lifecycle event was applied, and its last response. */
export interface DeviceItem {
  readonly thingName: string;
  readonly presence: DeviceRecord | undefined;
  readonly lastResponse: unknown;
}

/** Parses a device table item as read from DynamoDB; throws on a malformed one, like devicePresence(). */
export function parseDeviceItem(item: unknown): DeviceItem {
  const record = deviceRecordSchema.safeParse(item);
  if (record.success) return { thingName: record.data.thingName, presence: record.data, lastResponse: record.data.lastResponse };
  const bare = itemWithoutPresenceSchema.safeParse(item);
  if (bare.success) return { thingName: bare.data.thingName, presence: undefined, lastResponse: bare.data.lastResponse };
  throw new Error(`device table item is malformed: ${record.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`);
}
