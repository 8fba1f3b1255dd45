import { createHash } from "node:crypto";
import { createWriteStream, rmSync, type WriteStream } from "node:fs";
import { get } from "node:https";
import { rootCertificates } from "node:tls";

export interface DownloadLimits {
  /** The body is abandoned past this many bytes (Content-Length is checked first when sent). */
  readonly maxBytes: number;
  /** The whole transfer, from request to last byte. */
  readonly timeoutMs: number;
  /** Extra CA certificates (PEM) trusted beside Node's bundled roots: the local platform's CA in tests. */
  readonly extraCaPem?: string;
}

export class DownloadError extends Error {}

/**
 * Downloads `url` (https only, no redirects: a presigned S3 URL answers the object directly) into
 * `file` (mode 0600) and returns the body's sha256 in hex. On any failure the partial file is
 * deleted and a DownloadError says why.
 */
export function downloadToFile(url: string, file: string, limits: DownloadLimits): Promise<{ sha256: string; bytes: number }> {
  const parsed = new URL(url);
  if (parsed.protocol !== "https:") return Promise.reject(new DownloadError(`refusing ${parsed.protocol} download: releases come over https`));
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    // Opened only once the answer is a 200 within the size limit, so a refused download never creates the file.
    let out: WriteStream | undefined;
    let bytes = 0;
    let settled = false;
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      const removeAndReject = () => {
        rmSync(file, { force: true });
        reject(new DownloadError(message));
      };
      // A write stream opens its file asynchronously: removing the file before the stream has
      // closed could let a pending open create it again afterwards.
      if (!out || out.closed) return removeAndReject();
      out.once("close", removeAndReject);
      out.destroy();
    };
    const timer = setTimeout(() => fail(`download did not finish within ${limits.timeoutMs} ms`), limits.timeoutMs);
    const request = get(parsed, { ca: limits.extraCaPem ? [...rootCertificates, limits.extraCaPem] : undefined }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        return fail(`download answered HTTP ${response.statusCode} (an expired or altered presigned URL answers 403)`);
      }
      const declared = Number(response.headers["content-length"] ?? Number.NaN);
      if (declared > limits.maxBytes) {
        response.resume();
        return fail(`release is ${declared} bytes, more than release.maxDownloadBytes (${limits.maxBytes})`);
      }
      const stream = createWriteStream(file, { mode: 0o600 });
      out = stream;
      stream.on("error", (error) => fail(`cannot write ${file}: ${error.message}`));
      response.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > limits.maxBytes) return fail(`release is more than release.maxDownloadBytes (${limits.maxBytes}) bytes`);
        hash.update(chunk);
      });
      response.on("error", (error) => fail(`download failed: ${error.message}`));
      response.pipe(stream);
      stream.on("finish", () => {
        if (settled) return;
        if (!response.complete) return fail("the connection closed before the whole release arrived");
        settled = true;
        clearTimeout(timer);
        resolve({ sha256: hash.digest("hex"), bytes });
      });
    });
    request.on("error", (error) => fail(`download failed: ${error.message}`));
  });
}
