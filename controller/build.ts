/**
 * Bundles the controller for its image (the Dockerfile's build stage runs this): controller.js and
 * healthcheck.js (everything inlined, minified), plus the one aws-crt native binary the runtime
 * platform needs, loaded through AWS_CRT_NODEJS_BINARY_ABSOLUTE_PATH (aws-crt's own override),
 * so the image needs no node_modules.
 *
 *   tsx controller/build.ts <out-dir> [crt-platform]   crt-platform defaults to linux-arm64-glibc
 */
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

/** aws-crt ships one binary per `<os>-<arch>-<libc>` under dist/bin. */
export const IMAGE_CRT_PLATFORM = "linux-arm64-glibc";
export const CRT_BINARY = "aws-crt-nodejs.node";
const ROOT = resolve(__dirname, "..");

/** Builds into outDir; returns the repo-relative paths of every source file bundled. */
export async function buildController(outDir: string, crtPlatform: string = IMAGE_CRT_PLATFORM): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const crtBinary = join(ROOT, "node_modules", "aws-crt", "dist", "bin", crtPlatform, CRT_BINARY);
  if (!existsSync(crtBinary)) throw new Error(`aws-crt has no binary for ${crtPlatform} (${crtBinary})`);
  copyFileSync(crtBinary, join(outDir, CRT_BINARY));
  const result = await build({
    metafile: true,
    entryPoints: { controller: join(__dirname, "main.ts"), healthcheck: join(__dirname, "healthcheck.ts") },
    outdir: outDir,
    bundle: true,
    minify: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    sourcemap: false,
    legalComments: "none",
    logLevel: "error",
    banner: {
      js: `process.env.AWS_CRT_NODEJS_BINARY_ABSOLUTE_PATH ||= require("node:path").join(__dirname, ${JSON.stringify(CRT_BINARY)});`,
    },
  });
  return Object.keys(result.metafile.inputs);
}

if (require.main === module) {
  const [outDir, crtPlatform] = process.argv.slice(2);
  if (!outDir) {
    console.error("usage: tsx controller/build.ts <out-dir> [crt-platform]");
    process.exit(2);
  }
  buildController(resolve(outDir), crtPlatform).catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}
