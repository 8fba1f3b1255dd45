import { stringify } from "yaml";
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

/** `#cloud-config` that runs the first-boot hook once per instance (runcmd, cloud-final stage). */
export function userData(batch: string): string {
  const hook = `${BOOT_MOUNT_POINT}/${BOOT_FOLDER}/${BOOT_FILES.hook}`;
  const header = [
    "#cloud-config",
    `# Written by npm run pi:image for claim batch ${batch}: installs the smart-home agent on first boot.`,
    "# The hook's output is in /var/log/cloud-init-output.log.",
  ];
  return `${header.join("\n")}\n${stringify({ runcmd: [["sh", hook, BOOT_MOUNT_POINT, "/"]] })}`;
}

/** A new instance id per image, so cloud-init treats the first boot of a flashed card as new. */
export function metaData(instanceId: string): string {
  return stringify({ "instance-id": instanceId });
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
