import { closeSync, openSync, readSync } from "node:fs";

/** SD-card images use 512-byte logical sectors; the MBR and GPT offsets below are in them. */
const SECTOR_BYTES = 512;
/** MBR partition types of FAT file systems: FAT16 (0x06, 0x0e), FAT32 (0x0b CHS, 0x0c LBA). */
const MBR_FAT_TYPES = new Set([0x06, 0x0b, 0x0c, 0x0e]);
/** MBR type of a protective entry: the real table is the GPT. */
const MBR_GPT_PROTECTIVE = 0xee;
/** GPT partition type GUIDs a FAT boot partition carries: Microsoft basic data, EFI system. */
const GPT_FAT_TYPES = new Set(["ebd0a0a2-b9e5-4433-87c0-68b6b72699c7", "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"]);

export interface BootPartition {
  /** 1-based, as `fdisk -l` numbers it. */
  readonly number: number;
  readonly scheme: "mbr" | "gpt";
  readonly offsetBytes: number;
  readonly sizeBytes: number;
}

export class PartitionError extends Error {}

/**
 * The FAT boot partition of a disk image: the first MBR (or GPT) entry of a FAT type whose first
 * sector really is a FAT boot sector. Raspberry Pi OS ships an MBR with the FAT boot partition
 * first; the firmware boots only from the MBR, so a hybrid MBR/GPT image is read by its MBR too.
 */
export function findBootPartition(imagePath: string): BootPartition {
  const file = openSync(imagePath, "r");
  try {
    const read = (offset: number, length: number) => {
      const buffer = Buffer.alloc(length);
      const bytes = readSync(file, buffer, 0, length, offset);
      return buffer.subarray(0, bytes);
    };
    const mbr = read(0, SECTOR_BYTES);
    if (mbr.length < SECTOR_BYTES || mbr.readUInt16LE(510) !== 0xaa55) {
      throw new PartitionError(`${imagePath} has no partition table (no MBR signature 55 AA in its first sector)`);
    }
    const entries = [0, 1, 2, 3].map((index) => {
      const entry = mbr.subarray(446 + index * 16, 446 + (index + 1) * 16);
      return { number: index + 1, type: entry[4]!, firstSector: entry.readUInt32LE(8), sectors: entry.readUInt32LE(12) };
    });
    const candidates: BootPartition[] = entries
      .filter((entry) => MBR_FAT_TYPES.has(entry.type) && entry.sectors > 0)
      .map((entry) => ({ number: entry.number, scheme: "mbr", offsetBytes: entry.firstSector * SECTOR_BYTES, sizeBytes: entry.sectors * SECTOR_BYTES }));
    if (candidates.length === 0 && entries.some((entry) => entry.type === MBR_GPT_PROTECTIVE)) candidates.push(...gptFatPartitions(read, imagePath));
    const boot = candidates.find((candidate) => isFatBootSector(read(candidate.offsetBytes, SECTOR_BYTES)));
    if (!boot) {
      const types = entries.filter((entry) => entry.sectors > 0).map((entry) => `${entry.number}: 0x${entry.type.toString(16).padStart(2, "0")}`);
      throw new PartitionError(
        `${imagePath} has no FAT boot partition (partitions ${types.join(", ") || "none"}); expected a Raspberry Pi OS image, whose first partition is FAT32 (type 0x0c)`,
      );
    }
    return boot;
  } finally {
    closeSync(file);
  }
}

/** FAT entries of a GPT (header at LBA 1, UEFI spec §5.3). */
function gptFatPartitions(read: (offset: number, length: number) => Buffer, imagePath: string): BootPartition[] {
  const header = read(SECTOR_BYTES, 92);
  if (header.subarray(0, 8).toString("latin1") !== "EFI PART") throw new PartitionError(`${imagePath} has a protective MBR but no GPT header`);
  const entriesLba = Number(header.readBigUInt64LE(72));
  const count = header.readUInt32LE(80);
  const entryBytes = header.readUInt32LE(84);
  const table = read(entriesLba * SECTOR_BYTES, Math.min(count, 128) * entryBytes);
  const partitions: BootPartition[] = [];
  for (let index = 0; index * entryBytes + entryBytes <= table.length; index++) {
    const entry = table.subarray(index * entryBytes, (index + 1) * entryBytes);
    const type = guid(entry.subarray(0, 16));
    if (!GPT_FAT_TYPES.has(type)) continue;
    const first = Number(entry.readBigUInt64LE(32));
    const last = Number(entry.readBigUInt64LE(40));
    partitions.push({ number: index + 1, scheme: "gpt", offsetBytes: first * SECTOR_BYTES, sizeBytes: (last - first + 1) * SECTOR_BYTES });
  }
  return partitions;
}

/** GUIDs are stored mixed-endian: the first three fields little-endian. */
function guid(bytes: Buffer): string {
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = [...bytes.subarray(from, to)];
    return (reverse ? part.reverse() : part).map((byte) => byte.toString(16).padStart(2, "0")).join("");
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

/** A FAT boot sector: the 55 AA signature and "FAT" in the FAT12/16 or FAT32 type field. */
function isFatBootSector(sector: Buffer): boolean {
  if (sector.length < SECTOR_BYTES || sector.readUInt16LE(510) !== 0xaa55) return false;
  return sector.subarray(54, 57).toString("latin1") === "FAT" || sector.subarray(82, 85).toString("latin1") === "FAT";
}
