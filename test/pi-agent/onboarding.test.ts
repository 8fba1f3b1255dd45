import { iotidentity, mqtt } from "aws-iot-device-sdk-v2";
import { existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectNames } from "../../contracts/names";
import { startLocalPlatform, type LocalPlatform } from "../../local/platform";
import { Agent } from "../../pi-agent/agent";
import { IdentityStore } from "../../pi-agent/identity";
import { newCsr } from "../../pi-agent/provisioning";
import { connect, fileCredentials } from "../helpers/iot-device";
import { defaultConfig } from "../helpers/synth";
import { agentConfigFor, command, controllerFor, memoryLogger, registerSerials, revokeSerial, until, type Controller } from "./fixtures";

/**
 * The agent's onboarding against the local platform: real fleet provisioning through the real hook,
 * the real SDK over mutual TLS with certificates from the local CA.
 */
jest.setTimeout(60_000);

let platform: LocalPlatform;
let controller: Controller;
const names = projectNames(defaultConfig.project, defaultConfig.name);
const agents: Agent[] = [];

beforeAll(async () => {
  platform = await startLocalPlatform({ config: defaultConfig, stateDirectory: mkdtempSync(join(tmpdir(), "pi-agent-platform-")) });
  controller = await controllerFor(platform, names.topicRoot);
});

afterAll(async () => {
  await Promise.all(agents.map((agent) => agent.stop()));
  await controller.close();
  await platform.stop();
});

function track(agent: Agent): Agent {
  agents.push(agent);
  return agent;
}

describe("pi agent: onboarding by claim", () => {
  it("first boot provisions from a CSR, keeps its identity 0600, deletes the claim; a restart reuses the identity without the claim", async () => {
    await registerSerials(platform, "SN-AGENT-1");
    const config = agentConfigFor(platform, defaultConfig, { serial: "sn-agent-1" }); // any case: the agent sends the canonical form
    const certificatesBefore = platform.registry.certificates.size;
    const firstLog = memoryLogger();
    const first = new Agent(config, { logger: firstLog.logger });
    await first.start();
    expect(first.thingName).toBe("smarthome-dev-SN-AGENT-1");
    expect(platform.registry.certificates.size).toBe(certificatesBefore + 1);
    expect(existsSync(config.claim.certificatePath) || existsSync(config.claim.privateKeyPath)).toBe(false);
    const stateFiles = readdirSync(config.stateDirectory);
    expect(stateFiles).toContain("identity.json");
    expect(stateFiles.filter((file) => file.endsWith(".tmp"))).toEqual([]);
    for (const file of stateFiles) expect(statSync(join(config.stateDirectory, file)).mode & 0o777).toBe(0o600);

    await controller.send(first.thingName!, command("boot-1", "ping"));
    await until(() => controller.received.some((message) => message.payload.commandId === "boot-1"));
    await first.stop();

    const restart = track(new Agent(config, { logger: memoryLogger().logger }));
    await restart.start();
    expect(restart.thingName).toBe(first.thingName);
    expect(platform.registry.certificates.size).toBe(certificatesBefore + 1); // no new certificate: the claim was never used
    await controller.send(restart.thingName!, command("boot-2", "ping"));
    await until(() => controller.received.some((message) => message.payload.commandId === "boot-2"));
    expect(controller.received.find((message) => message.payload.commandId === "boot-2")).toMatchObject({ kind: "responses", thingName: "smarthome-dev-SN-AGENT-1", payload: { result: { pong: true } } });
  });

  it.each([
    ["an unknown serial", "SN-AGENT-NOBODY", async () => undefined],
    ["a revoked serial", "SN-AGENT-REVOKED", async () => {
      await registerSerials(platform, "SN-AGENT-REVOKED");
      await revokeSerial(platform, "SN-AGENT-REVOKED");
    }],
  ])("%s is refused with a clear log line and growing waits, never a tight loop", async (_name, serial, prepare) => {
    await prepare();
    const { logger, lines } = memoryLogger();
    const config = agentConfigFor(platform, defaultConfig, { serial, backoff: { initialMs: 100, maxMs: 10_000 } });
    const agent = new Agent(config, { logger });
    const started = agent.start();
    await new Promise((resume) => setTimeout(resume, 3000));
    await agent.stop();
    await started;
    const refusals = lines.filter((line) => line.level === "error" && line.message.startsWith(`serial ${serial} refused by fleet provisioning`));
    expect(refusals.length).toBeGreaterThanOrEqual(2);
    // Full jitter below 100·2^n ms: 3 s leave room for at most ~6 attempts plus their round trips.
    expect(refusals.length).toBeLessThanOrEqual(8);
    expect(refusals[0]).toMatchObject({ errorCode: "AccessDenied", step: "RegisterThing", attempt: 0 });
    expect(refusals.map((line) => line.attempt)).toEqual(refusals.map((_, index) => index));
    expect(agent.thingName).toBeUndefined();
    expect(existsSync(config.claim.certificatePath)).toBe(true); // the claim is kept until success
  });

  it("a crash between CreateCertificateFromCsr and RegisterThing resumes with the saved certificate on the next boot", async () => {
    await registerSerials(platform, "SN-AGENT-CRASH");
    const config = agentConfigFor(platform, defaultConfig, { serial: "SN-AGENT-CRASH" });
    // The first boot got as far as its certificate, then lost power: the pending certificate is on disk.
    const store = new IdentityStore(config.stateDirectory);
    const claimConnection = await connect(platform, fileCredentials(config.claim), `${names.provisioningClientPrefix}sn-agent-crash`);
    const identity = new iotidentity.IotIdentityClient(claimConnection);
    const csr = await newCsr();
    const created = await new Promise<iotidentity.model.CreateCertificateFromCsrResponse>((resolve, reject) => {
      void identity
        .subscribeToCreateCertificateFromCsrAccepted({}, mqtt.QoS.AtLeastOnce, (error, response) => (error ? reject(error) : resolve(response!)))
        .then(() => identity.publishCreateCertificateFromCsr({ certificateSigningRequest: csr.csrPem }, mqtt.QoS.AtLeastOnce));
    });
    await claimConnection.disconnect();
    require("node:fs").mkdirSync(config.stateDirectory, { recursive: true });
    store.savePending({ certificatePem: created.certificatePem!, privateKeyPem: csr.privateKeyPem, certificateOwnershipToken: created.certificateOwnershipToken!, createdAt: new Date().toISOString() });

    const { logger, lines } = memoryLogger();
    const agent = track(new Agent(config, { logger }));
    await agent.start();
    expect(agent.thingName).toBe("smarthome-dev-SN-AGENT-CRASH");
    expect(agent.identity!.certificatePem).toBe(created.certificatePem);
    expect(lines.some((line) => line.message === "resuming registration of the certificate from an earlier attempt")).toBe(true);
    expect(lines.some((line) => line.message === "certificate created from CSR")).toBe(false);
    expect(store.loadPending()).toBeUndefined();
  });

  it("a saved ownership token IoT Core no longer accepts (expired) is replaced by a new certificate in the same attempt", async () => {
    await registerSerials(platform, "SN-AGENT-STALE");
    const config = agentConfigFor(platform, defaultConfig, { serial: "SN-AGENT-STALE" });
    require("node:fs").mkdirSync(config.stateDirectory, { recursive: true });
    const stale = await newCsr();
    new IdentityStore(config.stateDirectory).savePending({ certificatePem: "-----BEGIN CERTIFICATE-----\nstale\n-----END CERTIFICATE-----\n", privateKeyPem: stale.privateKeyPem, certificateOwnershipToken: "expired-token", createdAt: "2026-01-01T00:00:00Z" });
    const { logger, lines } = memoryLogger();
    const agent = track(new Agent(config, { logger }));
    await agent.start();
    expect(agent.thingName).toBe("smarthome-dev-SN-AGENT-STALE");
    expect(agent.identity!.certificatePem).not.toContain("stale");
    expect(lines.filter((line) => line.message.startsWith("the saved ownership token was refused"))).toHaveLength(1);
    expect(lines.filter((line) => line.level === "error")).toEqual([]);
  });
});
