import { readFileSync } from "node:fs";
import { canonicalSerial } from "../contracts/devices";

/** Where Raspberry Pi OS exposes the SoC serial (NUL-terminated lowercase hex). */
export const PI_SERIAL_PATH = "/proc/device-tree/serial-number";

/** The serial to register: the configured one, else the Pi's own; always in canonical form. */
export function deviceSerial(configured: string | undefined, serialPath = PI_SERIAL_PATH): string {
  if (configured !== undefined) return canonicalSerial(configured);
  let raw: string;
  try {
    raw = readFileSync(serialPath, "utf8");
  } catch (error) {
    throw new Error(`no serial in the config and ${serialPath} is unreadable (${(error as NodeJS.ErrnoException).code}): set "serial" in the config`);
  }
  return canonicalSerial(raw);
}
