/**
 * SIGTERM with 32 keep-alive connections whose requests were in flight when the listener closed (they arrived before
 * the drain, so they are answered with keep-alive), held open by a client that never closes idle connections itself
 * (an agent without an idle timeout, as a load generator or a proxy holds them). The drain must close each of those
 * connections once its answer is sent, and exit 0 — not wait for the client or the 95 s keep-alive timeout until
 * SHUTDOWN_TIMEOUT_MS cuts them and the drain counts as timed out (exit 1). And a drain that truly times out (a
 * request whose body never finishes arriving) says so and exits 1.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, it } from 'node:test';
import { startDatastores, waitFor, withClient } from '@lumen/testkit';
import { serverEnv } from './support/api.ts';
import { type EntryProcess, spawnEntry } from './support/entry.ts';

const { pg, redis, close } = await startDatastores({ redis: true });
let entry: EntryProcess | undefined;
const agent = new Agent({ keepAlive: true, maxSockets: 32 });
after(async () => {
  agent.destroy();
  if (entry && entry.child.exitCode === null) entry.child.kill('SIGKILL');
  await close();
});

/** Starts `POST /items` with half of its body sent; `finish()` sends the rest and resolves the answer. */
function halfSentPost(url: string, name: string) {
  const json = JSON.stringify({ name });
  let finish!: () => Promise<{ status: number; connection: string | undefined }>;
  const answer = new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
    const req = request(
      `${url}/items`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': json.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      },
    );
    req.on('error', reject);
    req.write(json.slice(0, 5));
    finish = () => {
      req.end(json.slice(5));
      return answer;
    };
  });
  // A request the server cuts (the drain-timeout case) rejects; that is observed, not an unhandled rejection.
  answer.catch(() => undefined);
  return { finish: () => finish() };
}

it('closes each kept-alive connection once its in-flight answer is sent, so the drain exits 0', async () => {
  entry = spawnEntry({
    ...serverEnv(pg, redis),
    SHUTDOWN_DELAY_MS: '200',
    SHUTDOWN_TIMEOUT_MS: '15000',
    LOG_LEVEL: 'info',
  });
  const { url } = await entry.listening();
  const running = entry;

  const inFlight = Array.from({ length: 32 }, (_, n) => halfSentPost(url, `in flight ${n}`));
  const sockets = () => Object.values(agent.sockets).flat();
  await waitFor(
    '32 requests sent',
    async () => sockets().length === 32 && sockets().every((s) => s !== undefined && s.bytesWritten > 0),
  );
  // Their headers were sent; give the server a moment to parse them before the drain begins.
  await new Promise((r) => setTimeout(r, 200));
  running.child.kill('SIGTERM');
  await waitFor('the listener to close', async () =>
    running.logs.some((l) => l.msg === 'closing listeners; finishing in-flight requests'),
  );
  const answers = await Promise.all(inFlight.map((r) => r.finish()));
  assert.deepEqual(
    answers.map((a) => a.status),
    Array(32).fill(201),
    'every request in flight across the close was answered',
  );
  assert.deepEqual(
    answers.map((a) => a.connection),
    Array(32).fill('keep-alive'),
    'the answers kept their connections alive (they arrived before the drain): the case under test',
  );

  const code = await running.exited;
  const complete = running.logs.find((l) => l.msg === 'shutdown complete');
  assert.equal(complete?.drained, true, 'the drain finished without hitting SHUTDOWN_TIMEOUT_MS');
  assert.equal(code, 0, running.stderr());
  const rows = await withClient(
    pg.primary.dsn,
    async (c) => (await c.query('SELECT count(*)::int AS n FROM items')).rows[0],
  );
  assert.equal(rows?.n, 32);
});

it('a drain that truly times out says so, cuts the connection and exits 1', async () => {
  const stuck = spawnEntry({
    ...serverEnv(pg, redis),
    SHUTDOWN_DELAY_MS: '0',
    SHUTDOWN_TIMEOUT_MS: '1000',
    LOG_LEVEL: 'info',
  });
  entry = stuck;
  const { url } = await stuck.listening();
  halfSentPost(url, 'never finished');
  const sockets = () => Object.values(agent.sockets).flat();
  await waitFor('the request to be sent', async () => sockets().some((s) => s !== undefined && s.bytesWritten > 0));
  await new Promise((r) => setTimeout(r, 200));
  stuck.child.kill('SIGTERM');
  const code = await stuck.exited;
  assert.equal(code, 1, stuck.stderr());
  assert.ok(
    stuck.logs.some((l) => l.msg === 'drain timeout: closing remaining connections' && l.timeout_ms === 1000),
    'the drain timeout is logged with its limit',
  );
  assert.equal(stuck.logs.find((l) => l.msg === 'shutdown complete')?.drained, false);
});
