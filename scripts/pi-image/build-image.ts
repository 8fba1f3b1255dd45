import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, constants, copyFileSync, mkdtempSync, rmSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import type { ClaimBundle } from "./claim-bundle";
import { BOOT_FILES, BOOT_FOLDER, metaData, networkConfig, userData } from "./cloud-init";
import { FatImage } from "./fat";
import { findBootPartition, type BootPartition } from "./partition-table";
import type { WifiNetwork } from "./wifi";

/** Where the agent finds what the first-boot hook and the release's install.sh put in place. */
const AGENT_PATHS = {
  /** The first-boot hook copies the CA here. */
  ca: "/etc/smart-home-agent/ca.pem",
  /** install.sh (pi-agent/release) installs the claim here, 0600, owned by the agent's user. */
  claimCertificate: "/etc/smart-home-agent/claim/claim.pem",
  claimKey: "/etc/smart-home-agent/claim/claim.key",
} as const;

export class ImageError extends Error {}

export interface ImageInput {
  /** A stock 64-bit Raspberry Pi OS (Trixie) Lite image; never changed. */
  readonly image: string;
  readonly out: string;
  /** The agent release tarball (`npm run build:agent`): one folder `smart-home-agent-<version>/` with install.sh. */
  readonly agentRelease: string;
  readonly claim: ClaimBundle;
  readonly project: string;
  readonly environment: string;
  readonly wifi?: WifiNetwork;
  /** The Ed25519 release public key (base64) the agents verify over-the-air updates with; without it they reject every update. */
  readonly releasePublicKey?: string;
}

export interface ImageResult {
  readonly out: string;
  readonly bootPartition: BootPartition;
  /** Paths on the boot partition that were written. */
  readonly written: readonly string[];
}

/** The agent's config for every Pi of the batch (fields of pi-agent/config.ts; the serial is the Pi's own). */
export function agentConfig(input: Pick<ImageInput, "claim" | "project" | "environment" | "releasePublicKey">) {
  return {
    endpoint: input.claim.endpoint,
    port: input.claim.port,
    caPath: AGENT_PATHS.ca,
    claim: { certificatePath: AGENT_PATHS.claimCertificate, privateKeyPath: AGENT_PATHS.claimKey },
    project: input.project,
    environment: input.environment,
    ...(input.releasePublicKey ? { release: { publicKey: input.releasePublicKey } } : {}),
  };
}

/**
 * Writes a flashable image: a copy of the stock image whose FAT boot partition holds the agent
 * release, the batch claim, the agent config, the first-boot hook and the cloud-init seed. The
 * copy is made next to `out` and renamed over it only when complete, so a refusal or failure
 * leaves `out` as it was.
 */
export function buildImage(input: ImageInput): ImageResult {
  if (resolve(input.image) === resolve(input.out)) throw new ImageError("--out must differ from --image: the stock image stays untouched");
  const bootPartition = findBootPartition(input.image);
  checkRelease(input.agentRelease);
  const stock = new FatImage(input.image, bootPartition.offsetBytes);
  const stockText = (name: string) => stock.read(name)?.toString("utf8") ?? "";
  const seed = { userData: userData(input.claim.batch, stockText("user-data")), metaData: metaData(`smart-home-${input.claim.batch}-${randomUUID()}`, stockText("meta-data")) };

  const staging = mkdtempSync(join(tmpdir(), "pi-image-"));
  const partial = join(dirname(resolve(input.out)), `.${basename(input.out)}.${process.pid}.partial`);
  try {
    const files = new Map<string, string | Buffer>([
      [`${BOOT_FOLDER}/${BOOT_FILES.claimCertificate}`, input.claim.certificatePem],
      [`${BOOT_FOLDER}/${BOOT_FILES.claimKey}`, input.claim.privateKeyPem],
      [`${BOOT_FOLDER}/${BOOT_FILES.ca}`, input.claim.caPem],
      [`${BOOT_FOLDER}/${BOOT_FILES.config}`, `${JSON.stringify(agentConfig(input), null, 2)}\n`],
      ["user-data", seed.userData],
      ["meta-data", seed.metaData],
    ]);
    if (input.wifi) files.set("network-config", networkConfig(input.wifi));
    const fromDisk = new Map([
      [`${BOOT_FOLDER}/${BOOT_FILES.release}`, input.agentRelease],
      [`${BOOT_FOLDER}/${BOOT_FILES.hook}`, join(__dirname, BOOT_FILES.hook)],
    ]);
    for (const [fatPath, content] of files) {
      const local = join(staging, fatPath.replace(/\//g, "_"));
      writeFileSync(local, content, { mode: 0o600 });
      fromDisk.set(fatPath, local);
    }

    copyFileSync(input.image, partial, constants.COPYFILE_FICLONE);
    // The image holds the batch's claim key: only its owner may read it.
    chmodSync(partial, 0o600);
    const fat = new FatImage(partial, bootPartition.offsetBytes);
    for (const [fatPath, local] of fromDisk) {
      try {
        fat.write(fatPath, local);
      } catch (error) {
        const stderr = String((error as { stderr?: Buffer }).stderr ?? "").trim();
        throw new ImageError(`cannot write ${fatPath} to the boot partition: ${stderr || (error as Error).message}`);
      }
    }
    renameSync(partial, input.out);
    return { out: input.out, bootPartition, written: [...fromDisk.keys()] };
  } finally {
    rmSync(partial, { force: true });
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The release must unpack to one `smart-home-agent-<version>/` folder holding install.sh. */
function checkRelease(tarball: string): void {
  try {
    if (!statSync(tarball).isFile()) throw new Error("not a file");
  } catch (error) {
    throw new ImageError(`--agent-release ${tarball}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let entries: string[];
  try {
    entries = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 26 }).split("\n").filter(Boolean);
  } catch {
    throw new ImageError(`--agent-release ${tarball} is not a gzip tar archive`);
  }
  const tops = new Set(entries.map((entry) => entry.replace(/^\.\//, "").split("/")[0]));
  const [top] = [...tops];
  if (tops.size !== 1 || !/^smart-home-agent-[^/]+$/.test(top ?? "") || !entries.some((entry) => entry.replace(/^\.\//, "") === `${top}/install.sh`)) {
    throw new ImageError(`--agent-release ${tarball} is not an agent release: expected one folder smart-home-agent-<version>/ with install.sh (npm run build:agent)`);
  }
}
