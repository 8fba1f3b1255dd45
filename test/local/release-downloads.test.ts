import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openCertificateAuthority, type CertificateAuthority } from "../../local/certificate-authority";
import { startReleaseDownloads, type ReleaseDownloads } from "../../local/release-downloads";

/** Release downloads over HTTPS (local CA) behind expiring presigned URLs, with a real TLS client. */
let authority: CertificateAuthority;
let releases: ReleaseDownloads;
const KEY = "agent/1.2.0/smart-home-agent-1.2.0-linux-arm64.tar.gz";
const BODY = Buffer.from("release bytes 1.2.0");

beforeAll(async () => {
  authority = await openCertificateAuthority(mkdtempSync(join(tmpdir(), "releases-ca-")));
  releases = await startReleaseDownloads({ authority });
});

afterAll(async () => {
  await releases.close();
});

function fetchUrl(url: string, method = "GET", ca = authority.caPem): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method, ca }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    outgoing.on("error", reject);
    outgoing.end();
  });
}

it("stores an object and serves it at a presigned URL, trusted through the local CA", async () => {
  expect(releases.put(KEY, BODY)).toEqual({ sha256: createHash("sha256").update(BODY).digest("hex"), size: BODY.length });
  const url = releases.presign(KEY, 60);
  expect(url.startsWith("https://localhost:")).toBe(true);
  expect(await fetchUrl(url)).toEqual({ status: 200, body: BODY });
  expect(await fetchUrl(url, "HEAD")).toEqual({ status: 200, body: Buffer.alloc(0) });
});

it("refuses a client that does not trust the local CA", async () => {
  const stranger = await openCertificateAuthority(mkdtempSync(join(tmpdir(), "other-ca-")));
  releases.put(KEY, BODY);
  await expect(fetchUrl(releases.presign(KEY, 60), "GET", stranger.caPem)).rejects.toThrow(/self-signed|unable to verify|certificate/i);
});

it("answers 403 to an expired URL", async () => {
  releases.put(KEY, BODY);
  const url = releases.presign(KEY, 2);
  expect((await fetchUrl(url)).status).toBe(200);
  await new Promise((resume) => setTimeout(resume, 2100));
  const expired = await fetchUrl(url);
  expect(expired.status).toBe(403);
  expect(expired.body.toString()).toContain("Request has expired");
});

it("answers 403 to an altered signature, expiry or key, a missing object and an unsigned request", async () => {
  releases.put(KEY, BODY);
  releases.put("agent/9.9.9/other.tar.gz", Buffer.from("other"));
  const url = new URL(releases.presign(KEY, 60));
  const altered = (change: (copy: URL) => void) => {
    const copy = new URL(url);
    change(copy);
    return copy.toString();
  };
  const signature = url.searchParams.get("X-Amz-Signature")!;
  const cases = [
    altered((copy) => copy.searchParams.set("X-Amz-Signature", `${signature.slice(0, -1)}${signature.endsWith("0") ? "1" : "0"}`)),
    altered((copy) => copy.searchParams.set("X-Amz-Expires-At", String(Number(url.searchParams.get("X-Amz-Expires-At")) + 3600))),
    altered((copy) => (copy.pathname = "/agent/9.9.9/other.tar.gz")),
    altered((copy) => (copy.search = "")),
    releases.presign("agent/0.0.0/missing.tar.gz", 60),
  ];
  for (const candidate of cases) expect({ candidate, status: (await fetchUrl(candidate)).status }).toEqual({ candidate, status: 403 });
  expect(cases).toHaveLength(5);
  expect((await fetchUrl(url.toString(), "PUT")).status).toBe(403);
});

it("maps a presign placeholder's S3 URL to its key; refuses what is not an S3 object URL", () => {
  expect(releases.keyOfS3Url(`https://s3.eu-west-1.amazonaws.com/bucket/${KEY}`)).toBe(KEY);
  expect(releases.keyOfS3Url(`https://s3.amazonaws.com/bucket/${KEY}`)).toBe(KEY);
  expect(releases.keyOfS3Url(`https://bucket.s3.eu-west-1.amazonaws.com/${KEY}`)).toBe(KEY);
  expect(() => releases.keyOfS3Url(`http://s3.amazonaws.com/bucket/${KEY}`)).toThrow(/not an https S3 object URL/);
  expect(() => releases.keyOfS3Url(`https://example.com/bucket/${KEY}`)).toThrow(/not an https S3 object URL/);
  expect(() => releases.keyOfS3Url("https://s3.amazonaws.com/bucket")).toThrow(/names no object key/);
});

it("refuses an expiry outside a SigV4 URL's 1 s to 7 days, and a bad key", () => {
  expect(() => releases.presign(KEY, 0)).toThrow(/expiresInSec/);
  expect(() => releases.presign(KEY, 604_801)).toThrow(/expiresInSec/);
  expect(() => releases.put("/absolute", BODY)).toThrow(/relative/);
  expect(releases.has("/absolute")).toBe(false);
});
