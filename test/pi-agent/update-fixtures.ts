import { execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AGENT_UPDATE_OPERATION, agentReleaseFileName, releasePublicKeyToBase64, signRelease, type AgentJobDocument } from "../../contracts/agent-release";

/** An Ed25519 release key pair as CI holds the private half and the agent's config the public one. */
export function releaseKeys(): { privateKey: KeyObject; publicKeyBase64: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKeyBase64: releasePublicKeyToBase64(publicKey) };
}

export function sha256Of(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** The job document `npm run release:agent` creates, for a tarball served at `url`. */
export function signedJobDocument(privateKey: KeyObject, version: string, url: string, sha256: string): AgentJobDocument {
  return { operation: AGENT_UPDATE_OPERATION, version, url, sha256, signature: signRelease(privateKey, version, sha256) };
}

/**
 * A tarball of the release layout (one `smart-home-agent-<version>-linux-x64/` folder with VERSION,
 * bin/node, lib/agent.js) whose programs are placeholders: for the unit tests of download, verify
 * and install, which never run it. The end-to-end tests build real releases (pi-agent/build.ts).
 */
export function placeholderReleaseTarball(version: string, options: { versionFile?: string } = {}): string {
  const work = mkdtempSync(join(tmpdir(), "placeholder-release-"));
  const root = join(work, `smart-home-agent-${version}-linux-x64`);
  mkdirSync(join(root, "bin"), { recursive: true });
  mkdirSync(join(root, "lib"));
  writeFileSync(join(root, "VERSION"), `${options.versionFile ?? version}\n`);
  writeFileSync(join(root, "bin", "node"), "#!/bin/sh\n", { mode: 0o755 });
  writeFileSync(join(root, "lib", "agent.js"), `// agent ${version}\n`);
  const tarball = join(work, agentReleaseFileName(version, "x64"));
  execFileSync("tar", ["-czf", tarball, "-C", work, `smart-home-agent-${version}-linux-x64`]);
  return tarball;
}
