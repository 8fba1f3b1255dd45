import type { DailySummaryAlert } from "../../contracts/alerts";
import type { DeviceRecord } from "../../contracts/device-table";

export const DAY_MS = 24 * 60 * 60 * 1000;

/** The daily summary of the device table at `now`. */
export function summarize(devices: readonly DeviceRecord[], now: number): DailySummaryAlert {
  const offline = devices.filter((device) => !device.connected);
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    kind: "daily-summary",
    at: new Date(now).toISOString(),
    totals: { devices: devices.length, online: devices.length - offline.length, offline: offline.length },
    notSeenFor24Hours: offline
      .filter((device) => (device.lastDisconnectedAt ?? device.lastEventAt) <= now - DAY_MS)
      .map((device) => ({ thingName: device.thingName, lastSeenAt: iso(device.lastDisconnectedAt ?? device.lastEventAt) })),
    wentOffline: offline
      .filter((device) => device.lastDisconnectedAt !== undefined && device.lastDisconnectedAt > now - DAY_MS)
      .map((device) => ({
        thingName: device.thingName,
        disconnectedAt: new Date(device.lastDisconnectedAt as number).toISOString(),
        reason: device.lastDisconnectReason ?? "UNKNOWN",
      })),
  };
}

/** Worth a message: something is wrong, or the operator asked for a digest every day. */
export function shouldSend(summary: DailySummaryAlert, dailyDigest: boolean): boolean {
  return dailyDigest || summary.notSeenFor24Hours.length > 0 || summary.wentOffline.length > 0;
}
