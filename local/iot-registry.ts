import { randomBytes } from "node:crypto";
import type { IotPolicyDocument } from "../contracts/iot-policies";

export const CERTIFICATE_STATUSES = ["ACTIVE", "INACTIVE", "REVOKED", "PENDING_ACTIVATION"] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

export interface CertificateRecord {
  readonly certificateId: string;
  readonly certificatePem: string;
  status: CertificateStatus;
}

export interface ThingRecord {
  readonly thingName: string;
  readonly thingTypeName?: string;
  readonly groups: readonly string[];
  readonly attributes: Readonly<Record<string, string>>;
  /** Certificate ids attached to the thing. */
  readonly principals: Set<string>;
}

/** The AWS IoT registry, in memory: certificates, things, policies and what is attached to what. */
export class IotRegistry {
  readonly certificates = new Map<string, CertificateRecord>();
  readonly things = new Map<string, ThingRecord>();
  readonly policies = new Map<string, IotPolicyDocument>();
  private readonly attachedPolicies = new Map<string, Set<string>>();
  private readonly ownershipTokens = new Map<string, { certificateId: string; expiresAt: number }>();
  private readonly statusListeners: ((certificateId: string, status: CertificateStatus) => void)[] = [];

  constructor(
    readonly accountId: string,
    readonly region: string,
  ) {}

  certificateArn(certificateId: string): string {
    return `arn:aws:iot:${this.region}:${this.accountId}:cert/${certificateId}`;
  }

  addCertificate(certificateId: string, certificatePem: string, status: CertificateStatus): void {
    this.certificates.set(certificateId, { certificateId, certificatePem, status });
  }

  attachPolicy(policyName: string, certificateId: string): void {
    if (!this.policies.has(policyName)) throw new Error(`no IoT policy ${policyName}`);
    const attached = this.attachedPolicies.get(certificateId) ?? new Set<string>();
    attached.add(policyName);
    this.attachedPolicies.set(certificateId, attached);
  }

  policiesOf(certificateId: string): IotPolicyDocument[] {
    return [...(this.attachedPolicies.get(certificateId) ?? [])].map((name) => this.policies.get(name) as IotPolicyDocument);
  }

  /** The thing a connection acts as: attached to its certificate and named as its client id. */
  thingOf(certificateId: string, clientId: string): string | undefined {
    return this.things.get(clientId)?.principals.has(certificateId) ? clientId : undefined;
  }

  /** A token that lets RegisterThing claim a pending certificate until it expires. */
  issueOwnershipToken(certificateId: string, lifetimeMs: number): string {
    const token = randomBytes(48).toString("base64url");
    this.ownershipTokens.set(token, { certificateId, expiresAt: Date.now() + lifetimeMs });
    return token;
  }

  /** The certificate a token was issued for, if the token is known and unexpired. */
  certificateOfToken(token: string): string | undefined {
    const entry = this.ownershipTokens.get(token);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.ownershipTokens.delete(token);
      // As in IoT Core: a certificate never activated before its token expired is deleted.
      if (this.certificates.get(entry.certificateId)?.status === "PENDING_ACTIVATION") this.certificates.delete(entry.certificateId);
      return undefined;
    }
    return entry.certificateId;
  }

  redeemOwnershipToken(token: string): void {
    this.ownershipTokens.delete(token);
  }

  /** Principal ARNs attached to a thing; undefined when there is no such thing. */
  listThingPrincipals(thingName: string): string[] | undefined {
    const thing = this.things.get(thingName);
    return thing ? [...thing.principals].map((id) => this.certificateArn(id)) : undefined;
  }

  detachThingPrincipal(thingName: string, principalArn: string): void {
    this.things.get(thingName)?.principals.delete(principalArn.split("/").pop() ?? "");
  }

  /** false when the thing still has principals. */
  deleteThing(thingName: string): boolean {
    if (this.things.get(thingName)?.principals.size) return false;
    this.things.delete(thingName);
    return true;
  }

  /** false when there is no such certificate. */
  updateCertificate(certificateId: string, status: CertificateStatus): boolean {
    const certificate = this.certificates.get(certificateId);
    if (!certificate) return false;
    certificate.status = status;
    for (const listener of this.statusListeners) listener(certificateId, certificate.status);
    return true;
  }

  /** Called after every UpdateCertificate (the broker cuts connections of a certificate leaving ACTIVE). */
  onCertificateStatusChange(listener: (certificateId: string, status: CertificateStatus) => void): void {
    this.statusListeners.push(listener);
  }
}
