/**
 * Plain-HTTP sources (docs/inventory.md): a classic chart repository and a file served over http:// are locked and
 * bundled when their entries say `plainHttp: true`; without it the inventory is refused, naming the entry and the
 * setting to add, and nothing is fetched.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { digestOf } from '@lumen/oci';
import { type ChartRepo, makeChart, startChartRepo } from './support/charts.ts';
import { writeInventory } from './support/inventory.ts';
import { lumen } from './support/run.ts';

const work = mkdtempSync(join(tmpdir(), 'lumen-plain-http-'));
const file = randomBytes(64 * 1024);
let repo: ChartRepo;

before(async () => {
  const demo = makeChart(work, 'demo', '0.1.0');
  repo = await startChartRepo(
    work,
    [{ name: 'demo', version: '0.1.0', archive: demo }],
    { '/files/tool': file },
    {
      plainHttp: true,
    },
  );
});
after(async () => {
  await repo?.close();
  rmSync(work, { recursive: true, force: true });
});

const inventory = (dir: string, plainHttp: boolean | undefined) =>
  writeInventory(join(work, dir), {
    registry: '127.0.0.1:1',
    images: [],
    charts: [{ name: 'demo', repo: repo.url, chart: 'demo', version: '0.1.0', ...(plainHttp ? { plainHttp } : {}) }],
    files: [
      {
        name: 'tool',
        url: repo.url.replace('/charts', '/files/tool'),
        version: '1.0',
        ...(plainHttp ? { plainHttp } : {}),
      },
    ],
  });

test('http:// sources marked plainHttp: true are locked and bundled', async () => {
  assert.match(repo.url, /^http:\/\//);
  const dir = inventory('allowed', true);
  const lock = await lumen(['inventory', 'lock', '--inventory', dir, '--json']);
  assert.equal(lock.code, 0, lock.stderr);
  const entries = JSON.parse(lock.stdout).entries as { kind: string; digest: string }[];
  assert.equal(entries.find((e) => e.kind === 'file')?.digest, digestOf(file));
  const create = await lumen(['bundle', 'create', '--out', join(work, 'bundle'), '--inventory', dir, '--json']);
  assert.equal(create.code, 0, create.stderr);
  assert.deepEqual([JSON.parse(create.stdout).charts, JSON.parse(create.stdout).files], [1, 1]);
});

test('an http:// source without plainHttp: true is refused, naming the entry and the setting; nothing is fetched', async () => {
  const before = repo.requests.length;
  const r = await lumen(['inventory', 'lock', '--inventory', inventory('refused', undefined)]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /charts\.yaml:\d+: charts\[0\]\.repo: is http:\/\/: add plainHttp: true to this entry/);
  assert.match(r.stderr, /files\.yaml:\d+: files\[0\]\.url: is http:\/\/: add plainHttp: true to this entry/);
  assert.equal(repo.requests.length, before);
});
