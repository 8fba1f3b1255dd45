import * as z from "zod/mini";
import { deviceErrorSchema } from "./messages";

/**
 * Messages on the alerts SNS topic. Device errors arrive there straight from the errors topic rule
 * (the device's payload plus the thing name the rule adds); the functions publish the rest.
 */
const isoTime = z.iso.datetime();
const count = z.int().check(z.gte(0));

export const deviceOfflineAlertSchema = z.object({
  kind: z.literal("device-offline"),
  thingName: z.string(),
  disconnectedAt: isoTime,
  disconnectReason: z.string(),
  graceSeconds: count,
});

export const dailySummaryAlertSchema = z.object({
  kind: z.literal("daily-summary"),
  at: isoTime,
  totals: z.object({ devices: count, online: count, offline: count }),
  /** Offline, and not seen for 24 hours or more. */
  notSeenFor24Hours: z.array(z.object({ thingName: z.string(), lastSeenAt: z.nullable(isoTime) })),
  /** Went offline within the last 24 hours and are still offline. */
  wentOffline: z.array(z.object({ thingName: z.string(), disconnectedAt: isoTime, reason: z.string() })),
});

/** What the errors topic rule forwards: `SELECT *, topic(4) AS thingName`. */
export const deviceErrorAlertSchema = z.extend(deviceErrorSchema, { thingName: z.string() });

export const alertSchema = z.union([deviceOfflineAlertSchema, dailySummaryAlertSchema, deviceErrorAlertSchema]);

export type DeviceOfflineAlert = z.infer<typeof deviceOfflineAlertSchema>;
export type DailySummaryAlert = z.infer<typeof dailySummaryAlertSchema>;
export type DeviceErrorAlert = z.infer<typeof deviceErrorAlertSchema>;
export type Alert = z.infer<typeof alertSchema>;
