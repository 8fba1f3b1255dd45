/**
 * checkov from PyPI at a pinned version, in a virtual environment the project creates under
 * `~/.cache/smart-home/venvs/checkov` (`SMART_HOME_CACHE` moves the cache) and reuses while it holds
 * that version. A lock file keeps two concurrent scans from installing into it at once.
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export const CHECKOV_VERSION = "3.3.30";
const CACHE = process.env.SMART_HOME_CACHE ?? join(homedir(), ".cache", "smart-home");
export const CHECKOV_VENV = join(CACHE, "venvs", "checkov");
const CHECKOV = join(CHECKOV_VENV, "bin", "checkov");
/** A lock older than this belongs to a killed install. */
const STALE_LOCK_MS = 15 * 60_000;

function run(command: string, args: string[], timeoutMs: number) {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw new Error(`${command} ${args.join(" ")}: ${result.error.message}`);
  return result;
}

function installedVersion(): string | undefined {
  if (!existsSync(CHECKOV)) return undefined;
  const result = run(CHECKOV, ["--version"], 120_000);
  return result.status === 0 ? result.stdout.trim() : undefined;
}

async function withLock<T>(lockFile: string, action: () => T): Promise<T> {
  mkdirSync(dirname(lockFile), { recursive: true });
  for (;;) {
    try {
      closeSync(openSync(lockFile, "wx"));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (Date.now() - statSync(lockFile).mtimeMs > STALE_LOCK_MS) rmSync(lockFile, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
  try {
    return action();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

/** Returns the path of the checkov binary, installing it first when the venv lacks the pinned version. */
export async function ensureCheckov(log: (line: string) => void): Promise<string> {
  if (installedVersion() === CHECKOV_VERSION) return CHECKOV;
  return withLock(`${CHECKOV_VENV}.lock`, () => {
    if (installedVersion() === CHECKOV_VERSION) return CHECKOV;
    log(`installing checkov ${CHECKOV_VERSION} from PyPI into ${CHECKOV_VENV}`);
    const venv = run("python3", ["-m", "venv", "--clear", CHECKOV_VENV], 300_000);
    if (venv.status !== 0) throw new Error(`python3 -m venv failed: ${venv.stderr.trim()}`);
    const pip = run(
      join(CHECKOV_VENV, "bin", "pip"),
      ["install", "--disable-pip-version-check", "--no-input", "--quiet", `checkov==${CHECKOV_VERSION}`],
      15 * 60_000,
    );
    if (pip.status !== 0) throw new Error(`pip install checkov==${CHECKOV_VERSION} failed:\n${pip.stderr.trim()}`);
    const version = installedVersion();
    if (version !== CHECKOV_VERSION) throw new Error(`checkov --version says ${version ?? "nothing"} after installing ${CHECKOV_VERSION}`);
    return CHECKOV;
  });
}

/**
 * Runs checkov over a directory of `<stack>/cdk.tf.json` files and returns its JSON output.
 * Its exit code is not the verdict (1 on any failed check, 0 on a parsing error): the caller judges.
 */
export function runCheckov(checkov: string, directory: string): { stdout: string; stderr: string; status: number | null } {
  const result = run(
    checkov,
    ["--directory", directory, "--framework", "terraform_json", "--output", "json", "--skip-download"],
    10 * 60_000,
  );
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}
