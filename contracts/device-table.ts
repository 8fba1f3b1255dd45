/**
 * An item of the device table: one per IoT client id (thing name). The presence function owns the
 * presence fields; the responses topic rule writes `lastResponse`.
 */
export interface DeviceRecord {
  thingName: string;
  connected: boolean;
  /** eventOrder() of the last lifecycle event applied. */
  eventOrder: number;
  /** Timestamp (ms) of the last lifecycle event applied. */
  lastEventAt: number;
  sessionIdentifier: string;
  lastConnectedAt?: number;
  lastDisconnectedAt?: number;
  lastDisconnectReason?: string;
  /** eventOrder of the disconnect whose delayed offline check is queued. */
  checkScheduledFor?: number;
  /** eventOrder of the disconnect an offline alert was sent for. */
  offlineAlertedFor?: number;
  lastResponse?: unknown;
}

/** The table's partition key. */
export const DEVICE_TABLE_KEY = "thingName";
