/**
 * Device identity: the serial format CI registers, and the thing name (also the MQTT client id and
 * the topic segment) a serial becomes.
 */

/** A device serial: uppercase letters, digits and hyphens, 3 to 40 characters, e.g. `SN123`. */
export const SERIAL_PATTERN = /^[A-Z0-9][A-Z0-9-]{2,39}$/;

/**
 * The thing name of a device. AWS IoT policy variables (`${iot:Connection.Thing.ThingName}`) and
 * lifecycle-event client ids only line up when the client id equals this name.
 */
export function deviceThingName(prefix: string, serial: string): string {
  if (!SERIAL_PATTERN.test(serial)) throw new Error(`"${serial}" is not a serial (${SERIAL_PATTERN})`);
  return `${prefix}-${serial}`;
}
