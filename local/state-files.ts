import { join } from "node:path";

/** Where a batch's claim certificate and key live in the local platform's state directory. */
export interface ClaimCredentials {
  readonly batch: string;
  readonly certificatePath: string;
  readonly privateKeyPath: string;
}

/** The file stem of a batch's claim certificate (`.pem`) and key (`.key`) in the state directory. */
export function localClaimName(batch: string): string {
  return `claim-${batch}`;
}

/** Where the local platform keeps an identity's certificate and private key. */
export function localIdentityFiles(stateDirectory: string, name: string): { certificatePath: string; privateKeyPath: string } {
  return { certificatePath: join(stateDirectory, `${name}.pem`), privateKeyPath: join(stateDirectory, `${name}.key`) };
}

/** Where the local platform keeps a batch's claim certificate and key, and its CA. */
export function localClaimFiles(stateDirectory: string, batch: string): ClaimCredentials & { caPath: string } {
  return { batch, ...localIdentityFiles(stateDirectory, localClaimName(batch)), caPath: localCaPath(stateDirectory) };
}

/** The local platform's CA certificate: what devices trust instead of Amazon Root CA 1. */
export function localCaPath(stateDirectory: string): string {
  return join(stateDirectory, "ca", "ca.pem");
}
