/**
 * The drills' load clients (drills/load.ts) send a replayable request once more when the server closed its kept-alive
 * connection with no answer, as Go's transport (Traefik), curl and browsers do — and nothing else. A real HTTP server
 * closes the connection under every second request it receives, without answering: a GET and a keyed POST are
 * answered on the replay and say they were replayed; an unkeyed POST is not replayed and fails; a connection reset is
 * not replayed either.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { after, it } from 'node:test';
import { type Attempt, sendAttempt } from '../drills/load.ts';

/** What the server does with a request: answer it, close the connection cleanly, or reset it. */
let mode: 'close' | 'reset' = 'close';
let received = 0;
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  req.resume();
  req.on('end', () => {
    received++;
    if (received % 2 === 0) {
      if (mode === 'close') req.socket.end();
      else req.socket.resetAndDestroy();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end('{"id":"1"}');
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Sends a first request that is answered, so the next one goes out on the kept-alive connection. */
async function onKeptAliveConnection(init?: RequestInit): Promise<Attempt> {
  received = 0;
  const send = async (path: string, init?: RequestInit) => {
    const attempt: Attempt = { kind: 'hello', start: Date.now(), end: 0, status: 0 };
    await sendAttempt(attempt, `${url}${path}`, init, 5000);
    return attempt;
  };
  assert.equal((await send('/first')).status, 200);
  return send('/second', init);
}

it('replays a GET whose kept-alive connection was closed with no answer', async () => {
  mode = 'close';
  const attempt = await onKeptAliveConnection();
  assert.equal(attempt.status, 200);
  assert.equal(attempt.replayed, true);
});

it('replays a keyed POST, not an unkeyed one', async () => {
  mode = 'close';
  const keyed = await onKeptAliveConnection({
    method: 'POST',
    headers: { 'idempotency-key': 'k1', 'content-type': 'application/json' },
    body: '{"name":"k1"}',
  });
  assert.equal(keyed.status, 200);
  assert.equal(keyed.replayed, true);
  const unkeyed = await onKeptAliveConnection({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"name":"x"}',
  });
  assert.equal(unkeyed.status, 0);
  assert.equal(unkeyed.code, 'UND_ERR_SOCKET');
  assert.equal(unkeyed.replayed, undefined);
});

it('does not replay a request whose connection was reset', async () => {
  mode = 'reset';
  const attempt = await onKeptAliveConnection();
  assert.equal(attempt.status, 0);
  assert.equal(attempt.code, 'ECONNRESET');
  assert.equal(attempt.replayed, undefined);
});
