/**
 * The Redis and Sentinel start scripts lumen renders (the ConfigMap's exact text), run against real
 * redis-server processes on loopback with the environment the StatefulSets set: on a first start the
 * set elects redis-0; after the master dies Sentinel fails over; the old master, restarted by the same
 * script, asks the Sentinels and rejoins as a replica of the new master instead of a second master;
 * a restarted Sentinel monitors the current master.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadInventory } from '@lumen/inventory';
import { freePort, secret, waitFor } from '@lumen/testkit';
import { render } from '../src/index.ts';
import { fixtureInventory } from './fixture-inventory.ts';

const fixture = fixtureInventory();
const redisComponent = render(loadInventory(fixture.dir)).components.find((c) => c.name === 'redis');
const scripts = redisComponent?.manifests.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'redis-scripts')
  ?.data as Record<string, string> | undefined;
const dir = mkdtempSync(join(tmpdir(), 'lumen-redis-scripts-'));
const password = secret();
const processes = new Map<string, ChildProcess>();

interface Node {
  name: string;
  port: number;
  kind: 'redis' | 'sentinel';
}
let redisNodes: Node[] = [];
let sentinelNodes: Node[] = [];

function cli(port: number, ...args: string[]): string {
  const auth = redisNodes.some((n) => n.port === port) ? ['--no-auth-warning', '-a', password] : [];
  const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...auth, ...args], {
    encoding: 'utf8',
    timeout: 5000,
  });
  return r.stdout.trim();
}

function start(node: Node): void {
  const conf = join(dir, node.name, 'conf');
  const data = join(dir, node.name, 'data');
  mkdirSync(conf, { recursive: true });
  mkdirSync(data, { recursive: true });
  const script = join(dir, `${node.kind}.sh`);
  // The script `exec`s redis-server: the child's pid is the server's.
  const child = spawn('/bin/sh', [script], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      REDIS_PASSWORD: password,
      ME_HOST: '127.0.0.1',
      PORT: String(node.port),
      SENTINELS: sentinelNodes.map((s) => `127.0.0.1:${s.port}`).join(' '),
      FIRST_MASTER: `127.0.0.1:${redisNodes[0]?.port}`,
      MASTER_NAME: 'mymaster',
      CONF_DIR: conf,
      DATA_DIR: data,
      QUORUM: '2',
      // The rendered StatefulSet says 5000; 1000 keeps the test short (measured here: failover ≈ 2.3 s).
      DOWN_AFTER_MS: '1000',
    },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  processes.set(node.name, child);
}

async function kill(node: Node): Promise<void> {
  const child = processes.get(node.name);
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

const role = (port: number) => cli(port, 'ROLE').split('\n');
const masterSeenBy = (sentinel: Node) =>
  cli(sentinel.port, 'SENTINEL', 'get-master-addr-by-name', 'mymaster').split('\n')[1];

describe('Redis + Sentinel start scripts (rendered) on real redis-server', () => {
  before(async () => {
    assert.ok(scripts?.['redis.sh'] && scripts['sentinel.sh'], 'the ConfigMap holds both scripts');
    writeFileSync(join(dir, 'redis.sh'), scripts['redis.sh']);
    writeFileSync(join(dir, 'sentinel.sh'), scripts['sentinel.sh']);
    redisNodes = [
      { name: 'redis-0', port: await freePort(), kind: 'redis' },
      { name: 'redis-1', port: await freePort(), kind: 'redis' },
    ];
    sentinelNodes = await Promise.all(
      [0, 1, 2].map(async (i) => ({ name: `redis-sentinel-${i}`, port: await freePort(), kind: 'sentinel' as const })),
    );
    // podManagementPolicy: Parallel — everything starts at once.
    for (const n of [...sentinelNodes, ...redisNodes]) start(n);
  });

  after(async () => {
    for (const n of [...redisNodes, ...sentinelNodes]) await kill(n);
    rmSync(dir, { recursive: true, force: true });
    fixture.remove();
  });

  it('on a first start redis-0 is master, redis-1 replicates it and every Sentinel monitors it', async () => {
    const [r0, r1] = redisNodes as [Node, Node];
    await waitFor(
      'replication and Sentinel discovery',
      async () =>
        role(r1.port)[0] === 'slave' &&
        role(r1.port)[3] === 'connected' &&
        sentinelNodes.every(
          (s) =>
            masterSeenBy(s) === String(r0.port) &&
            cli(s.port, 'SENTINEL', 'sentinels', 'mymaster')
              .split('\n')
              .filter((l) => l === 'name').length === 2,
        ),
      30_000,
      250,
    );
    // Sentinel only fails over to a replica it has recently seen in sync (else -failover-abort-no-good-slave).
    await waitFor(
      'every Sentinel to see the replica in sync',
      async () =>
        sentinelNodes.every((s) => {
          const fields = cli(s.port, 'SENTINEL', 'replicas', 'mymaster').split('\n');
          return fields[fields.indexOf('master-link-status') + 1] === 'ok';
        }),
      30_000,
      250,
    );
    assert.equal(role(r0.port)[0], 'master');
    assert.equal(cli(r0.port, 'SET', 'lumen', 'before-failover'), 'OK');
    await waitFor(
      'the write to replicate',
      async () => cli(r1.port, 'GET', 'lumen') === 'before-failover',
      10_000,
      100,
    );
  });

  it('after the master dies Sentinel promotes redis-1; restarted, redis-0 rejoins as its replica', async () => {
    const [r0, r1] = redisNodes as [Node, Node];
    await kill(r0);
    await waitFor(
      'failover to redis-1',
      async () => sentinelNodes.every((s) => masterSeenBy(s) === String(r1.port)) && role(r1.port)[0] === 'master',
      30_000,
      250,
    );
    assert.equal(cli(r1.port, 'SET', 'lumen', 'after-failover'), 'OK');
    start(r0);
    await waitFor(
      'redis-0 to rejoin as a replica of redis-1',
      async () => {
        const r = role(r0.port);
        return r[0] === 'slave' && r[2] === String(r1.port) && r[3] === 'connected';
      },
      30_000,
      250,
    );
    await waitFor('redis-0 to catch up', async () => cli(r0.port, 'GET', 'lumen') === 'after-failover', 10_000, 100);
    // Never two masters.
    assert.deepEqual(
      redisNodes.map((n) => role(n.port)[0]),
      ['slave', 'master'],
    );
  });

  it('a restarted Sentinel monitors the current master, not the first one', async () => {
    const [, r1] = redisNodes as [Node, Node];
    const s0 = sentinelNodes[0] as Node;
    await kill(s0);
    start(s0);
    await waitFor(
      'the restarted Sentinel to answer',
      async () => masterSeenBy(s0) !== undefined && masterSeenBy(s0) !== '',
      15_000,
      200,
    );
    assert.equal(masterSeenBy(s0), String(r1.port));
  });
});
