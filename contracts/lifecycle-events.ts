import * as z from "zod/mini";

/**
 * AWS IoT lifecycle events (topics: contracts/topics.ts lifecycleTopic), as the
 * documentation's examples show them. Events may arrive twice or out of order.
 */
const common = {
  clientId: z.string().check(z.minLength(1), z.maxLength(128)),
  /** Milliseconds since the epoch, accurate to ±2 minutes. */
  timestamp: z.int().check(z.gte(0)),
  sessionIdentifier: z.string().check(z.minLength(1)),
  principalIdentifier: z.string(),
  /** Same for the connect and disconnect of one connection; grows per connection; resets after about an hour offline. */
  versionNumber: z.int().check(z.gte(0)),
  thingName: z.optional(z.string()),
};

export const connectedEventSchema = z.object({
  ...common,
  eventType: z.literal("connected"),
  ipAddress: z.optional(z.string()),
});

export const disconnectedEventSchema = z.object({
  ...common,
  eventType: z.literal("disconnected"),
  clientInitiatedDisconnect: z.boolean(),
  disconnectReason: z.string().check(z.minLength(1)),
});

export const lifecycleEventSchema = z.discriminatedUnion("eventType", [connectedEventSchema, disconnectedEventSchema]);

export type LifecycleEvent = z.infer<typeof lifecycleEventSchema>;

/** Orders the events of one client: the version, then connect before disconnect within it. */
export function eventOrder(event: LifecycleEvent): number {
  return event.versionNumber * 2 + (event.eventType === "disconnected" ? 1 : 0);
}
