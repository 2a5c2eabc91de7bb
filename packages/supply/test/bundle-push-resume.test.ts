/**
 * A push interrupted in the middle of a blob resumes without re-sending the blobs already
 * complete: once within a run (the connection is cut mid-chunk and the client asks the
 * registry where the upload stands), and across runs (the push dies; the next run skips every
 * blob the registry already has).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Registry } from '@lumen/oci';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { readBundle } from '../src/bundle.ts';
import { type Bundled, bundleOf } from './support/fixture.ts';
import { type Recorded, type RecordingProxy, startProxy } from './support/proxy.ts';
import { lumen } from './support/run.ts';

const chunk = 256 * 1024;
const env = { LUMEN_UPLOAD_CHUNK_BYTES: String(chunk), LUMEN_REGISTRY_RETRY_BASE_MS: '20' };

/** Digests finalized (`PUT …?digest=` answered 201) in a list of recorded requests. */
function finalized(requests: Recorded[]): string[] {
  return requests
    .filter((r) => r.method === 'PUT' && r.status === 201 && r.path.includes('digest='))
    .map((r) => new URL(r.path, 'http://x').searchParams.get('digest') ?? '');
}

/** Blob bytes sent: PATCH bodies and the bodies of closing PUTs (one-chunk blobs go whole in the PUT). */
function uploadBytes(requests: Recorded[]): number {
  return requests
    .filter((r) => r.method === 'PATCH' || (r.method === 'PUT' && r.path.includes('/blobs/uploads/')))
    .reduce((n, r) => n + r.bytes, 0);
}

describe('bundle push resumes an interrupted upload', () => {
  let upstream: TestRegistry;
  let airgap: TestRegistry;
  let second: TestRegistry;
  let proxy: RecordingProxy;
  let proxy2: RecordingProxy;
  let proxy3: RecordingProxy;
  let third: TestRegistry;
  let fourth: TestRegistry;
  let proxy4: RecordingProxy;
  let fx: Bundled;
  let sizes: Record<string, number> = {};
  /** Every blob a complete push finalizes (configs, layers, chart blobs). */
  let pushed: string[] = [];

  before(async () => {
    [upstream, airgap, second, third, fourth] = await Promise.all([
      startRegistry(),
      startRegistry(),
      startRegistry(),
      startRegistry(),
      startRegistry(),
    ]);
    proxy = await startProxy({ host: '127.0.0.1', port: airgap.port });
    proxy2 = await startProxy({ host: '127.0.0.1', port: second.port });
    proxy3 = await startProxy({ host: '127.0.0.1', port: third.port });
    proxy4 = await startProxy({ host: '127.0.0.1', port: fourth.port });
    // Layers of 3.5 chunks, so a cut lands inside a multi-chunk blob.
    fx = await bundleOf(upstream, airgap.host, { images: 2, layerSizes: [Math.round(chunk * 3.5), 90 * 1024] });
    sizes = (await readBundle(fx.bundle)).manifest.blobs;
  });

  after(async () => {
    await Promise.allSettled(
      [upstream, airgap, second, third, fourth, proxy, proxy2, proxy3, proxy4].map((x) => x?.close()),
    );
    if (fx) rmSync(fx.work, { recursive: true, force: true });
  });

  it('a connection cut in mid-chunk is resumed in the same run; completed blobs are sent once', async () => {
    // Cut the first PATCH that reaches 100 KiB (the first chunk of a multi-chunk layer): the
    // config and small blobs before it are complete by then.
    proxy.cutPatchAfter(100 * 1024);
    const r = await lumen(
      ['bundle', 'push', fx.bundle, '--registry', proxy.host, '--plain-http', '--concurrency', '1', '--json'],
      env,
    );
    const patches = proxy.requests.filter((q) => q.method === 'PATCH').length;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(proxy.cuts, 1);
    const result = JSON.parse(r.stdout);
    assert.ok(result.resumes >= 1, 'the upload was resumed');
    pushed = finalized(proxy.requests);
    assert.equal(new Set(pushed).size, pushed.length, 'every blob is finalized exactly once');
    // Only the interrupted blob is partly sent twice: at most one blob's worth of extra bytes.
    const blobBytes = pushed.reduce((n, d) => n + (sizes[d] ?? 0), 0);
    const extra = uploadBytes(proxy.requests) - blobBytes;
    assert.ok(extra > 0 && extra <= Math.round(chunk * 3.5), `re-sent ${extra} bytes over ${patches} PATCHes`);
    const v = await lumen(['bundle', 'verify', fx.bundle, '--no-inventory']);
    assert.equal(v.code, 0, v.stderr);
    const reg = new Registry({ host: airgap.host, plainHttp: true });
    const { manifest } = await readBundle(fx.bundle);
    for (const img of manifest.images)
      assert.equal((await reg.getManifest(img.repository, img.tag)).digest, img.digest);
  });

  it('a connection lost between chunks resumes at the offset the registry reports: no byte sent twice', async () => {
    // The 2nd PATCH of the first multi-chunk layer never reaches the registry; its session stays valid.
    proxy3.dropPatch(2);
    const r = await lumen(
      ['bundle', 'push', fx.bundle, '--registry', proxy3.host, '--plain-http', '--concurrency', '1', '--json'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(proxy3.cuts, 1);
    assert.ok(JSON.parse(r.stdout).resumes >= 1);
    const status = proxy3.requests.filter((q) => q.method === 'GET' && q.path.includes('/blobs/uploads/'));
    assert.equal(status.length, 1, 'one upload status query');
    assert.equal(status[0]?.status, 204);
    const done = finalized(proxy3.requests);
    const blobBytes = done.reduce((n, d) => n + (sizes[d] ?? 0), 0);
    assert.equal(uploadBytes(proxy3.requests), blobBytes, 'every blob byte crossed exactly once');
  });

  it('a connection cut in a blob sent whole (the default 64 MiB chunk: one PUT) starts that blob over in the same run', async () => {
    proxy4.cutPutAfter(100 * 1024);
    const r = await lumen(
      ['bundle', 'push', fx.bundle, '--registry', proxy4.host, '--plain-http', '--concurrency', '1', '--json'],
      { LUMEN_REGISTRY_RETRY_BASE_MS: '20' },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(proxy4.cuts, 1);
    assert.ok(JSON.parse(r.stdout).resumes >= 1, 'the upload was started over');
    assert.equal(proxy4.requests.filter((q) => q.method === 'PATCH').length, 1, 'the blob went again in one PATCH');
    const done = finalized(proxy4.requests);
    assert.deepEqual(new Set(done), new Set(pushed));
    assert.equal(done.length, pushed.length, 'every blob is finalized exactly once');
    const extra = uploadBytes(proxy4.requests) - done.reduce((n, d) => n + (sizes[d] ?? 0), 0);
    assert.ok(extra > 0 && extra <= Math.round(chunk * 3.5), `re-sent ${extra} bytes`);
    const reg = new Registry({ host: fourth.host, plainHttp: true });
    const { manifest } = await readBundle(fx.bundle);
    for (const img of manifest.images)
      assert.equal((await reg.getManifest(img.repository, img.tag)).digest, img.digest);
  });

  it('a push that dies mid-blob is finished by the next run without re-sending completed blobs', async () => {
    proxy2.cutPatchAfter(100 * 1024);
    // No retries: the first run fails on the cut, like a killed process.
    const first = await lumen(
      ['bundle', 'push', fx.bundle, '--registry', proxy2.host, '--plain-http', '--concurrency', '1'],
      {
        ...env,
        LUMEN_REGISTRY_RETRIES: '0',
      },
    );
    assert.equal(first.code, 3, first.stderr);
    assert.equal(
      first.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('lumen:')).length,
      1,
    );
    const firstRun = [...proxy2.requests];
    const completedBefore = finalized(firstRun);
    assert.ok(completedBefore.length > 0, 'some blobs completed before the cut');
    assert.ok(completedBefore.length < pushed.length, 'the cut happened before the end');
    proxy2.requests.length = 0;
    const again = await lumen(
      ['bundle', 'push', fx.bundle, '--registry', proxy2.host, '--plain-http', '--concurrency', '1', '--json'],
      env,
    );
    assert.equal(again.code, 0, again.stderr);
    const resent = finalized(proxy2.requests).filter((d) => completedBefore.includes(d));
    assert.deepEqual(resent, [], 'no completed blob is uploaded again');
    const result = JSON.parse(again.stdout);
    assert.equal(result.uploaded + result.mounted, pushed.length - completedBefore.length);
    assert.deepEqual(new Set([...completedBefore, ...finalized(proxy2.requests)]), new Set(pushed));
    const reg = new Registry({ host: second.host, plainHttp: true });
    const { manifest } = await readBundle(fx.bundle);
    for (const img of manifest.images)
      assert.equal((await reg.getManifest(img.repository, img.tag)).digest, img.digest);
  });
});
