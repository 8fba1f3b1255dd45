import { execFileSync } from "node:child_process";

/**
 * Files on a FAT partition inside a disk image, through mtools (Debian `mtools`) addressing the
 * partition by byte offset (`-i image@@offset`): no root, no loop device, no mount.
 */
export class FatImage {
  constructor(
    private readonly imagePath: string,
    private readonly offsetBytes: number,
  ) {}

  /** Writes (or replaces) one file; missing parent folders are made. */
  write(fatPath: string, localPath: string): void {
    const parents = fatPath.split("/").slice(0, -1);
    for (let depth = 1; depth <= parents.length; depth++) {
      const folder = parents.slice(0, depth).join("/");
      if (!this.exists(folder)) this.mtools("mmd", [`::/${folder}`]);
    }
    this.mtools("mcopy", ["-o", localPath, `::/${fatPath}`]);
  }

  /** A file's bytes, or undefined when there is no such file. */
  read(fatPath: string): Buffer | undefined {
    if (!this.exists(fatPath)) return undefined;
    return this.mtools("mcopy", [`::/${fatPath}`, "-"]);
  }

  /** Names in a folder (`mdir -b`), relative to it. */
  list(folder = ""): string[] {
    const prefix = `::/${folder ? `${folder}/` : ""}`;
    return this.mtools("mdir", ["-b", prefix])
      .toString("utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => line.slice(prefix.length).replace(/\/$/, ""));
  }

  exists(fatPath: string): boolean {
    try {
      this.mtools("mdir", ["-b", `::/${fatPath}`]);
      return true;
    } catch {
      return false;
    }
  }

  private mtools(command: string, args: readonly string[]): Buffer {
    return execFileSync(command, ["-i", `${this.imagePath}@@${this.offsetBytes}`, ...args], {
      // The partition is addressed by offset, so mtools' geometry check has nothing to check;
      // MTOOLSRC keeps a user's ~/.mtoolsrc drive settings out of it.
      env: { ...process.env, MTOOLS_SKIP_CHECK: "1", MTOOLSRC: "/dev/null" },
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 1 << 30,
    });
  }
}
