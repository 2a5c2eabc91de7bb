/**
 * Runs `fn` over `items` with at most `limit` in flight; rejects with the first error after
 * letting the running ones settle (so no write is left half-done behind the error).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T, i);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw failed.err;
  return results;
}

/** Memoizes an async function per key: concurrent callers share one run (deduplicated transfers). */
export function once<R>(): (key: string, fn: () => Promise<R>) => Promise<R> {
  const inflight = new Map<string, Promise<R>>();
  return (key, fn) => {
    let p = inflight.get(key);
    if (!p) {
      p = fn();
      inflight.set(key, p);
      // A failed transfer may be retried by a later caller.
      p.catch(() => inflight.delete(key));
    }
    return p;
  };
}

/**
 * A counting semaphore: `limit(fn)` runs `fn` when fewer than `n` are running. Shared by all
 * images of a command so blob transfers stay at `n` however many images run at once.
 */
export function limiter(n: number): <R>(fn: () => Promise<R>) => Promise<R> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (fn) => {
    if (running >= n) await new Promise<void>((ok) => queue.push(ok));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}
