/**
 * `bundle push` sends each blob once per registry: a layer shared by two images of one bundle is
 * uploaded once and mounted into the other repository, and a later bundle that adds an image
 * sharing a layer with one already in the registry mounts it instead of uploading it again.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { digestOf, Registry } from '@lumen/oci';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { seedChart } from './support/fixture.ts';
import { seedImage } from './support/images.ts';
import { writeInventory } from './support/inventory.ts';
import { type RecordingProxy, startProxy } from './support/proxy.ts';
import { lumen } from './support/run.ts';

/** Digests uploaded (finalized by a PUT ?digest=) in the recorded requests. */
const uploaded = (p: RecordingProxy) =>
  p.requests
    .filter((r) => r.method === 'PUT' && r.status === 201 && r.path.includes('digest='))
    .map((r) => new URL(r.path, 'http://x').searchParams.get('digest'));

describe('bundle push deduplicates across repositories', () => {
  const work = mkdtempSync(join(tmpdir(), 'lumen-dedupe-'));
  let upstream: TestRegistry;
  let airgap: TestRegistry;
  let proxy: RecordingProxy;
  const shared = randomBytes(200 * 1024);
  const images = (names: string[]) =>
    names.map((n) => ({ name: n, source: `${upstream.host}/apps/${n}`, tag: '1', platforms: ['linux/amd64'] }));

  before(async () => {
    [upstream, airgap] = await Promise.all([startRegistry(), startRegistry()]);
    proxy = await startProxy({ host: '127.0.0.1', port: airgap.port });
    const up = new Registry({ host: upstream.host, plainHttp: true });
    for (const n of ['a', 'b', 'c'])
      await seedImage(up, `apps/${n}`, '1', { platforms: ['linux/amd64'], shared, layerSizes: [30_000] });
    await seedChart(up, work);
    for (const [dir, names] of [
      ['v1', ['a', 'b']],
      ['v2', ['a', 'b', 'c']],
    ] as const) {
      const inv = writeInventory(join(work, dir), {
        registry: proxy.host,
        images: images([...names]),
        charts: [{ name: 'fixture', repo: `oci://${upstream.host}/charts`, chart: 'fixture', version: '0.1.0' }],
      });
      for (const args of [
        ['inventory', 'lock', '--inventory', inv, '--plain-http-registry', upstream.host],
        [
          'bundle',
          'create',
          '--out',
          join(work, `${dir}-bundle`),
          '--inventory',
          inv,
          '--plain-http-registry',
          upstream.host,
        ],
      ]) {
        const r = await lumen(args);
        assert.equal(r.code, 0, r.stderr);
      }
    }
  });

  after(async () => {
    await Promise.allSettled([upstream?.close(), airgap?.close(), proxy?.close()]);
    rmSync(work, { recursive: true, force: true });
  });

  it('uploads a layer shared by two images once and mounts it into the second', async () => {
    const r = await lumen(['bundle', 'push', join(work, 'v1-bundle'), '--inventory', join(work, 'v1'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(uploaded(proxy).filter((d) => d === digestOf(shared)).length, 1);
    assert.equal(JSON.parse(r.stdout).mounted, 1);
  });

  it('a later bundle adding an image mounts the shared layer from the registry instead of uploading it', async () => {
    proxy.requests.length = 0;
    const r = await lumen(['bundle', 'push', join(work, 'v2-bundle'), '--inventory', join(work, 'v2'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      uploaded(proxy).filter((d) => d === digestOf(shared)),
      [],
      'the shared layer is not uploaded again',
    );
    const c = JSON.parse(r.stdout).items.find((i: { name: string }) => i.name === 'c');
    assert.equal(c.mounted, 1);
    assert.ok(proxy.requests.some((q) => q.method === 'POST' && q.path.includes('mount=') && q.status === 201));
  });
});
