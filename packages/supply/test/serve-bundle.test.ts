/**
 * `lumen serve B` through the real bin: the bundle served read-only over the OCI distribution API, read by the real
 * skopeo (inspect, copy of every platform into an OCI layout) and by Helm's chart layout; writes refused with 405;
 * unknown names with the registry's error codes; a corrupt blob cut off before its last chunk (skopeo fails); SIGTERM
 * stops it with exit 0.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { digestOf } from '@lumen/oci';
import { freePort, startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { lumenBin } from '@lumen/testkit/lumen';
import { type Bundled, bundleOf } from './support/fixture.ts';

const run = promisify(execFile);

let upstream: TestRegistry;
let fixture: Bundled;
let server: ChildProcess;
let host: string;
let stderr = '';

async function startServe(bundle: string): Promise<void> {
  host = `127.0.0.1:${await freePort()}`;
  server = spawn(process.execPath, [lumenBin, 'serve', bundle, '--listen', host], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  server.stderr?.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lumen serve did not start: ${stderr}`)), 30_000);
    server.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('serving ')) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.once('exit', (code) => reject(new Error(`lumen serve exited ${code}: ${stderr}`)));
  });
}

before(async () => {
  upstream = await startRegistry();
  fixture = await bundleOf(upstream, 'airgap.invalid:5000', { images: 1 });
  await startServe(fixture.bundle);
});
after(async () => {
  server?.kill('SIGKILL');
  await upstream?.close();
  rmSync(fixture.work, { recursive: true, force: true });
});

describe('lumen serve', () => {
  it('skopeo inspects and copies every platform of an image, and the chart, from it, digests intact', async () => {
    const image = fixture.images[0];
    assert.ok(image);
    const raw = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${host}/${image.repo}:1`]);
    assert.equal(digestOf(raw.stdout), image.digest);
    const out = join(fixture.work, 'copied');
    await run('skopeo', [
      'copy',
      '--all',
      '--preserve-digests',
      '--src-tls-verify=false',
      `docker://${host}/${image.repo}:1`,
      `oci:${out}:1`,
    ]);
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8'));
    assert.equal(index.manifests[0].digest, image.digest);
    // The chart too: a Helm OCI artifact is copied like any manifest.
    const charts = join(fixture.work, 'charts');
    await run('skopeo', [
      'copy',
      '--preserve-digests',
      '--src-tls-verify=false',
      `docker://${host}/charts/fixture:0.1.0`,
      `oci:${charts}:0.1.0`,
    ]);
    const chartManifest = JSON.parse(readFileSync(join(charts, 'index.json'), 'utf8')).manifests[0];
    const served = await fetch(`http://${host}/v2/charts/fixture/manifests/0.1.0`, { method: 'HEAD' });
    assert.equal(chartManifest.digest, served.headers.get('docker-content-digest'));
  });

  it('answers the catalog, tag lists, HEAD and the chart as a Helm OCI artifact', async () => {
    const catalog = await (await fetch(`http://${host}/v2/_catalog`)).json();
    assert.deepEqual(catalog, { repositories: ['charts/fixture', 'test/img0'] });
    assert.deepEqual(await (await fetch(`http://${host}/v2/test/img0/tags/list`)).json(), {
      name: 'test/img0',
      tags: ['1'],
    });
    const chart = await fetch(`http://${host}/v2/charts/fixture/manifests/0.1.0`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(chart.status, 200);
    const manifest = (await chart.json()) as { config: { mediaType: string } };
    assert.equal(manifest.config.mediaType, 'application/vnd.cncf.helm.config.v1+json');
    const head = await fetch(`http://${host}/v2/test/img0/manifests/1`, { method: 'HEAD' });
    assert.equal(head.headers.get('docker-content-digest'), fixture.images[0]?.digest);
  });

  it('refuses writes (405) and names unknown repositories, tags and blobs', async () => {
    const put = await fetch(`http://${host}/v2/test/img0/manifests/2`, { method: 'PUT', body: '{}' });
    assert.equal(put.status, 405);
    assert.equal(((await put.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'UNSUPPORTED');
    const codeOf = async (path: string) => {
      const r = await fetch(`http://${host}${path}`);
      return `${r.status} ${((await r.json()) as { errors: Array<{ code: string }> }).errors[0]?.code}`;
    };
    assert.equal(await codeOf('/v2/nope/manifests/1'), '404 NAME_UNKNOWN');
    assert.equal(await codeOf('/v2/test/img0/manifests/9'), '404 MANIFEST_UNKNOWN');
    assert.equal(await codeOf(`/v2/test/img0/blobs/sha256:${'0'.repeat(64)}`), '404 BLOB_UNKNOWN');
    assert.equal(await codeOf('/v2/test/img0/blobs/latest'), '400 DIGEST_INVALID');
  });

  it('cuts a corrupt blob off before its last chunk: skopeo fails, nothing whole is delivered', async () => {
    const image = fixture.images[0];
    const layer = image?.platforms['linux/amd64']?.blobs.at(-1) as string;
    const path = join(fixture.bundle, 'blobs', 'sha256', layer.slice(7));
    const original = readFileSync(path);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from([original[0] === 0 ? 1 : 0]), 0, 1, 0);
    closeSync(fd);
    try {
      // The blob fits in one chunk: held back, so not one byte of it (nor the status line) leaves.
      await assert.rejects(async () => (await fetch(`http://${host}/v2/test/img0/blobs/${layer}`)).arrayBuffer());
      await assert.rejects(
        run('skopeo', [
          'copy',
          '--src-tls-verify=false',
          `docker://${host}/${image?.repo}:1`,
          `oci:${join(fixture.work, 'bad')}:1`,
        ]),
      );
      assert.match(stderr, new RegExp(`blob ${layer} in the bundle is corrupt: connection cut`));
    } finally {
      const restore = openSync(path, 'r+');
      writeSync(restore, original, 0, 1, 0);
      closeSync(restore);
    }
  });

  it('stops on SIGTERM with exit 0', async () => {
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(stderr, /lumen serve: SIGTERM: stopping/);
  });
});
