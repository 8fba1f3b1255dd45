import { createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import * as z from "zod/mini";

/**
 * Over-the-air releases of the Pi agent (issue: "the fleet updates itself"). One definition of the
 * IoT job document, the release's object key and the signature, used by the release script
 * (`npm run release:agent`), the agent's Jobs handler and the local platform.
 *
 * Trust: the agent runs a release only if its sha256 and an Ed25519 signature over
 * `releaseSigningMessage(version, sha256)` verify against the public key in the agent's config. The
 * private key lives in CI's secret store (or an operator's machine), never in the repo.
 */

/** `operation` of an agent update job; a device REJECTS a job whose operation it does not know. */
export const AGENT_UPDATE_OPERATION = "agent-update";

const sha256Hex = z.string().check(z.regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256"));
/** Semantic version without a leading v, e.g. 1.4.0 or 1.5.0-rc.1. */
export const agentVersionSchema = z.string().check(z.regex(/^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/, "must be a version like 1.4.0"));

/**
 * The job document. On AWS `url` is written as `${aws:iot:s3-presigned-url:https://s3.<region>.amazonaws.com/<bucket>/<key>}`
 * and IoT swaps in a presigned URL when the device fetches the document; the device sees an https URL.
 */
export const agentJobDocumentSchema = z.strictObject({
  operation: z.literal(AGENT_UPDATE_OPERATION),
  version: agentVersionSchema,
  url: z.string().check(z.minLength(1)),
  sha256: sha256Hex,
  /** Base64 Ed25519 signature over releaseSigningMessage(version, sha256). */
  signature: z.string().check(z.regex(/^[A-Za-z0-9+/]{86}==$/, "must be a base64 Ed25519 signature")),
});
export type AgentJobDocument = z.infer<typeof agentJobDocumentSchema>;

/** The bytes a release signature covers: the version is inside, so a signature cannot relabel another release. */
export function releaseSigningMessage(version: string, sha256: string): Buffer {
  return Buffer.from(`smart-home-agent-release\n${version}\n${sha256}\n`, "utf8");
}

export function signRelease(privateKey: KeyObject, version: string, sha256: string): string {
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error(`release signing key must be Ed25519, not ${privateKey.asymmetricKeyType}`);
  return sign(null, releaseSigningMessage(version, sha256), privateKey).toString("base64");
}

/**
 * The public key as the agent's config holds it: the raw 32-byte Ed25519 key in base64 (44
 * characters), short enough to read aloud and diff.
 */
export function releasePublicKeyToBase64(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: "jwk" });
  if (jwk.crv !== "Ed25519" || !jwk.x) throw new Error("release public key must be Ed25519");
  return Buffer.from(jwk.x, "base64url").toString("base64");
}

export function releasePublicKeyFromBase64(base64: string): KeyObject {
  const raw = Buffer.from(base64, "base64");
  if (raw.length !== 32) throw new Error("release public key must be 32 bytes of base64 (an Ed25519 key)");
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });
}

/** Why a value is not a release public key: the one wording the agent config, the environment config and the scripts share. */
export const RELEASE_PUBLIC_KEY_FORMAT = "must be the release public key as 44 characters of base64 (a raw 32-byte Ed25519 key: npm run release:agent prints it)";

/** True when `value` is a release public key in the form `releasePublicKeyToBase64` writes. */
export function isReleasePublicKeyBase64(value: string): boolean {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(value)) return false;
  try {
    releasePublicKeyFromBase64(value);
    return true;
  } catch {
    return false;
  }
}

/** True when `signature` is the release key's signature of this version and sha256. */
export function verifyReleaseSignature(publicKey: KeyObject, version: string, sha256: string, signature: string): boolean {
  return verify(null, releaseSigningMessage(version, sha256), publicKey, Buffer.from(signature, "base64"));
}

/** File name of a release tarball (pi-agent/build.ts writes it; the bucket keeps it under its version). */
export function agentReleaseFileName(version: string, arch = "arm64"): string {
  return `smart-home-agent-${version}-linux-${arch}.tar.gz`;
}

/** Where releases live in the release bucket; IAM grants (CI's upload, IoT's presigned downloads) stop at it. */
export const AGENT_RELEASE_KEY_PREFIX = "agent/";

/** Object key of a release in the release bucket. */
export function agentReleaseObjectKey(version: string, arch = "arm64"): string {
  return `${AGENT_RELEASE_KEY_PREFIX}${version}/${agentReleaseFileName(version, arch)}`;
}

/**
 * Every agent-release job id of an environment starts with it (`<project>-<environment>-agent-`):
 * job ids are unique per account and region, and environments may share an account, so IAM grants
 * (CreateJob, the presign role's trust) stop at one environment's jobs.
 */
export function agentReleaseJobPrefix(namePrefix: string): string {
  return `${namePrefix}-agent-`;
}

/** IoT job ids allow `[a-zA-Z0-9_-]`, 64 characters; one job per environment, release and attempt. */
export function agentReleaseJobId(namePrefix: string, version: string, attempt: string): string {
  const id = `${agentReleaseJobPrefix(namePrefix)}${version.replace(/[^a-zA-Z0-9_-]/g, "_")}-${attempt}`;
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(id)) throw new Error(`job id ${id} is not a valid IoT job id`);
  return id;
}
