import { mkdtempSync } from "node:fs";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openCertificateAuthority, type CertificateAuthority } from "../../local/certificate-authority";
import { FleetProvisioning } from "../../local/fleet-provisioning";
import { startIotBroker } from "../../local/iot-broker";
import { IotRegistry } from "../../local/iot-registry";

/** The broker's TCP front: the quick-ACK relay, or a direct listener where python3 is missing. */
let authority: CertificateAuthority;
beforeAll(async () => {
  authority = await openCertificateAuthority(mkdtempSync(join(tmpdir(), "ca-")));
});

async function handshake(port: number): Promise<boolean> {
  const device = await authority.issue();
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, servername: "localhost", ca: authority.caPem, cert: device.certificatePem, key: device.privateKeyPem }, () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

async function broker() {
  const registry = new IotRegistry("000000000000", "eu-west-1");
  const provisioning = new FleetProvisioning(registry, authority, { templateName: "t", templateArn: "arn", body: { Parameters: {}, Resources: {} }, hook: async () => ({ allowProvisioning: false }) }, 1000);
  return startIotBroker({ registry, authority, provisioning });
}

it("serves mutual TLS through the relay", async () => {
  const started = await broker();
  expect(await handshake(started.port)).toBe(true);
  await started.close();
});

it("serves directly, with a warning, where python3 is missing", async () => {
  const path = process.env.PATH;
  const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
  process.env.PATH = "/nonexistent";
  try {
    const started = await broker();
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/python3 is not available/));
    process.env.PATH = path;
    expect(await handshake(started.port)).toBe(true);
    await started.close();
  } finally {
    process.env.PATH = path;
    warn.mockRestore();
  }
});
