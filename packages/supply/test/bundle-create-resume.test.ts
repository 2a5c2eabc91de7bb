/**
 * `bundle create` survives a download lost in mid-blob (it downloads that blob again) and, when
 * it dies of it, leaves no half-written blob under a digest name and resumes on the next run
 * without fetching again the blobs it already had.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from '@lumen/oci';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { readBundle } from '../src/bundle.ts';
import { seedChart } from './support/fixture.ts';
import { seedImage } from './support/images.ts';
import { writeInventory } from './support/inventory.ts';
import { type RecordingProxy, startProxy } from './support/proxy.ts';
import { lumen } from './support/run.ts';

const blobGets = (p: RecordingProxy) =>
  p.requests
    .filter((r) => r.method === 'GET' && r.path.includes('/blobs/sha256:'))
    .map((r) => r.path.split('/blobs/')[1] ?? '');

describe('bundle create resumes an interrupted download', () => {
  const work = mkdtempSync(join(tmpdir(), 'lumen-create-resume-'));
  let upstream: TestRegistry;
  let proxy: RecordingProxy;
  let inventory: string;
  const quick = { LUMEN_REGISTRY_RETRY_BASE_MS: '10' };

  before(async () => {
    upstream = await startRegistry();
    proxy = await startProxy({ host: '127.0.0.1', port: upstream.port });
    const up = new Registry({ host: upstream.host, plainHttp: true });
    for (const i of [0, 1, 2]) {
      await seedImage(up, `test/img${i}`, '1', { platforms: ['linux/amd64'], layerSizes: [600 * 1024, 300 * 1024] });
    }
    await seedChart(up, work);
    // The inventory names the proxy, so every upstream byte passes through it.
    inventory = writeInventory(join(work, 'inventory'), {
      registry: '127.0.0.1:1',
      images: [0, 1, 2].map((i) => ({
        name: `img${i}`,
        source: `${proxy.host}/test/img${i}`,
        tag: '1',
        platforms: ['linux/amd64'],
      })),
      charts: [{ name: 'fixture', repo: `oci://${proxy.host}/charts`, chart: 'fixture', version: '0.1.0' }],
    });
    const r = await lumen(['inventory', 'lock', '--inventory', inventory, '--plain-http-registry', proxy.host]);
    assert.equal(r.code, 0, r.stderr);
  });

  after(async () => {
    await Promise.allSettled([upstream?.close(), proxy?.close()]);
    rmSync(work, { recursive: true, force: true });
  });

  it('downloads a blob again when its body is cut, in the same run', async () => {
    proxy.requests.length = 0;
    proxy.cutBlobGetAfter(100 * 1024);
    const out = join(work, 'same-run');
    const r = await lumen(
      ['bundle', 'create', '--out', out, '--inventory', inventory, '--plain-http-registry', proxy.host, '--json'],
      quick,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(proxy.cutBlob);
    const gets = blobGets(proxy);
    assert.equal(gets.filter((d) => d === proxy.cutBlob).length, 2, 'the cut blob is fetched twice');
    assert.equal(new Set(gets).size, gets.length - 1, 'every other blob once');
    assert.equal((await lumen(['bundle', 'verify', out, '--inventory', inventory])).code, 0);
  });

  it('a run that dies mid-blob leaves no half-written blob; the next run fetches only what is missing', async () => {
    proxy.requests.length = 0;
    proxy.cutBlobGetAfter(100 * 1024);
    const out = join(work, 'two-runs');
    const first = await lumen(
      [
        'bundle',
        'create',
        '--out',
        out,
        '--inventory',
        inventory,
        '--plain-http-registry',
        proxy.host,
        '--concurrency',
        '1',
      ],
      { ...quick, LUMEN_REGISTRY_RETRIES: '0' },
    );
    assert.equal(first.code, 3, first.stderr);
    assert.match(first.stderr.trim(), /^lumen: .*blob sha256:[a-f0-9]{64}/m);
    const cut = proxy.cutBlob ?? '';
    const present = readdirSync(join(out, 'blobs', 'sha256')).map((h) => `sha256:${h}`);
    assert.ok(!present.includes(cut), 'the cut blob is not under its digest name');
    assert.equal(existsSync(join(out, 'lumen-bundle.json')), false, 'an unfinished bundle has no manifest');
    assert.equal(existsSync(join(out, '.lumen-tmp')), false, 'no temporary download left');
    const firstGets = blobGets(proxy).filter((d) => d !== cut);
    proxy.requests.length = 0;
    const again = await lumen(
      ['bundle', 'create', '--out', out, '--inventory', inventory, '--plain-http-registry', proxy.host, '--json'],
      quick,
    );
    assert.equal(again.code, 0, again.stderr);
    const refetched = blobGets(proxy).filter((d) => firstGets.includes(d));
    assert.deepEqual(refetched, [], 'blobs fetched by the first run are not fetched again');
    assert.ok(blobGets(proxy).includes(cut));
    const result = JSON.parse(again.stdout);
    assert.equal(result.reused, firstGets.length);
    const { manifest } = await readBundle(out);
    assert.equal(manifest.images.length, 3);
    assert.equal((await lumen(['bundle', 'verify', out, '--inventory', inventory])).code, 0);
  });
});
