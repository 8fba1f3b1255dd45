import { CERTIFICATE_ID_PARAMETER } from "../contracts/provisioning-template";
import { fleetProvisioningTopics } from "../contracts/topics";
import type { CertificateAuthority } from "./certificate-authority";
import type { IotRegistry } from "./iot-registry";

/**
 * AWS IoT's fleet provisioning MQTT API (JSON): CreateKeysAndCertificate, CreateCertificateFromCsr
 * and RegisterThing, with IoT Core's payloads and `{statusCode, errorCode, errorMessage}` errors.
 */
export interface ProvisioningTemplate {
  readonly templateName: string;
  readonly templateArn: string;
  /** The template body with every Terraform reference resolved. */
  readonly body: {
    Parameters: Record<string, { Type: string }>;
    Resources: Record<string, { Type: string; Properties: Record<string, any>; OverrideSettings?: Record<string, string> }>;
    DeviceConfiguration?: Record<string, string>;
  };
  /** The pre-provisioning hook: the real handler from functions/. */
  readonly hook: (event: unknown) => Promise<HookAnswer>;
}

/** What a pre-provisioning hook answers (AWS IoT developer guide, "Pre-provisioning hooks"). */
interface HookAnswer {
  readonly allowProvisioning: boolean;
  readonly parameterOverrides?: Readonly<Record<string, string>>;
}

export interface ProvisioningRequest {
  readonly topic: string;
  readonly payload: Buffer;
  readonly clientId: string;
  /** The claim certificate the requesting connection authenticated with. */
  readonly certificateId: string;
}

export interface ProvisioningAnswer {
  readonly topic: string;
  readonly payload: Record<string, unknown>;
}

class Rejection extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

export class FleetProvisioning {
  constructor(
    private readonly registry: IotRegistry,
    private readonly authority: CertificateAuthority,
    private readonly template: ProvisioningTemplate,
    private readonly ownershipTokenLifetimeMs: number,
  ) {}

  /** True for a request topic this API answers (the template's RegisterThing and the two certificate calls). */
  handles(topic: string): boolean {
    return (
      topic === fleetProvisioningTopics.createKeysAndCertificate ||
      topic === fleetProvisioningTopics.createCertificateFromCsr ||
      topic === fleetProvisioningTopics.registerThing(this.template.templateName)
    );
  }

  async answer(request: ProvisioningRequest): Promise<ProvisioningAnswer> {
    try {
      return { topic: `${request.topic}/accepted`, payload: await this.accept(request) };
    } catch (error) {
      const rejection = error instanceof Rejection ? error : new Rejection(500, "InternalFailure", (error as Error).message);
      return { topic: `${request.topic}/rejected`, payload: { statusCode: rejection.statusCode, errorCode: rejection.errorCode, errorMessage: rejection.message } };
    }
  }

  private async accept(request: ProvisioningRequest): Promise<Record<string, unknown>> {
    const body = parseJson(request.payload);
    if (request.topic === fleetProvisioningTopics.createKeysAndCertificate) {
      const issued = await this.authority.issue();
      this.registry.addCertificate(issued.certificateId, issued.certificatePem, "PENDING_ACTIVATION");
      return {
        certificateId: issued.certificateId,
        certificatePem: issued.certificatePem,
        privateKey: issued.privateKeyPem,
        certificateOwnershipToken: this.registry.issueOwnershipToken(issued.certificateId, this.ownershipTokenLifetimeMs),
      };
    }
    if (request.topic === fleetProvisioningTopics.createCertificateFromCsr) {
      const csr = typeof body.certificateSigningRequest === "string" ? body.certificateSigningRequest : "";
      if (!csr) throw new Rejection(400, "InvalidPayload", "certificateSigningRequest is required");
      const issued = await this.authority.issue({ csrPem: csr }).catch((error: Error) => {
        throw new Rejection(400, "InvalidCertificateSigningRequest", error.message);
      });
      this.registry.addCertificate(issued.certificateId, issued.certificatePem, "PENDING_ACTIVATION");
      return {
        certificateId: issued.certificateId,
        certificatePem: issued.certificatePem,
        certificateOwnershipToken: this.registry.issueOwnershipToken(issued.certificateId, this.ownershipTokenLifetimeMs),
      };
    }
    if (request.topic === fleetProvisioningTopics.registerThing(this.template.templateName)) return this.registerThing(body, request);
    throw new Rejection(404, "ResourceNotFound", `no provisioning API or template for ${request.topic}`);
  }

  private async registerThing(body: Record<string, unknown>, request: ProvisioningRequest): Promise<Record<string, unknown>> {
    const token = body.certificateOwnershipToken;
    if (typeof token !== "string" || token === "") throw new Rejection(400, "InvalidCertificateOwnershipToken", "Certificate ownership token cannot be empty.");
    const certificateId = this.registry.certificateOfToken(token);
    if (!certificateId) throw new Rejection(400, "InvalidCertificateOwnershipToken", "Certificate ownership token is invalid or has expired.");
    const rawParameters = body.parameters ?? {};
    if (typeof rawParameters !== "object" || Array.isArray(rawParameters) || Object.values(rawParameters).some((value) => typeof value !== "string")) {
      throw new Rejection(400, "InvalidParameters", "parameters must map names to strings");
    }
    const certificate = this.registry.certificates.get(certificateId)!;
    const answer = await this.template
      .hook({
        claimCertificateId: request.certificateId,
        certificateId,
        certificatePem: certificate.certificatePem,
        templateArn: this.template.templateArn,
        clientId: request.clientId,
        parameters: rawParameters,
      })
      .catch((): HookAnswer => ({ allowProvisioning: false }));
    if (answer.allowProvisioning !== true) throw new Rejection(403, "AccessDenied", "Provisioning request is denied by the pre-provisioning hook.");
    const parameters: Record<string, string> = {
      ...(rawParameters as Record<string, string>),
      ...answer.parameterOverrides,
      [CERTIFICATE_ID_PARAMETER]: certificateId,
    };
    const thingName = this.applyTemplate(parameters, certificateId);
    this.registry.redeemOwnershipToken(token);
    return { thingName, deviceConfiguration: this.template.body.DeviceConfiguration ?? {} };
  }

  /** Creates what the template describes; every check comes before any change. */
  private applyTemplate(parameters: Record<string, string>, certificateId: string): string {
    const evaluate = (value: unknown): any => {
      if (Array.isArray(value)) return value.map(evaluate);
      if (value && typeof value === "object") {
        const entries = Object.entries(value as Record<string, unknown>);
        const [key, argument] = entries[0] ?? [];
        if (entries.length === 1 && key === "Ref") {
          const resolved = parameters[argument as string];
          if (resolved === undefined) throw new Rejection(400, "InvalidParameters", `missing template parameter ${argument}`);
          return resolved;
        }
        if (entries.length === 1 && key === "Fn::Join") {
          const [separator, parts] = argument as [string, unknown[]];
          return (parts.map(evaluate) as string[]).join(separator);
        }
        return Object.fromEntries(entries.map(([name, inner]) => [name, evaluate(inner)]));
      }
      return value;
    };
    const resources = Object.values(this.template.body.Resources);
    const thing = resources.find((resource) => resource.Type === "AWS::IoT::Thing");
    const policy = resources.find((resource) => resource.Type === "AWS::IoT::Policy");
    const certificate = resources.find((resource) => resource.Type === "AWS::IoT::Certificate");
    if (!thing || !policy || !certificate) throw new Error("the template needs a thing, a certificate and a policy");
    const thingProperties = evaluate(thing.Properties) as { ThingName: string; ThingTypeName?: string; ThingGroups?: string[]; AttributePayload?: Record<string, string> };
    const policyName = evaluate(policy.Properties).PolicyName as string;
    if (this.registry.things.has(thingProperties.ThingName) && Object.values(thing.OverrideSettings ?? {}).includes("FAIL")) {
      throw new Rejection(409, "ResourceConflictsException", `thing ${thingProperties.ThingName} already exists`);
    }
    const existing = this.registry.things.get(thingProperties.ThingName);
    const record = existing ?? {
      thingName: thingProperties.ThingName,
      thingTypeName: thingProperties.ThingTypeName,
      groups: thingProperties.ThingGroups ?? [],
      attributes: thingProperties.AttributePayload ?? {},
      principals: new Set<string>(),
    };
    this.registry.things.set(record.thingName, record);
    this.registry.certificates.get(certificateId)!.status = evaluate(certificate.Properties).Status === "INACTIVE" ? "INACTIVE" : "ACTIVE";
    this.registry.attachPolicy(policyName, certificateId);
    record.principals.add(certificateId);
    return record.thingName;
  }
}

function parseJson(payload: Buffer): Record<string, unknown> {
  if (payload.length === 0) return {};
  try {
    const parsed = JSON.parse(payload.toString("utf8"));
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new Rejection(400, "InvalidPayload", "the payload is not a JSON object");
}
