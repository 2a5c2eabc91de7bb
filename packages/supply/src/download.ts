import { setTimeout as sleep } from 'node:timers/promises';
import { SupplyError, SupplyErrorCode } from './errors.ts';

/** Options for plain HTTP(S) downloads (classic Helm repositories, files). */
export interface DownloadOptions {
  /** Retries after a connection error or 5xx. Default 4. */
  retries?: number;
  /** First backoff delay, doubled per retry. Default 250 ms. */
  retryBaseMs?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/**
 * GET with retries and exponential backoff on connection errors, 429 and 5xx. Resolves to the
 * response (status 2xx), else throws SUPPLY_DOWNLOAD naming the URL.
 */
export async function download(url: string, options: DownloadOptions = {}): Promise<Response> {
  const retries = options.retries ?? 4;
  const base = options.retryBaseMs ?? 250;
  const fetchImpl = options.fetch ?? fetch;
  for (let attempt = 0; ; attempt++) {
    let res: Response | undefined;
    let failure: string;
    try {
      res = await fetchImpl(url, { signal: options.signal ?? null, redirect: 'follow' });
      if (res.ok) return res;
      failure = `HTTP ${res.status}`;
      await res.body?.cancel().catch(() => undefined);
      if (res.status < 500 && res.status !== 429) {
        throw new SupplyError(SupplyErrorCode.download, `GET ${url} failed: ${failure}`);
      }
    } catch (err) {
      if (err instanceof SupplyError) throw err;
      if (options.signal?.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      failure = cause?.code ?? cause?.message ?? (err as Error).message;
    }
    if (attempt >= retries) throw new SupplyError(SupplyErrorCode.download, `GET ${url} failed: ${failure}`);
    await sleep(base * 2 ** attempt, undefined, options.signal ? { signal: options.signal } : undefined);
  }
}

/** Downloads a small document fully. */
export async function downloadBytes(url: string, options: DownloadOptions = {}): Promise<Buffer> {
  const res = await download(url, options);
  return Buffer.from(await res.arrayBuffer());
}
