import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { createHash, createPrivateKey, randomBytes, webcrypto, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomically } from "../pi-agent/files";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY_MS = 86_400_000;

export interface IssuedCertificate {
  readonly certificatePem: string;
  /** Only when the CA generated the key (CreateKeysAndCertificate); a CSR keeps it on the device. */
  readonly privateKeyPem?: string;
  /** As AWS IoT names certificates: the SHA-256 of the DER, 64 hex characters. */
  readonly certificateId: string;
}

export interface CertificateAuthority {
  readonly caPem: string;
  /** The broker's own certificate, for `localhost` and 127.0.0.1. */
  readonly server: { readonly certificatePem: string; readonly privateKeyPem: string };
  /** Issues a certificate for a CSR (checked first), or a new key pair. */
  issue(request?: { csrPem: string }): Promise<IssuedCertificate>;
}

/** The id AWS IoT gives a certificate. */
export function certificateIdOf(certificatePem: string): string {
  return createHash("sha256").update(new X509Certificate(certificatePem).raw).digest("hex");
}

/**
 * A local certificate authority standing in for the one AWS IoT uses: created at first start under
 * `stateDirectory` (keys mode 0600, written atomically), reused afterwards.
 */
export async function openCertificateAuthority(stateDirectory: string): Promise<CertificateAuthority> {
  mkdirSync(stateDirectory, { recursive: true, mode: 0o700 });
  const paths = {
    caCertificate: join(stateDirectory, "ca.pem"),
    caKey: join(stateDirectory, "ca.key"),
    serverCertificate: join(stateDirectory, "server.pem"),
    serverKey: join(stateDirectory, "server.key"),
  };
  if (!Object.values(paths).every((path) => existsSync(path))) await createAuthority(paths);

  const caCertificate = new x509.X509Certificate(readFileSync(paths.caCertificate, "utf8"));
  const caKey = await importPrivateKey(readFileSync(paths.caKey, "utf8"));

  const sign = async (subject: string, publicKey: x509.PublicKey | CryptoKey, extensions: x509.Extension[] = []) =>
    x509.X509CertificateGenerator.create({
      serialNumber: randomBytes(8).toString("hex"),
      subject,
      issuer: caCertificate.subject,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 365 * DAY_MS),
      publicKey,
      signingKey: caKey,
      signingAlgorithm: ALGORITHM,
      extensions,
    });

  return {
    caPem: caCertificate.toString("pem"),
    server: { certificatePem: readFileSync(paths.serverCertificate, "utf8"), privateKeyPem: readFileSync(paths.serverKey, "utf8") },
    async issue(request) {
      if (request) {
        const csr = new x509.Pkcs10CertificateRequest(request.csrPem);
        if (!(await csr.verify())) throw new Error("the CSR's signature does not verify");
        const certificatePem = (await sign("CN=AWS IoT Certificate", csr.publicKey)).toString("pem");
        return { certificatePem, certificateId: certificateIdOf(certificatePem) };
      }
      const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
      const certificatePem = (await sign("CN=AWS IoT Certificate", keys.publicKey as CryptoKey)).toString("pem");
      return { certificatePem, privateKeyPem: await exportPrivateKey(keys.privateKey as CryptoKey), certificateId: certificateIdOf(certificatePem) };
    },
  };
}

async function createAuthority(paths: { caCertificate: string; caKey: string; serverCertificate: string; serverKey: string }): Promise<void> {
  const caKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString("hex"),
    name: "CN=Smart-home local IoT CA",
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 10 * 365 * DAY_MS),
    keys: caKeys as CryptoKeyPair,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const serverKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString("hex"),
    subject: "CN=localhost",
    issuer: ca.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 10 * 365 * DAY_MS),
    publicKey: serverKeys.publicKey as CryptoKey,
    signingKey: caKeys.privateKey as CryptoKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: "dns", value: "localhost" },
        { type: "ip", value: "127.0.0.1" },
      ]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  // Keys first: a certificate on disk without its key would be reused and fail.
  writeFileAtomically(paths.caKey, await exportPrivateKey(caKeys.privateKey as CryptoKey), 0o600);
  writeFileAtomically(paths.serverKey, await exportPrivateKey(serverKeys.privateKey as CryptoKey), 0o600);
  writeFileAtomically(paths.serverCertificate, server.toString("pem"), 0o644);
  writeFileAtomically(paths.caCertificate, ca.toString("pem"), 0o644);
}

/** PKCS #8 PEM of a WebCrypto private key. */
export async function exportPrivateKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" }).export({ format: "pem", type: "pkcs8" }).toString();
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = createPrivateKey(pem).export({ format: "der", type: "pkcs8" });
  return webcrypto.subtle.importKey("pkcs8", der, ALGORITHM, false, ["sign"]);
}
