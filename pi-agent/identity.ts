import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomically } from "./files";

/** The device's own identity, once fleet provisioning registered it. */
export interface DeviceIdentity {
  readonly thingName: string;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** The template's DeviceConfiguration, e.g. `{ topicRoot }`. */
  readonly deviceConfiguration: Record<string, string>;
}

/**
 * A certificate created from the device's CSR whose RegisterThing has not been accepted yet. Kept
 * so that a crash between the two steps resumes with the same key and token; IoT Core gives a
 * token one hour, after which the next boot starts over with a new key.
 */
export interface PendingCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  readonly certificateOwnershipToken: string;
  readonly createdAt: string;
}

/**
 * The files in the state directory. Every one is written whole (temp + fsync + rename) with mode
 * 0600; the identity file is written last, so its presence means the device is provisioned.
 */
export class IdentityStore {
  constructor(private readonly directory: string) {}

  private get identityFile() {
    return join(this.directory, "identity.json");
  }
  private get pendingFile() {
    return join(this.directory, "pending-certificate.json");
  }

  load(): DeviceIdentity | undefined {
    return existsSync(this.identityFile) ? (JSON.parse(readFileSync(this.identityFile, "utf8")) as DeviceIdentity) : undefined;
  }

  save(identity: DeviceIdentity): void {
    writeFileAtomically(this.identityFile, JSON.stringify(identity));
    this.clearPending();
  }

  loadPending(): PendingCertificate | undefined {
    return existsSync(this.pendingFile) ? (JSON.parse(readFileSync(this.pendingFile, "utf8")) as PendingCertificate) : undefined;
  }

  savePending(pending: PendingCertificate): void {
    writeFileAtomically(this.pendingFile, JSON.stringify(pending));
  }

  clearPending(): void {
    rmSync(this.pendingFile, { force: true });
  }
}
