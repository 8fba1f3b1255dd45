import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { iot, iotidentity, mqtt } from "aws-iot-device-sdk-v2";
import { readFileSync } from "node:fs";
import { webcrypto } from "node:crypto";
import { exportPrivateKey } from "../certificate-authority";
import type { LocalPlatform } from "../platform";

/**
 * A device (or controller) as the real SDK client sees it: MQTT 3.1.1 over mutual TLS to the local
 * IoT Core, built exactly as for AWS IoT Core but for endpoint, port and CA.
 */
export interface Credentials {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export async function connect(platform: LocalPlatform, credentials: Credentials, clientId: string): Promise<mqtt.MqttClientConnection> {
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(credentials.certificatePem, credentials.privateKeyPem)
    .with_certificate_authority(readFileSync(platform.mqtt.caPath, "utf8"))
    .with_endpoint("localhost")
    .with_port(platform.mqtt.port)
    .with_client_id(clientId)
    .with_clean_session(true)
    .with_keep_alive_seconds(30)
    .build();
  const connection = new mqtt.MqttClient().new_connection(config);
  await connection.connect();
  return connection;
}

export function fileCredentials(paths: { certificatePath: string; privateKeyPath: string }): Credentials {
  return { certificatePem: readFileSync(paths.certificatePath, "utf8"), privateKeyPem: readFileSync(paths.privateKeyPath, "utf8") };
}

export class ProvisioningRejected extends Error {
  constructor(readonly response: iotidentity.model.ErrorResponse) {
    super(`${response.statusCode} ${response.errorCode}: ${response.errorMessage}`);
  }
}

/** A CSR and its private key, generated here as a Pi would (the key never leaves the device). */
export async function newCsr(): Promise<{ csrPem: string; privateKeyPem: string }> {
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: "CN=device", keys, signingAlgorithm: algorithm });
  return { csrPem: csr.toString("pem"), privateKeyPem: await exportPrivateKey(keys.privateKey) };
}

/** One request/response of the fleet provisioning API: subscribe to both answers, then publish. */
function ask<T>(
  subscribe: (accepted: (error?: unknown, response?: T) => void, rejected: (error?: unknown, response?: iotidentity.model.ErrorResponse) => void) => Promise<unknown>,
  publish: () => Promise<unknown>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    subscribe(
      (error, response) => (error || !response ? reject(error) : resolve(response)),
      (error, response) => reject(error ?? new ProvisioningRejected(response!)),
    )
      .then(publish)
      .catch(reject);
  });
}

/**
 * Fleet provisioning by claim, as the Pi agent does it: connect with the claim certificate, get a
 * certificate (from a CSR, or keys from IoT), register the thing with the serial.
 */
export async function provision(
  platform: LocalPlatform,
  options: { serial: string; claim?: Credentials; useCsr?: boolean; clientId?: string },
): Promise<Credentials & { thingName: string; deviceConfiguration: Record<string, string> }> {
  const claim = options.claim ?? fileCredentials(platform.claims[0]!);
  const connection = await connect(platform, claim, options.clientId ?? `provisioning-smarthome-dev-${options.serial.toLowerCase()}`);
  const identity = new iotidentity.IotIdentityClient(connection);
  const qos = mqtt.QoS.AtLeastOnce;
  try {
    let certificatePem: string;
    let privateKeyPem: string;
    let token: string;
    if (options.useCsr ?? true) {
      const csr = await newCsr();
      const created = await ask<iotidentity.model.CreateCertificateFromCsrResponse>(
        async (accepted, rejected) => {
          await identity.subscribeToCreateCertificateFromCsrAccepted({}, qos, accepted);
          await identity.subscribeToCreateCertificateFromCsrRejected({}, qos, rejected);
        },
        () => identity.publishCreateCertificateFromCsr({ certificateSigningRequest: csr.csrPem }, qos),
      );
      certificatePem = created.certificatePem!;
      privateKeyPem = csr.privateKeyPem;
      token = created.certificateOwnershipToken!;
    } else {
      const created = await ask<iotidentity.model.CreateKeysAndCertificateResponse>(
        async (accepted, rejected) => {
          await identity.subscribeToCreateKeysAndCertificateAccepted({}, qos, accepted);
          await identity.subscribeToCreateKeysAndCertificateRejected({}, qos, rejected);
        },
        () => identity.publishCreateKeysAndCertificate({}, qos),
      );
      certificatePem = created.certificatePem!;
      privateKeyPem = created.privateKey!;
      token = created.certificateOwnershipToken!;
    }
    const templateName = platform.provisioningTemplate;
    const registered = await ask<iotidentity.model.RegisterThingResponse>(
      async (accepted, rejected) => {
        await identity.subscribeToRegisterThingAccepted({ templateName }, qos, accepted);
        await identity.subscribeToRegisterThingRejected({ templateName }, qos, rejected);
      },
      () => identity.publishRegisterThing({ templateName, certificateOwnershipToken: token, parameters: { SerialNumber: options.serial } }, qos),
    );
    return { certificatePem, privateKeyPem, thingName: registered.thingName!, deviceConfiguration: (registered.deviceConfiguration ?? {}) as Record<string, string> };
  } finally {
    await connection.disconnect();
  }
}
