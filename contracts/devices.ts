/**
 * Device identity: the serial format CI registers, and the thing name (also the MQTT client id and
 * the topic segment) a serial becomes.
 */

/**
 * A device serial in its canonical form: uppercase letters, digits and hyphens, 3 to 40 characters,
 * e.g. `SN123` or a Raspberry Pi's own `00000000B83C3C1B`.
 */
export const SERIAL_PATTERN = /^[A-Z0-9][A-Z0-9-]{2,39}$/;

/**
 * A serial as a person, CI or a device may write it: SERIAL_PATTERN in either case. Input checked
 * with it (the serial API's model, the CLI) becomes canonical through canonicalSerial().
 */
export const SERIAL_PATTERN_ANY_CASE = new RegExp(SERIAL_PATTERN.source.replace(/A-Z/g, "A-Za-z"));

/**
 * The canonical form of a serial as a person or a device writes it. Serials are case-insensitive: a
 * Raspberry Pi reports its serial (`/proc/device-tree/serial-number`, `Serial` in `/proc/cpuinfo`)
 * as 16 lowercase hex digits, NUL-terminated in the device tree; CI may type either case. The
 * canonical form is uppercase, with surrounding white space and trailing NULs removed. Throws on
 * anything that is not a serial in either case.
 */
export function canonicalSerial(input: string): string {
  const serial = input.replace(/\0+$/, "").trim().toUpperCase();
  if (!SERIAL_PATTERN.test(serial)) throw new Error(`"${input}" is not a serial (${SERIAL_PATTERN}, any case)`);
  return serial;
}

/**
 * The thing name of a device. AWS IoT policy variables (`${iot:Connection.Thing.ThingName}`) and
 * lifecycle-event client ids only line up when the client id equals this name.
 */
export function deviceThingName(prefix: string, serial: string): string {
  if (!SERIAL_PATTERN.test(serial)) throw new Error(`"${serial}" is not a serial (${SERIAL_PATTERN})`);
  return `${prefix}-${serial}`;
}
