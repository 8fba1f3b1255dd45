import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fleetProvisioningTopics } from "../../contracts/topics";
import { openCertificateAuthority, type CertificateAuthority } from "../../local/certificate-authority";
import { FleetProvisioning } from "../../local/fleet-provisioning";
import { IotRegistry } from "../../local/iot-registry";
import { newCsr } from "../helpers/iot-device";

/** The provisioning API's answers and error shapes, without a broker in between. */
let authority: CertificateAuthority;
beforeAll(async () => {
  authority = await openCertificateAuthority(mkdtempSync(join(tmpdir(), "ca-")));
});

function api(options: { tokenLifetimeMs?: number; allow?: boolean } = {}) {
  const registry = new IotRegistry("000000000000", "eu-west-1");
  registry.policies.set("device", { Version: "2012-10-17", Statement: [] });
  const hookEvents: unknown[] = [];
  const provisioning = new FleetProvisioning(
    registry,
    authority,
    {
      templateName: "tmpl",
      templateArn: "arn:aws:iot:eu-west-1:000000000000:provisioningtemplate/tmpl",
      body: {
        Parameters: { SerialNumber: { Type: "String" } },
        Resources: {
          thing: { Type: "AWS::IoT::Thing", Properties: { ThingName: { "Fn::Join": ["", ["p-", { Ref: "SerialNumber" }]] } }, OverrideSettings: { AttributePayload: "FAIL" } },
          certificate: { Type: "AWS::IoT::Certificate", Properties: { CertificateId: { Ref: "AWS::IoT::Certificate::Id" }, Status: "ACTIVE" } },
          policy: { Type: "AWS::IoT::Policy", Properties: { PolicyName: "device" } },
        },
        DeviceConfiguration: { topicRoot: "t" },
      },
      hook: async (event) => {
        hookEvents.push(event);
        return { allowProvisioning: options.allow ?? true, parameterOverrides: {} };
      },
    },
    options.tokenLifetimeMs ?? 3_600_000,
  );
  const ask = (topic: string, payload: unknown) =>
    provisioning.answer({ topic, payload: Buffer.from(typeof payload === "string" ? payload : JSON.stringify(payload)), clientId: "c", certificateId: "claim-id" });
  return { registry, ask, hookEvents };
}

describe("fleet provisioning API", () => {
  it("CreateCertificateFromCsr answers certificate, id and token; the certificate waits for activation", async () => {
    const { ask, registry } = api();
    const answer = await ask(fleetProvisioningTopics.createCertificateFromCsr, { certificateSigningRequest: (await newCsr()).csrPem });
    expect(answer.topic).toBe("$aws/certificates/create-from-csr/json/accepted");
    expect(Object.keys(answer.payload).sort()).toEqual(["certificateId", "certificateOwnershipToken", "certificatePem"]);
    expect(registry.certificates.get(answer.payload.certificateId as string)?.status).toBe("PENDING_ACTIVATION");
  });

  it("RegisterThing calls the hook with AWS's event, creates the thing and activates the certificate", async () => {
    const { ask, registry, hookEvents } = api();
    const created = await ask(fleetProvisioningTopics.createKeysAndCertificate, "");
    const registered = await ask(fleetProvisioningTopics.registerThing("tmpl"), { certificateOwnershipToken: created.payload.certificateOwnershipToken, parameters: { SerialNumber: "SN1" } });
    expect(registered).toEqual({ topic: "$aws/provisioning-templates/tmpl/provision/json/accepted", payload: { thingName: "p-SN1", deviceConfiguration: { topicRoot: "t" } } });
    expect(hookEvents).toEqual([
      {
        claimCertificateId: "claim-id",
        certificateId: created.payload.certificateId,
        certificatePem: created.payload.certificatePem,
        templateArn: "arn:aws:iot:eu-west-1:000000000000:provisioningtemplate/tmpl",
        clientId: "c",
        parameters: { SerialNumber: "SN1" },
      },
    ]);
    expect(registry.certificates.get(created.payload.certificateId as string)?.status).toBe("ACTIVE");
    expect(registry.things.get("p-SN1")?.principals.has(created.payload.certificateId as string)).toBe(true);
  });

  it.each([
    ["an empty token", { certificateOwnershipToken: "" }, { statusCode: 400, errorCode: "InvalidCertificateOwnershipToken", errorMessage: "Certificate ownership token cannot be empty." }],
    ["an unknown token", { certificateOwnershipToken: "nope" }, { statusCode: 400, errorCode: "InvalidCertificateOwnershipToken", errorMessage: expect.any(String) }],
    ["a payload that is not JSON", "{", { statusCode: 400, errorCode: "InvalidPayload", errorMessage: expect.any(String) }],
  ])("RegisterThing with %s is rejected with IoT Core's error shape", async (_name, payload, expected) => {
    const { ask } = api();
    expect(await ask(fleetProvisioningTopics.registerThing("tmpl"), payload)).toEqual({ topic: "$aws/provisioning-templates/tmpl/provision/json/rejected", payload: expected });
  });

  it("an ownership token expires (shorter lifetimes for tests), and the unclaimed certificate is deleted", async () => {
    const { ask, registry } = api({ tokenLifetimeMs: 1 });
    const created = await ask(fleetProvisioningTopics.createKeysAndCertificate, "");
    await new Promise((resume) => setTimeout(resume, 5));
    const answer = await ask(fleetProvisioningTopics.registerThing("tmpl"), { certificateOwnershipToken: created.payload.certificateOwnershipToken, parameters: { SerialNumber: "SN2" } });
    expect(answer.payload).toMatchObject({ statusCode: 400, errorCode: "InvalidCertificateOwnershipToken" });
    expect(registry.certificates.has(created.payload.certificateId as string)).toBe(false);
  });

  it("a hook denial is AccessDenied (403), and an existing thing is never taken over (409)", async () => {
    const denied = api({ allow: false });
    const created = await denied.ask(fleetProvisioningTopics.createKeysAndCertificate, "");
    expect((await denied.ask(fleetProvisioningTopics.registerThing("tmpl"), { certificateOwnershipToken: created.payload.certificateOwnershipToken, parameters: { SerialNumber: "SN3" } })).payload).toMatchObject({ statusCode: 403, errorCode: "AccessDenied" });

    const { ask } = api();
    for (const expected of [{ thingName: "p-SN4" }, { statusCode: 409, errorCode: "ResourceConflictsException" }]) {
      const certificate = await ask(fleetProvisioningTopics.createKeysAndCertificate, "");
      expect((await ask(fleetProvisioningTopics.registerThing("tmpl"), { certificateOwnershipToken: certificate.payload.certificateOwnershipToken, parameters: { SerialNumber: "SN4" } })).payload).toMatchObject(expected);
    }
  });

  it("another template, a bad CSR: rejected", async () => {
    const { ask } = api();
    expect((await ask(fleetProvisioningTopics.registerThing("other"), {})).payload).toMatchObject({ statusCode: 404, errorCode: "ResourceNotFound" });
    expect((await ask(fleetProvisioningTopics.createCertificateFromCsr, { certificateSigningRequest: "not a csr" })).payload).toMatchObject({ statusCode: 400, errorCode: "InvalidCertificateSigningRequest" });
  });
});
