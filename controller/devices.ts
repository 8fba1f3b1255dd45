import { GetCommand, ScanCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DEVICE_TABLE_KEY, parseDeviceItem } from "../contracts/device-table";

/** What the HTTP API shows of a device. */
export interface DeviceView {
  readonly thingName: string;
  readonly connected: boolean;
  /** When IoT Core last saw the device connect or disconnect (ISO 8601). */
  readonly lastSeenAt: string | null;
  readonly lastResponse: unknown;
}

/** What the API shows of a device table item, parsed here at the table edge (a malformed item throws). */
export function deviceView(item: unknown): DeviceView {
  const { thingName, presence, lastResponse } = parseDeviceItem(item);
  const lastSeen = presence && (presence.connected ? presence.lastEventAt : (presence.lastDisconnectedAt ?? presence.lastEventAt));
  return {
    thingName,
    connected: presence?.connected === true,
    lastSeenAt: lastSeen === undefined ? null : new Date(lastSeen).toISOString(),
    lastResponse: lastResponse ?? null,
  };
}

/** Reads the device table (written by the presence function and the responses topic rule). */
export class DeviceDirectory {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Every device; the table holds one item per thing, a few hundred at most, so a paged scan. */
  async list(): Promise<DeviceView[]> {
    const devices: DeviceView[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) devices.push(deviceView(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return devices.sort((a, b) => a.thingName.localeCompare(b.thingName));
  }

  async get(thingName: string): Promise<DeviceView | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { [DEVICE_TABLE_KEY]: thingName }, ConsistentRead: true }));
    return Item ? deviceView(Item) : undefined;
  }
}
