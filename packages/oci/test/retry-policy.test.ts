/**
 * The one retry policy of every remote call: exponential backoff with full jitter under a cap,
 * retrying only what may change by asking again, abortable, and naming the attempts it made.
 */
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { backoffMs, isTransient, OciError, OciErrorCode, OciExitCode, retry } from '../src/index.ts';

const unreachable = () => new OciError(OciErrorCode.unreachable, 'GET x: ECONNREFUSED', OciExitCode.remote);

describe('retry policy', () => {
  it('waits uniformly up to a window that doubles per retry and stops at the cap', () => {
    const random = mock.method(Math, 'random', () => 1);
    try {
      assert.deepEqual(
        [1, 2, 3, 4].map((n) => backoffMs(n)),
        [250, 500, 1000, 2000],
      );
      assert.equal(backoffMs(20, { baseMs: 250, maxMs: 30_000 }), 30_000);
      random.mock.mockImplementation(() => 0);
      assert.equal(backoffMs(4), 0, 'full jitter: any wait from zero to the window');
    } finally {
      random.mock.restore();
    }
  });

  it('retries transient failures and names the attempts in the error it gives up with', async () => {
    let calls = 0;
    await assert.rejects(
      retry(
        async () => {
          calls++;
          throw unreachable();
        },
        { retries: 2, baseMs: 1 },
      ),
      (err: OciError) => {
        assert.equal(err.code, OciErrorCode.unreachable);
        assert.equal(err.exitCode, 3);
        assert.equal(err.attempts, 3);
        assert.match(err.message, /ECONNREFUSED \(after 3 attempts\)$/);
        return true;
      },
    );
    assert.equal(calls, 3);
    assert.equal(await retry(async (n) => (n < 3 ? Promise.reject(unreachable()) : n), { baseMs: 1 }), 3);
  });

  it('gives up at once on what asking again cannot change', async () => {
    const refused = new OciError(OciErrorCode.unauthorized, 'refused', OciExitCode.remote, { status: 403 });
    let calls = 0;
    const failing = async () => {
      calls++;
      throw refused;
    };
    await assert.rejects(retry(failing, { baseMs: 1 }), (err) => err === refused);
    assert.equal(calls, 1);
    assert.equal(isTransient(new OciError(OciErrorCode.http, 'busy', OciExitCode.remote, { status: 503 })), true);
    assert.equal(isTransient(new OciError(OciErrorCode.http, 'slow down', OciExitCode.remote, { status: 429 })), true);
    assert.equal(isTransient(new OciError(OciErrorCode.digestMismatch, 'lies', OciExitCode.remote)), false);
  });

  it('runs beforeRetry between attempts, after the wait', async () => {
    const seen: string[] = [];
    await retry(
      async (n) => {
        seen.push(`attempt ${n}`);
        if (n < 3) throw unreachable();
      },
      { baseMs: 1, beforeRetry: async (_err, n) => void seen.push(`resume after ${n}`) },
    );
    assert.deepEqual(seen, ['attempt 1', 'resume after 1', 'attempt 2', 'resume after 2', 'attempt 3']);
  });

  it('stops waiting when its signal aborts, with OCI_ABORTED and exit 130', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const pending = retry(
      async () => {
        setImmediate(() => controller.abort());
        throw unreachable();
      },
      { baseMs: 60_000, signal: controller.signal },
    );
    await assert.rejects(pending, (err: OciError) => {
      assert.equal(err.code, OciErrorCode.aborted);
      assert.equal(err.exitCode, 130);
      return true;
    });
    assert.ok(performance.now() - started < 10_000, 'the wait of up to a minute was cut short');
  });
});
