/**
 * Command (a) of the README: `npm start` at the repository root with no database and no Redis configured runs
 * lumen-api embedded (PGlite under LUMEN_DATA_DIR, in-process store), says so in its log, and serves /hello.
 * A second start on the same data directory keeps the data. SIGTERM to the process group exits cleanly.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { call } from './support/api.ts';
import { API_DIR, type EntryProcess, spawnEntry } from './support/entry.ts';

const dataDir = join(mkdtempSync(join(tmpdir(), 'lumen-embedded-')), 'data');
const repoRoot = join(API_DIR, '..', '..');
const started: EntryProcess[] = [];

after(() => {
  for (const p of started) {
    if (p.child.exitCode === null && p.child.pid !== undefined) {
      try {
        process.kill(-p.child.pid, 'SIGKILL');
      } catch {}
    }
  }
  rmSync(join(dataDir, '..'), { recursive: true, force: true });
});

function npmStart(): EntryProcess {
  const entry = spawnEntry(
    { LUMEN_DATA_DIR: dataDir, SHUTDOWN_DELAY_MS: '0', HOME: process.env.HOME },
    { command: 'npm', args: ['start', '--silent'], cwd: repoRoot, detached: true },
  );
  started.push(entry);
  return entry;
}

/** SIGTERM to npm and lumen-api (as a terminal's process group gets it); npm itself dies of the signal. */
async function stop(entry: EntryProcess): Promise<void> {
  // 'close' fires once every process holding the stdout pipe — npm and node — has exited.
  const closed = new Promise((resolve) => entry.child.on('close', resolve));
  process.kill(-(entry.child.pid as number), 'SIGTERM');
  await closed;
  assert.ok(
    entry.logs.some((l) => l.msg === 'shutdown complete' && l.drained === true),
    `lumen-api shut down cleanly:\n${entry.stderr()}`,
  );
}

it('serves /hello on embedded defaults and keeps its data across restarts', async (t) => {
  const first = npmStart();
  const startedAt = Date.now();
  const { url, adminUrl } = await first.listening(60_000);
  t.diagnostic(`cold start to listening: ${Date.now() - startedAt} ms`);
  const hello = await call(url, 'GET', '/hello');
  assert.equal(hello.status, 200);
  assert.deepEqual(hello.body, { message: 'Hello from lumen-api', counter: 1 });
  assert.ok(
    first.logs.some((l) => String(l.msg).startsWith('embedded mode: PostgreSQL is PGlite')),
    'it logs that it runs embedded',
  );
  assert.ok(existsSync(join(dataDir, 'PG_VERSION')), 'PGlite keeps its files in LUMEN_DATA_DIR');
  const created = await call(url, 'POST', '/items', { body: { name: 'kept across restarts' } });
  assert.equal(created.status, 201);
  const health = await call(url, 'GET', '/health');
  assert.equal(health.status, 200);
  assert.equal(health.body.checks.postgres_rw.kind, 'embedded');
  assert.equal(health.body.checks.redis.kind, 'memory');
  assert.match(
    await (await fetch(`${adminUrl}/metrics`)).text(),
    /http_requests_total\{method="GET",route="\/hello",status_code="200"\} 1/,
  );
  await stop(first);

  const second = npmStart();
  const reopenedAt = Date.now();
  const again = await second.listening(60_000);
  t.diagnostic(`warm start to listening: ${Date.now() - reopenedAt} ms`);
  const read = await call(again.url, 'GET', `/items/${created.body.id}`);
  assert.equal(read.status, 200);
  assert.equal(read.body.name, 'kept across restarts');
  assert.ok(
    second.logs.some((l) => l.msg === 'schema up to date'),
    'migrations are not applied twice',
  );
  await stop(second);
});
