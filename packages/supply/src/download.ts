import { setTimeout as sleep } from 'node:timers/promises';
import { type Answer, httpRequest } from '@lumen/oci';
import { SupplyError, SupplyErrorCode } from './errors.ts';

/** Options for plain HTTP(S) downloads (classic Helm repositories, files). */
export interface DownloadOptions {
  /** Retries after a connection error or 5xx. Default 4. */
  retries?: number;
  /** First backoff delay, doubled per retry. Default 250 ms. */
  retryBaseMs?: number;
  signal?: AbortSignal;
}

/**
 * GET with retries and exponential backoff on connection errors, 429 and 5xx. Resolves to the
 * response (status 2xx), else throws SUPPLY_DOWNLOAD naming the URL.
 */
export async function download(url: string, options: DownloadOptions = {}): Promise<Answer> {
  const retries = options.retries ?? 4;
  const base = options.retryBaseMs ?? 250;
  for (let attempt = 0; ; attempt++) {
    let res: Answer | undefined;
    let failure: string;
    try {
      // The registry client's HTTP layer: Node-stream bodies and redirects (GitHub release
      // downloads redirect to a storage host).
      res = await httpRequest(url, { method: 'GET', signal: options.signal });
      if (res.ok) return res;
      failure = `HTTP ${res.status}`;
      await res.body.dump().catch(() => undefined);
      if (res.status < 500 && res.status !== 429) {
        throw new SupplyError(SupplyErrorCode.download, `GET ${url} failed: ${failure}`);
      }
    } catch (err) {
      if (err instanceof SupplyError) throw err;
      if (options.signal?.aborted) throw err;
      const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
      failure = e.code ?? e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
    }
    if (attempt >= retries) throw new SupplyError(SupplyErrorCode.download, `GET ${url} failed: ${failure}`);
    await sleep(base * 2 ** attempt, undefined, options.signal ? { signal: options.signal } : undefined);
  }
}

/** Downloads a small document fully. */
export async function downloadBytes(url: string, options: DownloadOptions = {}): Promise<Buffer> {
  const res = await download(url, options);
  return res.bytes();
}
