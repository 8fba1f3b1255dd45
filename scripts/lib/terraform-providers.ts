/**
 * Terraform providers without the public registry: builds a CLI configuration (TF_CLI_CONFIG_FILE)
 * whose `filesystem_mirror` holds the hashicorp/aws and hashicorp/null providers.
 *
 * Where `../shared/terraform-mirror/` sits beside the repo (these machines and CI), both providers
 * are unpacked from its zstd files. Elsewhere the null provider is built from the Go module proxy
 * (through a wrapper module, because its go.mod names `github.com/terraform-providers/...`) and
 * the aws provider comes from the public registry, as for any user with internet access.
 * Everything is cached under `~/.cache/smart-home/terraform` and guarded by a lock file, so
 * concurrent callers share one unpacked 905 MB binary; `plugin_cache_dir` lets every
 * `terraform init` link to it instead of copying.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";

export interface TerraformProviders {
  /** Pass as `TF_CLI_CONFIG_FILE` to every terraform command. */
  readonly cliConfigFile: string;
  /** The provider versions to request (`terraform.required_providers`), e.g. `{ aws: "6.48.0", null: "3.3.1" }`. */
  readonly versions: { readonly aws: string; readonly null: string };
  /** Where the providers come from, for a script to say so. */
  readonly source: string;
}

const REPO_ROOT = resolve(__dirname, "..", "..");
/** The shared mirror beside the repo; `SMART_HOME_TERRAFORM_MIRROR` points elsewhere, `none` disables it. */
export const SHARED_MIRROR = process.env.SMART_HOME_TERRAFORM_MIRROR ?? resolve(REPO_ROOT, "..", "shared", "terraform-mirror");
const CACHE = join(process.env.SMART_HOME_CACHE ?? join(homedir(), ".cache", "smart-home"), "terraform");
const PLATFORM = "linux_amd64";

/** The versions the cdktf provider bindings pin: what a user with registry access gets. */
const PINNED = { aws: "6.25.0", null: "3.2.4" } as const;
/** The null provider's commit on the Go module proxy (main after 3.3.1), for machines without the mirror. */
const NULL_PSEUDO_VERSION = "v1.0.1-0.20260824155049-3827b35ad520";
const NULL_BUILT_VERSION = "3.3.1";

export function terraformProviders(): TerraformProviders {
  mkdirSync(CACHE, { recursive: true });
  return withLock(join(CACHE, ".lock"), () => {
    const mirrorDir = join(CACHE, "mirror");
    const pluginCache = join(CACHE, "plugin-cache");
    mkdirSync(pluginCache, { recursive: true });
    const shared = SHARED_MIRROR !== "none" && existsSync(SHARED_MIRROR) ? readdirSync(SHARED_MIRROR).filter((f) => f.endsWith(".zst")) : [];
    let versions: { aws: string; null: string };
    let source: string;
    let mirrored: string[];
    if (shared.length > 0) {
      versions = { aws: unpackShared(shared, "aws", mirrorDir), null: unpackShared(shared, "null", mirrorDir) };
      mirrored = ["hashicorp/aws", "hashicorp/null"];
      source = `providers from ${SHARED_MIRROR} (aws ${versions.aws}, null ${versions.null}; newer than the pinned aws ${PINNED.aws}, null ${PINNED.null})`;
    } else {
      buildNullProvider(mirrorDir);
      versions = { aws: PINNED.aws, null: NULL_BUILT_VERSION };
      mirrored = ["hashicorp/null"];
      source = `aws ${PINNED.aws} from the public registry, null ${NULL_BUILT_VERSION} built from the Go module proxy`;
    }
    const cliConfigFile = join(CACHE, `terraformrc-${mirrored.length}`);
    const include = JSON.stringify(mirrored.map((p) => `registry.terraform.io/${p}`));
    writeFileSync(
      cliConfigFile,
      [
        `plugin_cache_dir = ${JSON.stringify(pluginCache)}`,
        "provider_installation {",
        `  filesystem_mirror {\n    path    = ${JSON.stringify(mirrorDir)}\n    include = ${include}\n  }`,
        `  direct {\n    exclude = ${include}\n  }`,
        "}",
        "",
      ].join("\n"),
    );
    return { cliConfigFile, versions, source };
  });
}

function unpackShared(files: string[], name: "aws" | "null", mirrorDir: string): string {
  const file = files.find((f) => f.startsWith(`terraform-provider-${name}_`));
  if (!file) throw new Error(`${SHARED_MIRROR} has no terraform-provider-${name}_*.zst`);
  const version = /_(\d+\.\d+\.\d+)/.exec(file)?.[1];
  if (!version) throw new Error(`cannot read a version from ${file}`);
  const target = join(mirrorDir, "registry.terraform.io", "hashicorp", name, version, PLATFORM, `terraform-provider-${name}_v${version}`);
  const stamp = `${target}.from`;
  const origin = `${file} ${statSync(join(SHARED_MIRROR, file)).size}`;
  if (!existsSync(target) || !existsSync(stamp) || readFileSync(stamp, "utf8") !== origin) {
    mkdirSync(dirname(target), { recursive: true });
    const partial = `${target}.partial`;
    rmSync(partial, { force: true });
    execFileSync("zstd", ["-q", "-d", "--long=27", "-f", join(SHARED_MIRROR, file), "-o", partial], { stdio: "inherit" });
    execFileSync("chmod", ["0755", partial]);
    renameSync(partial, target);
    writeFileSync(stamp, origin);
  }
  return version;
}

function buildNullProvider(mirrorDir: string): void {
  const target = join(mirrorDir, "registry.terraform.io", "hashicorp", "null", NULL_BUILT_VERSION, PLATFORM, `terraform-provider-null_v${NULL_BUILT_VERSION}`);
  if (existsSync(target)) return;
  const module = join(CACHE, "null-provider-build");
  mkdirSync(module, { recursive: true });
  const upstream = "github.com/terraform-providers/terraform-provider-null";
  writeFileSync(
    join(module, "go.mod"),
    `module smarthome/nullprovider\n\ngo 1.24\n\nrequire ${upstream} ${NULL_PSEUDO_VERSION}\n\nreplace ${upstream} => github.com/hashicorp/terraform-provider-null ${NULL_PSEUDO_VERSION}\n`,
  );
  writeFileSync(join(module, "tools.go"), `//go:build tools\n\npackage tools\n\nimport _ "${upstream}"\n`);
  const env = { ...process.env, GOFLAGS: "-mod=mod" };
  execFileSync("go", ["mod", "tidy"], { cwd: module, stdio: "inherit", env });
  mkdirSync(dirname(target), { recursive: true });
  execFileSync("go", ["build", "-ldflags=-s -w", "-o", `${target}.partial`, upstream], { cwd: module, stdio: "inherit", env });
  renameSync(`${target}.partial`, target);
}

/** A cross-process lock: the first caller unpacks, the others wait for it. */
function withLock<T>(path: string, body: () => T): T {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(path, "utf8") || 0);
      if (holder && !isAlive(holder)) rmSync(path, { force: true });
      else if (Date.now() > deadline) throw new Error(`timed out waiting for ${path} (held by pid ${holder})`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return body();
  } finally {
    rmSync(path, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** sha256 of a file, for scripts that print what they used. */
export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

if (require.main === module) {
  const providers = terraformProviders();
  console.log(JSON.stringify(providers));
}
