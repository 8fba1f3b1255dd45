import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { QoS } from "aws-crt/dist/native/mqtt";
import { IotIdentityClient } from "aws-iot-device-sdk-v2/dist/iotidentity/iotidentityclient";
import type * as model from "aws-iot-device-sdk-v2/dist/iotidentity/model";
import { KeyObject, webcrypto } from "node:crypto";
import { projectNames } from "../contracts/names";
import type { AgentConfig } from "./config";
import type { DeviceIdentity, IdentityStore, PendingCertificate } from "./identity";
import type { Logger } from "./log";
import { mqttConnection } from "./mqtt";

/**
 * Fleet provisioning by claim (https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html):
 * with the batch claim certificate, CreateCertificateFromCsr (the key is made here and never sent),
 * then RegisterThing with the serial. The answer names the thing; the template's DeviceConfiguration
 * carries the topic root. The agent loads this module only when it has no identity yet (first boot):
 * the X.509 library costs ~6 MB of RSS.
 */

/** IoT Core refused a request: `{statusCode, errorCode, errorMessage}` on `.../rejected`. */
export class ProvisioningRejected extends Error {
  constructor(
    readonly step: "CreateCertificateFromCsr" | "RegisterThing",
    readonly response: model.ErrorResponse,
  ) {
    super(`${step} rejected: ${response.statusCode} ${response.errorCode}: ${response.errorMessage}`);
  }

  /** The ownership token expired or is unknown: the certificate must be made again. */
  get tokenInvalid(): boolean {
    return this.response.errorCode === "InvalidCertificateOwnershipToken";
  }
}

/** No answer within this time: IoT Core answers in well under a second. */
const ANSWER_TIMEOUT_MS = 30_000;

export async function newCsr(): Promise<{ csrPem: string; privateKeyPem: string }> {
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: "CN=smart-home-device", keys, signingAlgorithm: algorithm });
  const privateKeyPem = KeyObject.from(keys.privateKey).export({ type: "pkcs8", format: "pem" }) as string;
  return { csrPem: csr.toString("pem"), privateKeyPem };
}

function ask<T>(
  step: ProvisioningRejected["step"],
  subscribe: (accepted: (error?: unknown, response?: T) => void, rejected: (error?: unknown, response?: model.ErrorResponse) => void) => Promise<unknown>,
  publish: () => Promise<unknown>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${step}: no answer within ${ANSWER_TIMEOUT_MS} ms`)), ANSWER_TIMEOUT_MS);
    const settle = (action: () => void) => {
      clearTimeout(timer);
      action();
    };
    subscribe(
      (error, response) => settle(() => (error || !response ? reject(error ?? new Error(`${step}: empty answer`)) : resolve(response))),
      (error, response) => settle(() => reject(error ?? new ProvisioningRejected(step, response!))),
    )
      .then(publish)
      .catch((error) => settle(() => reject(error)));
  });
}

/**
 * One provisioning attempt. A certificate left pending by an earlier attempt (crash, lost answer)
 * is registered with its saved token; if that token is refused, the pending certificate is dropped
 * and a new one is made in the same attempt.
 */
export async function provisionOnce(config: AgentConfig, store: IdentityStore, serial: string, claim: { certificatePem: string; privateKeyPem: string }, logger: Logger): Promise<DeviceIdentity> {
  const names = projectNames(config.project, config.environment);
  const templateName = names.provisioningTemplate;
  const connection = mqttConnection(config, claim, { clientId: `${names.provisioningClientPrefix}${serial.toLowerCase()}`, cleanSession: true });
  await connection.connect();
  const identity = new IotIdentityClient(connection);
  const qos = QoS.AtLeastOnce;
  try {
    const register = (pending: PendingCertificate) =>
      ask<model.RegisterThingResponse>(
        "RegisterThing",
        async (accepted, rejected) => {
          await identity.subscribeToRegisterThingAccepted({ templateName }, qos, accepted);
          await identity.subscribeToRegisterThingRejected({ templateName }, qos, rejected);
        },
        () => identity.publishRegisterThing({ templateName, certificateOwnershipToken: pending.certificateOwnershipToken, parameters: { SerialNumber: serial } }, qos),
      );
    const createCertificate = async (): Promise<PendingCertificate> => {
      const csr = await newCsr();
      const created = await ask<model.CreateCertificateFromCsrResponse>(
        "CreateCertificateFromCsr",
        async (accepted, rejected) => {
          await identity.subscribeToCreateCertificateFromCsrAccepted({}, qos, accepted);
          await identity.subscribeToCreateCertificateFromCsrRejected({}, qos, rejected);
        },
        () => identity.publishCreateCertificateFromCsr({ certificateSigningRequest: csr.csrPem }, qos),
      );
      const pending = { certificatePem: created.certificatePem!, privateKeyPem: csr.privateKeyPem, certificateOwnershipToken: created.certificateOwnershipToken!, createdAt: new Date().toISOString() };
      store.savePending(pending);
      logger.info("certificate created from CSR", { certificateId: created.certificateId });
      return pending;
    };

    let pending = store.loadPending();
    if (pending) logger.info("resuming registration of the certificate from an earlier attempt", { createdAt: pending.createdAt });
    else pending = await createCertificate();
    let registered: model.RegisterThingResponse;
    try {
      registered = await register(pending);
    } catch (error) {
      if (!(error instanceof ProvisioningRejected && error.tokenInvalid && store.loadPending())) throw error;
      logger.warn("the saved ownership token was refused (expired or used): creating a new certificate", { errorMessage: error.response.errorMessage });
      store.clearPending();
      pending = await createCertificate();
      registered = await register(pending);
    }
    const device: DeviceIdentity = {
      thingName: registered.thingName!,
      certificatePem: pending.certificatePem,
      privateKeyPem: pending.privateKeyPem,
      deviceConfiguration: (registered.deviceConfiguration ?? {}) as Record<string, string>,
    };
    store.save(device);
    return device;
  } finally {
    await connection.disconnect().catch(() => undefined);
  }
}
