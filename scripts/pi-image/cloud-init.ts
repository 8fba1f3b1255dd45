import { parse, stringify } from "yaml";
import type { WifiNetwork } from "./wifi";

/**
 * The NoCloud seed Raspberry Pi OS Trixie (images from 2 October 2025 on) reads from its FAT boot
 * partition: `user-data`, `meta-data`, `network-config` (docs/field-install.md cites the sources).
 * The boot partition is mounted at /boot/firmware since Bookworm.
 */
export const BOOT_MOUNT_POINT = "/boot/firmware";
/** Our folder on the boot partition. */
export const BOOT_FOLDER = "smart-home";

/** The files our folder holds, by role; the first-boot hook uses the same names. */
export const BOOT_FILES = {
  release: "smart-home-agent.tar.gz",
  claimCertificate: "claim.pem",
  claimKey: "claim.key",
  ca: "ca.pem",
  config: "config.json",
  hook: "first-boot.sh",
} as const;

export class CloudInitError extends Error {}

/**
 * `#cloud-config` that runs the first-boot hook once per instance (runcmd, cloud-final stage),
 * merged into the image's own user-data so Raspberry Pi OS's settings there are kept: our command
 * is appended to its runcmd list.
 */
export function userData(batch: string, stock = ""): string {
  const hook = `${BOOT_MOUNT_POINT}/${BOOT_FOLDER}/${BOOT_FILES.hook}`;
  if (stock.trim() && !stock.trimStart().startsWith("#cloud-config")) {
    throw new CloudInitError("the image's user-data is not #cloud-config (a script or MIME multipart); pi:image only merges cloud-config");
  }
  const config = stockMapping("user-data", stock);
  const runcmd = config.runcmd ?? [];
  if (!Array.isArray(runcmd)) throw new CloudInitError("the image's user-data has a runcmd that is not a list");
  const header = [
    "#cloud-config",
    `# Written by npm run pi:image for claim batch ${batch}: the image's user-data, plus a runcmd entry`,
    "# that installs the smart-home agent on first boot (output in /var/log/cloud-init-output.log).",
  ];
  return `${header.join("\n")}\n${stringify({ ...config, runcmd: [...runcmd, ["sh", hook, BOOT_MOUNT_POINT, "/"]] })}`;
}

/** The image's meta-data with a new instance id, so cloud-init treats the first boot of a flashed card as new. */
export function metaData(instanceId: string, stock = ""): string {
  return stringify({ ...stockMapping("meta-data", stock), "instance-id": instanceId });
}

/** A stock seed file as a YAML mapping; empty or comments only is an empty mapping. */
function stockMapping(name: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new CloudInitError(`the image's ${name} is not valid YAML: ${(error as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new CloudInitError(`the image's ${name} is not a YAML mapping`);
  return value as Record<string, unknown>;
}

/** Network config version 2: the Wi-Fi network with DHCP, and Ethernet with DHCP when plugged in. */
export function networkConfig(wifi: WifiNetwork): string {
  return stringify({
    network: {
      version: 2,
      ethernets: { eth0: { dhcp4: true, optional: true } },
      wifis: { wlan0: { dhcp4: true, "access-points": { [wifi.ssid]: { password: wifi.passphrase } } } },
    },
  });
}
