import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Writes a file whole or not at all: temp file in the same directory, fsync, rename, fsync of the
 * directory. A Pi loses power without warning; without the fsyncs a rename can survive a power cut
 * while the data it points at does not (ext4 with delalloc), leaving an empty key file.
 */
export function writeFileAtomically(path: string, content: string, mode = 0o600, durable = true): void {
  const temporary = `${path}.${process.pid}.tmp`;
  const file = openSync(temporary, "w", mode);
  try {
    writeSync(file, content);
    if (durable) fsyncSync(file);
  } finally {
    closeSync(file);
  }
  renameSync(temporary, path);
  if (durable) {
    const directory = openSync(dirname(path), "r");
    try {
      fsyncSync(directory);
    } finally {
      closeSync(directory);
    }
  }
}
