import { setTimeout as sleep } from 'node:timers/promises';
import { OciError, OciErrorCode, OciExitCode } from './errors.ts';

/** How often and how patiently a remote call is repeated. */
export interface RetryPolicy {
  /** Attempts after the first. Default 4 (5 attempts). */
  retries?: number | undefined;
  /**
   * Window of the first wait in ms, doubled per retry: 250, 500, 1000, 2000 ms by default, so five
   * attempts give up after at most 3.75 s of waiting (≈ 1.9 s on average). Default 250.
   */
  baseMs?: number | undefined;
  /** Largest window, whatever the retry count. Default 30 000 ms. */
  maxMs?: number | undefined;
}

/** The defaults of {@link RetryPolicy}: what every remote call of lumen uses unless told otherwise. */
export const retryDefaults = { retries: 4, baseMs: 250, maxMs: 30_000 } as const;

/** Options of {@link retry}. */
export interface RetryOptions extends RetryPolicy {
  /** Whether a failure is worth another attempt. Default {@link isTransient}. */
  retryable?: (err: unknown) => boolean;
  /** Aborts the attempts and the waits between them with OCI_ABORTED (exit 130). */
  signal?: AbortSignal | undefined;
  /**
   * Runs after the wait, before the next attempt (an upload asks the registry where its session
   * stands). What it throws ends the call, unretried.
   */
  beforeRetry?: (err: unknown, attempt: number) => Promise<void>;
}

/**
 * The wait before retry `n` (1 for the first): "full jitter", uniform in
 * [0, min(maxMs, baseMs · 2^(n-1))], so clients that failed together do not come back together
 * (aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter).
 */
export function backoffMs(n: number, policy: RetryPolicy = {}): number {
  const base = policy.baseMs ?? retryDefaults.baseMs;
  const max = policy.maxMs ?? retryDefaults.maxMs;
  return Math.round(Math.random() * Math.min(max, base * 2 ** (n - 1)));
}

/**
 * Connection failures, 429 and 5xx are worth a retry; other answers (4xx, a digest mismatch, a
 * malformed manifest) will not change by asking again. An error that is no {@link OciError}
 * (a stream that broke) counts as a connection failure.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof OciError) {
    if (err.code === OciErrorCode.unreachable) return true;
    return err.status !== undefined && isTransientStatus(err.status);
  }
  return true;
}

/** The HTTP statuses a registry or web server answers while overloaded or restarting. */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/**
 * Runs `attempt` (given its number, from 1) until it resolves, fails with an error `retryable`
 * refuses, or has failed `retries + 1` times, waiting {@link backoffMs} between attempts.
 *
 * @throws the last failure; when it is an {@link OciError} and the call was retried, a copy whose
 *   `attempts` and message say how many attempts were made. OCI_ABORTED once `signal` aborts.
 * @example await retry(() => registry.ping(), { retries: 2, signal })
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? retryDefaults.retries;
  const retryable = options.retryable ?? isTransient;
  const { signal } = options;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (signal?.aborted) throw abortedError(signal);
      if (n > retries || !retryable(err)) throw n > 1 ? withAttempts(err, n) : err;
      await sleep(backoffMs(n, options), undefined, { signal }).catch(() => {
        throw abortedError(signal);
      });
      await options.beforeRetry?.(err, n);
    }
  }
}

/** OCI_ABORTED (exit 130), with the signal's reason as cause. */
export function abortedError(signal: AbortSignal | undefined): OciError {
  return new OciError(OciErrorCode.aborted, 'aborted', OciExitCode.interrupted, { cause: signal?.reason });
}

/** `err` with the attempt count, unless a retry inside the call already put its own there. */
function withAttempts(err: unknown, attempts: number): unknown {
  if (!(err instanceof OciError) || err.attempts > 1) return err;
  return new OciError(err.code, `${err.message} (after ${attempts} attempts)`, err.exitCode, {
    cause: err.cause,
    status: err.status,
    attempts,
  });
}
