import {
  type Answer,
  httpRequest,
  type Layout,
  networkError,
  OciError,
  OciErrorCode,
  OciExitCode,
  retry,
} from '@lumen/oci';
import { SupplyError, SupplyErrorCode } from './errors.ts';

/** Options for plain HTTP(S) downloads (classic Helm repositories, files). */
export interface DownloadOptions {
  /** Retries after a connection error, 429 or 5xx. Default 4. */
  retries?: number;
  /** Window of the first backoff, doubled per retry (full jitter, see `RetryPolicy` of @lumen/oci). Default 250 ms. */
  retryBaseMs?: number;
  signal?: AbortSignal;
}

/**
 * GET with retries and exponential backoff on connection errors, 429 and 5xx (the retry policy
 * of @lumen/oci). Resolves to the response (status 2xx), else throws SUPPLY_DOWNLOAD naming the
 * URL and, when it was retried, the number of attempts.
 */
export async function download(url: string, options: DownloadOptions = {}): Promise<Answer> {
  const attempt = async (): Promise<Answer> => {
    let res: Answer;
    try {
      // The registry client's HTTP layer: Node-stream bodies and redirects (GitHub release
      // downloads redirect to a storage host).
      res = await httpRequest(url, { method: 'GET', signal: options.signal });
    } catch (err) {
      // TLS failures (a plain-HTTP server, an untrusted certificate) come back as OCI_TLS: not retried.
      throw networkError(err, 'connection');
    }
    if (res.ok) return res;
    await res.body.dump().catch(() => undefined);
    throw new OciError(OciErrorCode.http, `HTTP ${res.status}`, OciExitCode.remote, { status: res.status });
  };
  try {
    return await retry(attempt, { retries: options.retries, baseMs: options.retryBaseMs, signal: options.signal });
  } catch (err) {
    if (!(err instanceof OciError) || err.code === OciErrorCode.aborted) throw err;
    throw new SupplyError(SupplyErrorCode.download, `GET ${url} failed: ${err.message}`, { cause: err });
  }
}

/** Downloads a small document fully. */
export async function downloadBytes(url: string, options: DownloadOptions = {}): Promise<Buffer> {
  const res = await download(url, options);
  return res.bytes();
}

/**
 * A file pinned by its digest, as a blob of `layout`: kept when the blob there re-hashes to the digest, else
 * downloaded from `file.url` and stored only if it hashes to `file.digest` (SUPPLY_LOCK_MISMATCH otherwise, naming
 * the file and the URL). `onBytes` sees every downloaded chunk (progress).
 */
export async function fetchFile(
  layout: Layout,
  file: { name: string; url: string; digest: string },
  options: DownloadOptions & { onBytes?: (bytes: number) => void } = {},
): Promise<{ size: number; fetched: boolean }> {
  if ((await layout.checkBlob(file.digest)).state === 'ok') {
    return { size: (await layout.blobSize(file.digest)) as number, fetched: false };
  }
  const res = await download(file.url, options);
  try {
    return { size: await layout.writeBlobStream(file.digest, res.body, undefined, options.onBytes), fetched: true };
  } catch (err) {
    if (err instanceof OciError && err.code === OciErrorCode.digestMismatch) {
      throw new SupplyError(
        SupplyErrorCode.lockMismatch,
        `file ${file.name}: ${file.url} does not match lock.yaml: ${err.message}`,
      );
    }
    throw err;
  }
}
