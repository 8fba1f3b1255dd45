export class ReleaseKeyError extends Error {}

/** The release public key an image carries, and where it came from (for pi:image's summary). */
export interface ImageReleaseKey {
  readonly publicKey?: string;
  readonly source: "config" | "--release-public-key" | "none";
}

/**
 * The environment's `fleet.releasePublicKey` is the one source; `--release-public-key` serves an
 * environment that has none yet (or the local platform). A flag that disagrees with the config is
 * refused: its devices would reject every release CI signs for this environment.
 */
export function imageReleaseKey(flag: string | undefined, configured: string | undefined, environment: string): ImageReleaseKey {
  if (flag !== undefined && configured !== undefined && flag !== configured) {
    throw new ReleaseKeyError(
      `--release-public-key ${flag} is not environment ${environment}'s fleet.releasePublicKey (${configured}): its devices would reject every release signed for ${environment}; leave the flag out`,
    );
  }
  if (configured !== undefined) return { publicKey: configured, source: "config" };
  if (flag !== undefined) return { publicKey: flag, source: "--release-public-key" };
  return { source: "none" };
}
