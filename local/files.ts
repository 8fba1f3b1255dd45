import { chmodSync, renameSync, writeFileSync } from "node:fs";

/** Writes a file whole or not at all: a temp file in the same directory, then a rename. */
export function writeFileAtomically(path: string, content: string | Uint8Array, mode = 0o600): void {
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temporary, content, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, path);
}
