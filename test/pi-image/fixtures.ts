import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openCertificateAuthority } from "../../local/certificate-authority";
import { localClaimFiles } from "../../local/state-files";

/** Sector numbers of the test images: boot partition at 4 MiB (as Raspberry Pi OS), 64 MiB of FAT32. */
export const BOOT_START_SECTOR = 8192;
const BOOT_SECTORS = 131072;
const IMAGE_BYTES = 80 * 1024 * 1024;

/**
 * A real partitioned disk image like Raspberry Pi OS's: a partition table written by sfdisk
 * (util-linux) and a FAT32 file system made by mkfs.fat at the partition's offset, no mount.
 * `label: "gpt"` writes a GPT with a Microsoft basic data partition; `fat: false` leaves the first
 * partition a Linux one with no file system.
 */
/** Seed files of our stand-in stock image: the real Raspberry Pi OS ones may differ, so pi:image merges rather than assumes. */
export const STOCK_USER_DATA = "#cloud-config\n# the image's own settings\nhostname: raspberrypi\nruncmd:\n  - [echo, stock image]\n";
export const STOCK_META_DATA = "instance-id: rpios-image\ndsmode: local\n";

export function makeDiskImage(path: string, options: { label?: "dos" | "gpt"; fat?: boolean; userData?: string } = {}): void {
  const label = options.label ?? "dos";
  const fat = options.fat ?? true;
  writeFileSync(path, "");
  execFileSync("truncate", ["-s", String(IMAGE_BYTES), path]);
  const bootType = !fat ? (label === "dos" ? "83" : "0FC63DAF-8483-4772-8E79-3D69D8477DE4") : label === "dos" ? "c" : "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7";
  const rootType = label === "dos" ? "83" : "0FC63DAF-8483-4772-8E79-3D69D8477DE4";
  const script = `label: ${label}\nstart=${BOOT_START_SECTOR}, size=${BOOT_SECTORS}, type=${bootType}\nstart=${BOOT_START_SECTOR + BOOT_SECTORS}, type=${rootType}\n`;
  execFileSync("sfdisk", ["--quiet", path], { input: script });
  if (fat) {
    // mkfs.fat counts 1 KiB blocks. The stock image already holds config.txt and a cloud-init seed, as Raspberry Pi OS Trixie's does.
    execFileSync("mkfs.fat", ["-F", "32", "-n", "bootfs", "--offset", String(BOOT_START_SECTOR), path, String(BOOT_SECTORS / 2)], { stdio: "ignore" });
    const stockFiles = { "config.txt": "arm_64bit=1\n", "user-data": options.userData ?? STOCK_USER_DATA, "meta-data": STOCK_META_DATA };
    for (const [name, content] of Object.entries(stockFiles)) {
      const local = `${path}.${name}`;
      writeFileSync(local, content);
      execFileSync("mcopy", ["-i", `${path}@@${BOOT_START_SECTOR * 512}`, local, `::/${name}`], { env: { ...process.env, MTOOLS_SKIP_CHECK: "1" } });
      rmSync(local);
    }
  }
}

/**
 * A small agent release of the real layout (`smart-home-agent-<version>/` with bin, lib, systemd,
 * VERSION, install.sh). Its install.sh is a recorder, not the real one (that needs root and an
 * aarch64 Pi): it writes its arguments, and the mode, size and sha256 of each file it was given,
 * to $INSTALL_RECORD, and exits with $INSTALL_EXIT (default 0).
 */
export function makeAgentRelease(directory: string, version = "1.2.3"): string {
  const root = join(directory, "release-src", `smart-home-agent-${version}`);
  for (const folder of ["bin", "lib", "systemd"]) mkdirSync(join(root, folder), { recursive: true });
  writeFileSync(join(root, "VERSION"), `${version}\n`);
  writeFileSync(join(root, "lib", "agent.js"), "// the agent\n");
  writeFileSync(join(root, "systemd", "smart-home-agent.service"), "[Service]\n");
  writeFileSync(join(root, "config.example.json"), "{}\n");
  writeFileSync(
    join(root, "install.sh"),
    [
      "#!/bin/sh",
      "set -eu",
      'echo "args $*" >> "$INSTALL_RECORD"',
      "while [ $# -gt 0 ]; do",
      '  case "$1" in',
      '    --claim-cert|--claim-key|--config) echo "$1 $(stat -c %a "$2") $(stat -c %a "$(dirname "$2")") $(sha256sum < "$2" | cut -d" " -f1)" >> "$INSTALL_RECORD"; shift 2 ;;',
      '    *) echo "unknown $1" >&2; exit 2 ;;',
      "  esac",
      "done",
      'exit "${INSTALL_EXIT:-0}"',
      "",
    ].join("\n"),
  );
  chmodSync(join(root, "install.sh"), 0o755);
  const tarball = join(directory, `smart-home-agent-${version}-linux-arm64.tar.gz`);
  execFileSync("tar", ["-czf", tarball, "-C", join(directory, "release-src"), `smart-home-agent-${version}`]);
  return tarball;
}

/** The local platform's state folder as `npm run local` leaves it: its CA, and a real claim certificate and key per batch. */
export async function makeLocalPlatformFolder(directory: string, batches: readonly string[]): Promise<void> {
  const authority = await openCertificateAuthority(join(directory, "ca"));
  for (const batch of batches) {
    const issued = await authority.issue();
    const files = localClaimFiles(directory, batch);
    writeFileSync(files.certificatePath, issued.certificatePem, { mode: 0o644 });
    writeFileSync(files.privateKeyPath, issued.privateKeyPem!, { mode: 0o600 });
  }
}
