import * as z from "zod/mini";

/**
 * Payloads on the device topics (contracts/topics.ts). The controller, the agent, the functions and
 * the local stand-in all parse with these; nothing else defines their shape. (zod/mini: these ship
 * inside Lambda bundles and the Pi agent, where full zod would add about 450 KB.)
 */

const isoTime = z.iso.datetime({ offset: true });

const commandId = z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[A-Za-z0-9_-]+$/, "must be letters, digits, '-' or '_'"));

/** Controller → device. */
export const commandSchema = z
  .strictObject({
    /** Unique per command; responses and errors carry it back. */
    id: commandId,
    /** What to do, e.g. `ping`, `set-output` or `light.set`. */
    action: z.string().check(z.maxLength(64), z.regex(/^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/, "must be lowercase words joined by '.', e.g. set-output or light.set")),
    params: z._default(z.record(z.string(), z.unknown()), {}),
    sentAt: isoTime,
    /** A device ignores a command it receives after this time. */
    expiresAt: isoTime,
  })
  .check(
    z.refine((command) => Date.parse(command.expiresAt) > Date.parse(command.sentAt), {
      message: "must be after sentAt",
      path: ["expiresAt"],
    }),
  );

/** Device → controller, on success. */
export const responseSchema = z.strictObject({
  commandId,
  result: z.unknown(),
  completedAt: isoTime,
});

/** Device → controller and alerts, on failure. */
export const deviceErrorSchema = z.strictObject({
  /** Absent when the failure is not about one command (e.g. a payload that did not parse). */
  commandId: z.optional(commandId),
  code: z.string().check(z.maxLength(64), z.regex(/^[A-Z][A-Z0-9_]*$/, "must be UPPER_SNAKE_CASE")),
  message: z.string().check(z.maxLength(1024)),
  at: isoTime,
});

export type Command = z.infer<typeof commandSchema>;
export type CommandInput = z.input<typeof commandSchema>;
export type CommandResponse = z.infer<typeof responseSchema>;
export type DeviceError = z.infer<typeof deviceErrorSchema>;
