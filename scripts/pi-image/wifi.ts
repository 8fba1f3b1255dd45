import { lstatSync, readFileSync } from "node:fs";

/** The environment variable a Wi-Fi passphrase may come from (never the command line, which `ps` and shell history show). */
export const WIFI_PASSPHRASE_VARIABLE = "PI_IMAGE_WIFI_PASSPHRASE";

export interface WifiNetwork {
  readonly ssid: string;
  readonly passphrase: string;
}

export class WifiError extends Error {}

export interface WifiSource {
  readonly ssid?: string;
  /** A file only its owner can read, holding the passphrase (one line). */
  readonly passphraseFile?: string;
  readonly environment: NodeJS.ProcessEnv;
}

/** The Wi-Fi network to join, or undefined for none (Ethernet, or the image's own network-config). */
export function readWifiNetwork(source: WifiSource): WifiNetwork | undefined {
  const fromEnvironment = source.environment[WIFI_PASSPHRASE_VARIABLE];
  if (source.ssid === undefined) {
    if (source.passphraseFile !== undefined || fromEnvironment !== undefined) {
      throw new WifiError(`a Wi-Fi passphrase was given (--wifi-passphrase-file or ${WIFI_PASSPHRASE_VARIABLE}) but no --wifi-ssid`);
    }
    return undefined;
  }
  if (!/^[\x20-\x7e]{1,32}$/.test(source.ssid)) throw new WifiError("--wifi-ssid must be 1 to 32 printable ASCII characters");
  if (source.passphraseFile !== undefined && fromEnvironment !== undefined) {
    throw new WifiError(`give the Wi-Fi passphrase once: --wifi-passphrase-file or ${WIFI_PASSPHRASE_VARIABLE}, not both`);
  }
  let passphrase: string;
  if (source.passphraseFile !== undefined) {
    passphrase = readPrivateFile(source.passphraseFile);
  } else if (fromEnvironment !== undefined) {
    passphrase = fromEnvironment;
  } else {
    throw new WifiError(`--wifi-ssid needs its passphrase from --wifi-passphrase-file <file> (mode 0600) or the ${WIFI_PASSPHRASE_VARIABLE} environment variable`);
  }
  // WPA2/WPA3-Personal: a passphrase of 8 to 63 printable ASCII characters, or a 64-hex-digit PSK.
  if (!/^[\x20-\x7e]{8,63}$/.test(passphrase) && !/^[0-9a-fA-F]{64}$/.test(passphrase)) {
    throw new WifiError("the Wi-Fi passphrase must be 8 to 63 printable ASCII characters (or 64 hex digits)");
  }
  return { ssid: source.ssid, passphrase };
}

function readPrivateFile(path: string): string {
  let stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    throw new WifiError(`cannot read the Wi-Fi passphrase file ${path}: ${(error as NodeJS.ErrnoException).code}`);
  }
  if (!stats.isFile()) throw new WifiError(`the Wi-Fi passphrase file ${path} is not a regular file`);
  if ((stats.mode & 0o077) !== 0) {
    throw new WifiError(`the Wi-Fi passphrase file ${path} is readable by others (mode ${(stats.mode & 0o777).toString(8)}); chmod 600 it first`);
  }
  return readFileSync(path, "utf8").replace(/\r?\n$/, "");
}
