import { buildSync, type BuildOptions } from "esbuild";
import { zipSync } from "fflate";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/**
 * The Node.js major version the functions run on: Lambda's runtime and esbuild's target both derive
 * from it, so the bundle never uses syntax the runtime lacks nor down-levels what it has.
 * Lambda runtime identifiers: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
 */
export const NODE_MAJOR_VERSION = 22;
/** Lambda's managed runtime for {@link NODE_MAJOR_VERSION}. */
export const LAMBDA_RUNTIME = `nodejs${NODE_MAJOR_VERSION}.x`;
/** esbuild's syntax target for {@link NODE_MAJOR_VERSION}. */
export const ESBUILD_TARGET = `node${NODE_MAJOR_VERSION}`;

/** Where bundles are written at synth (ignored by git). */
export const BUNDLE_DIRECTORY = join(__dirname, "..", ".build", "functions");

/**
 * Lambda hands a function its credentials in the environment, so the default chain never reaches
 * these providers; left out of the bundle, they would resolve to the copies the Lambda runtime
 * ships if anything ever loaded them. Saves about 90 KB per function.
 */
const NEVER_LOADED_IN_LAMBDA = [
  "@aws-sdk/credential-provider-ini",
  "@aws-sdk/credential-provider-sso",
  "@aws-sdk/credential-provider-process",
  "@aws-sdk/credential-provider-web-identity",
  "@aws-sdk/credential-provider-login",
  "@aws-sdk/nested-clients",
  "@aws-sdk/token-providers",
];

const BUILD_OPTIONS: BuildOptions = {
  bundle: true,
  platform: "node",
  target: ESBUILD_TARGET,
  format: "cjs",
  minify: true,
  keepNames: true,
  legalComments: "none",
  mainFields: ["module", "main"],
  external: NEVER_LOADED_IN_LAMBDA,
  write: false,
  metafile: true,
  logLevel: "silent",
};

/** Zip entries get a fixed time, so the same code always gives the same archive and hash. */
const FIXED_ZIP_TIME = new Date("1980-01-01T00:00:00Z");

export interface FunctionBundle {
  /** Path of the zip (a single `index.js`). */
  readonly zipPath: string;
  /** Base64 SHA-256 of the zip: what Lambda reports as CodeSha256. */
  readonly sha256: string;
  /** Size of the unzipped code. */
  readonly codeBytes: number;
}

/** What a previous build read, so an unchanged function is not bundled again. */
interface BuildRecord extends FunctionBundle {
  readonly options: string;
  /** Input path → `size:mtime`. */
  readonly inputs: Record<string, string>;
}

/**
 * Bundles a TypeScript handler with esbuild (SDK included, minified, CommonJS for `index.handler`)
 * into a reproducible zip named by its hash. A record of the build's inputs lets the next synth reuse
 * the zip while no input changed. Files are written to a temp name then renamed, so concurrent
 * synths never see half a file.
 */
export function bundleFunction(entry: string, outputDirectory: string = BUNDLE_DIRECTORY): FunctionBundle {
  return bundleFunctions([entry], outputDirectory)[0] as FunctionBundle;
}

/**
 * Bundles several handlers (each `<name>/index.ts`), building the stale ones in one esbuild run:
 * they share most of their dependencies, so one run costs about half of separate ones.
 */
export function bundleFunctions(entries: readonly string[], outputDirectory: string = BUNDLE_DIRECTORY): FunctionBundle[] {
  const options = JSON.stringify(BUILD_OPTIONS);
  const recordPath = (entry: string) => join(outputDirectory, `${functionName(entry)}.build.json`);
  const fresh = (entry: string) => {
    const record = readRecord(recordPath(entry));
    return record && record.options === options && existsSync(record.zipPath) && inputsUnchanged(record.inputs) ? record : undefined;
  };
  const stale = entries.filter((entry) => !fresh(entry));
  if (stale.length > 0) {
    const virtualOut = join(outputDirectory, "out");
    const result = buildSync({ ...BUILD_OPTIONS, entryPoints: stale.map((entry) => ({ in: entry, out: functionName(entry) })), outdir: virtualOut });
    mkdirSync(outputDirectory, { recursive: true });
    for (const entry of stale) {
      const outPath = join(virtualOut, `${functionName(entry)}.js`);
      const code = result.outputFiles?.find((file) => file.path === outPath)?.contents;
      const meta = Object.entries(result.metafile?.outputs ?? {}).find(([path]) => resolve(path) === outPath)?.[1];
      if (!code || !meta) throw new Error(`esbuild produced no output for ${entry}`);
      const zip = zipSync({ "index.js": [code, { mtime: FIXED_ZIP_TIME, level: 6 }] });
      const digest = createHash("sha256").update(zip);
      const zipPath = join(outputDirectory, `${functionName(entry)}-${digest.copy().digest("hex").slice(0, 16)}.zip`);
      if (!existsSync(zipPath)) writeAtomically(zipPath, zip);
      const inputs = Object.fromEntries(Object.keys(meta.inputs).map((input) => [resolve(input), fingerprint(resolve(input))]));
      const record: BuildRecord = { zipPath, sha256: digest.digest("base64"), codeBytes: code.byteLength, options, inputs };
      writeAtomically(recordPath(entry), JSON.stringify(record));
    }
  }
  return entries.map((entry) => {
    const record = fresh(entry);
    if (!record) throw new Error(`bundle of ${entry} changed while it was built; synthesize again`);
    return { zipPath: record.zipPath, sha256: record.sha256, codeBytes: record.codeBytes };
  });
}

/** `functions/<name>/index.ts` → `<name>`. */
function functionName(entry: string): string {
  return basename(dirname(entry));
}

function readRecord(path: string): BuildRecord | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as BuildRecord;
  } catch {
    return undefined;
  }
}

function fingerprint(path: string): string {
  const stats = statSync(path, { throwIfNoEntry: false });
  return stats ? `${stats.size}:${stats.mtimeMs}` : "missing";
}

function inputsUnchanged(inputs: Record<string, string>): boolean {
  return Object.entries(inputs).every(([path, print]) => fingerprint(path) === print);
}

function writeAtomically(path: string, content: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, path);
}
