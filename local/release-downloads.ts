import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { CertificateAuthority } from "./certificate-authority";

/**
 * The release bucket's downloads, as a device sees them on AWS: objects behind expiring presigned
 * HTTPS URLs. On AWS, IoT Jobs swaps a `${aws:iot:s3-presigned-url:<S3 URL>}` placeholder in a job
 * document for a URL presigned with the job's presign role when a device fetches the document
 * (reference/iot-jobs-sessions-delivery.md §2); here the jobs stand-in asks this server for one.
 *
 * Served over HTTPS with the local CA's server certificate (`localhost`, 127.0.0.1), so a device
 * trusts it with the same CA file it uses for MQTT. A URL carries its expiry and an HMAC-SHA256 of
 * key and expiry under a key that never leaves this process: an expired URL, an altered key, expiry
 * or signature, or a key with no object is answered 403, as S3 answers a presigned GET whose signer
 * may not list the bucket (S3 "GetObject" permissions: without s3:ListBucket a missing key is 403
 * AccessDenied, https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html). Only GET and
 * HEAD are served.
 */
export interface ReleaseDownloads {
  /** Origin of the server, e.g. https://localhost:43127. */
  readonly origin: string;
  /** Stores an object (what `s3:PutObject` does for the release script); replaces one with the same key. */
  put(key: string, body: Uint8Array): { readonly sha256: string; readonly size: number };
  /** True when an object is stored under the key. */
  has(key: string): boolean;
  /**
   * A URL that downloads the object until `expiresInSec` seconds from now: 1 s to 7 days, as a
   * SigV4 presigned S3 URL (`X-Amz-Expires`). IoT Jobs itself asks for 60-3600 s
   * (`presignedUrlConfig.expiresInSec`, PRESIGNED_URL_EXPIRY_SECONDS).
   */
  presign(key: string, expiresInSec?: number): string;
  /**
   * The object key of an S3 URL as a job document's presign placeholder names it: path style
   * `https://s3[.<region>].amazonaws.com/<bucket>/<key>` or virtual-hosted
   * `https://<bucket>.s3[.<region>].amazonaws.com/<key>`. The bucket is not checked: locally there is one.
   */
  keyOfS3Url(url: string): string;
  close(): Promise<void>;
}

/** IoT Jobs' presignedUrlConfig.expiresInSec bounds (https://docs.aws.amazon.com/iot/latest/apireference/API_PresignedUrlConfig.html). */
export const PRESIGNED_URL_EXPIRY_SECONDS = { min: 60, max: 3600, default: 3600 } as const;
/** A SigV4 presigned URL's `X-Amz-Expires`: 1 second to 7 days (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html). */
const SIGV4_EXPIRY_SECONDS = { min: 1, max: 604_800 } as const;

export async function startReleaseDownloads(options: { authority: CertificateAuthority; port?: number }): Promise<ReleaseDownloads> {
  const objects = new Map<string, Buffer>();
  const signingKey = randomBytes(32);
  const signature = (key: string, expires: number) => createHmac("sha256", signingKey).update(`${key}\n${expires}`).digest("hex");

  const server: Server = createServer(
    { key: options.authority.server.privateKeyPem, cert: options.authority.server.certificatePem, minVersion: "TLSv1.2" },
    (request, response) => {
      const url = new URL(request.url ?? "/", "https://localhost");
      const key = decodeURIComponent(url.pathname.slice(1));
      const expires = Number(url.searchParams.get("X-Amz-Expires-At"));
      const given = url.searchParams.get("X-Amz-Signature") ?? "";
      const deny = (message: string) => {
        response.writeHead(403, { "content-type": "application/xml" });
        response.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>${message}</Message></Error>`);
      };
      if (request.method !== "GET" && request.method !== "HEAD") return deny("only GET and HEAD are presigned");
      if (!Number.isInteger(expires) || !/^[0-9a-f]{64}$/.test(given)) return deny("Query-string authentication requires the Signature and Expires parameters");
      if (!timingSafeEqual(Buffer.from(given, "hex"), Buffer.from(signature(key, expires), "hex"))) return deny("The request signature we calculated does not match the signature you provided");
      if (Date.now() / 1000 > expires) return deny("Request has expired");
      const body = objects.get(key);
      if (!body) return deny("Access Denied");
      response.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
      response.end(request.method === "HEAD" ? undefined : body);
    },
  );
  await new Promise<void>((done) => server.listen(options.port ?? 0, "127.0.0.1", () => done()));
  const origin = `https://localhost:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    put(key, body) {
      if (!key || key.startsWith("/")) throw new Error(`object key must be non-empty and relative, not ${JSON.stringify(key)}`);
      const copy = Buffer.from(body);
      objects.set(key, copy);
      return { sha256: createHash("sha256").update(copy).digest("hex"), size: copy.length };
    },
    has: (key) => objects.has(key),
    presign(key, expiresInSec = PRESIGNED_URL_EXPIRY_SECONDS.default) {
      if (!Number.isInteger(expiresInSec) || expiresInSec < SIGV4_EXPIRY_SECONDS.min || expiresInSec > SIGV4_EXPIRY_SECONDS.max) {
        throw new Error(`expiresInSec must be an integer from ${SIGV4_EXPIRY_SECONDS.min} to ${SIGV4_EXPIRY_SECONDS.max}, not ${expiresInSec}`);
      }
      const expires = Math.floor(Date.now() / 1000) + expiresInSec;
      const path = key.split("/").map(encodeURIComponent).join("/");
      return `${origin}/${path}?X-Amz-Expires-At=${expires}&X-Amz-Signature=${signature(key, expires)}`;
    },
    keyOfS3Url(s3Url) {
      const url = new URL(s3Url);
      const pathStyle = /^s3([.-][a-z0-9-]+)?\.amazonaws\.com$/.test(url.hostname);
      const virtualHosted = /^[a-z0-9.-]+\.s3([.-][a-z0-9-]+)?\.amazonaws\.com$/.test(url.hostname);
      if (url.protocol !== "https:" || (!pathStyle && !virtualHosted)) throw new Error(`not an https S3 object URL: ${s3Url}`);
      const path = decodeURIComponent(url.pathname.slice(1));
      const key = pathStyle ? path.slice(path.indexOf("/") + 1) : path;
      if (!key || (pathStyle && !path.includes("/"))) throw new Error(`S3 URL names no object key: ${s3Url}`);
      return key;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
