/**
 * The layer cache gives back only what a fresh compression would: a hit is the stored blob; a blob whose bytes were
 * damaged, or a map entry naming a blob of another tar, is a miss (the layer is compressed again), never a wrong
 * layer.
 */
import assert from 'node:assert/strict';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { digestOf } from '@lumen/oci';
import { LayerCache } from '../src/layer-cache.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function fresh(): Promise<{ dir: string; cache: LayerCache }> {
  const dir = await mkdtemp(join(tmpdir(), 'lumen-layer-cache-'));
  dirs.push(dir);
  return { dir, cache: await LayerCache.open(dir) };
}

const tar = Buffer.from('a tar, as far as the cache knows\n'.repeat(100));
const blob = gzipSync(tar);
const diffId = digestOf(tar);

describe('layer cache', () => {
  it('gives back the stored blob for its diff ID, and nothing for another', async () => {
    const { cache } = await fresh();
    assert.equal(await cache.get(diffId), undefined);
    await cache.put(diffId, blob);
    assert.deepEqual(await cache.get(diffId), blob);
    assert.equal(await cache.get(digestOf('another tar')), undefined);
  });

  it('a damaged blob is a miss', async () => {
    const { dir, cache } = await fresh();
    await cache.put(diffId, blob);
    const damaged = Buffer.from(blob);
    damaged.writeUInt8((damaged.at(-5) ?? 0) ^ 0xff, damaged.length - 5);
    writeFileSync(join(dir, 'blobs', 'sha256', digestOf(blob).slice(7)), damaged);
    assert.equal(await cache.get(diffId), undefined);
  });

  it('a map entry naming the blob of another tar is a miss', async () => {
    const { dir, cache } = await fresh();
    const other = gzipSync(Buffer.from('another tar'));
    await cache.put(digestOf('another tar'), other);
    writeFileSync(join(dir, 'layers', diffId.slice(7)), `${digestOf(other)}\n`);
    assert.equal(await cache.get(diffId), undefined);
  });

  it('concurrent writers of the same layer leave one intact blob and no temporary files', async () => {
    const { dir, cache } = await fresh();
    await Promise.all(Array.from({ length: 8 }, () => cache.put(diffId, blob)));
    assert.deepEqual(await cache.get(diffId), blob);
    assert.deepEqual(readdirSync(join(dir, 'blobs', 'sha256')), [digestOf(blob).slice(7)]);
    assert.deepEqual(readdirSync(join(dir, 'layers')), [diffId.slice(7)]);
  });
});
