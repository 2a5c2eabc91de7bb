/** Bounding dependency calls whose client has no timeout of its own for the case at hand. */

/**
 * Resolves like `promise`, or rejects after `ms` with an `ETIMEDOUT` error (which errors.ts counts as
 * "dependency unavailable"). The underlying call is not cancelled; its late result is ignored.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`timed out after ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
