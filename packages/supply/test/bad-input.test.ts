/**
 * A bad inventory (unknown field, missing version, a tag without a digest where the lock is
 * required) or an unreachable registry gives one clear error line, an exit code ≠ 0, and leaves
 * nothing half-written behind (no bundle directory, no temporary files, lock.yaml unchanged).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeInventory } from './support/inventory.ts';
import { lumen, runCommand } from './support/run.ts';

const quick = { LUMEN_REGISTRY_RETRIES: '1', LUMEN_REGISTRY_RETRY_BASE_MS: '10' };

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as { port: number };
  await new Promise((ok) => srv.close(ok));
  return port;
}

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0] ?? '', /^lumen: /);
  return lines[0] ?? '';
}

describe('bad input and unreachable registries', () => {
  const work = mkdtempSync(join(tmpdir(), 'lumen-bad-'));
  let dead: string;
  const digest = `sha256:${'ab'.repeat(32)}`;

  before(async () => {
    dead = `127.0.0.1:${await closedPort()}`;
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  const inventory = (name: string, lock?: string) =>
    writeInventory(join(work, name), {
      registry: dead,
      images: [{ name: 'app', source: `${dead}/library/app`, tag: '1.0', platforms: ['linux/amd64'] }],
      charts: [{ name: 'c', repo: `oci://${dead}/charts`, chart: 'c', version: '1.0.0' }],
      ...(lock !== undefined ? { lock } : {}),
    });
  const lockText = `lockVersion: 1\nimages:\n  app:\n    tag: "1.0"\n    digest: ${digest}\ncharts:\n  c:\n    version: 1.0.0\n    digest: ${digest}\n`;

  it('an unknown field in images.yaml', async () => {
    const dir = inventory('unknown-field', lockText);
    const images = readFileSync(join(dir, 'images.yaml'), 'utf8');
    writeFileSync(join(dir, 'images.yaml'), images.replace('platforms:', 'platfroms: [linux/amd64]\n    platforms:'));
    const out = join(work, 'b1');
    const r = await lumen(['bundle', 'create', '--out', out, '--inventory', dir]);
    assert.equal(r.code, 2);
    assert.match(oneLine(r.stderr), /images\.yaml:\d+.*platfroms/);
    assert.equal(existsSync(out), false);
  });

  it('a chart without a version', async () => {
    const dir = inventory('no-version', lockText);
    writeFileSync(
      join(dir, 'charts.yaml'),
      readFileSync(join(dir, 'charts.yaml'), 'utf8').replace(/ {4}version: .*\n/, ''),
    );
    const out = join(work, 'b2');
    const r = await lumen(['bundle', 'create', '--out', out, '--inventory', dir]);
    assert.equal(r.code, 2);
    assert.match(oneLine(r.stderr), /charts\.yaml.*version/);
    assert.equal(existsSync(out), false);
  });

  it('a tag without a digest when bundle create requires the lock', async () => {
    const dir = inventory('unlocked');
    const out = join(work, 'b3');
    const r = await lumen(['bundle', 'create', '--out', out, '--inventory', dir]);
    assert.equal(r.code, 2);
    assert.match(oneLine(r.stderr), /images\.app: no digest for tag 1\.0 \(run 'lumen inventory lock'\)/);
    assert.equal(existsSync(out), false);
  });

  it('an unreachable registry in bundle create: exit 3, no bundle directory', async () => {
    const dir = inventory('unreachable', lockText);
    const out = join(work, 'b4');
    const r = await lumen(['bundle', 'create', '--out', out, '--inventory', dir, '--plain-http-registry', dead], quick);
    assert.equal(r.code, 3);
    assert.match(oneLine(r.stderr), /ECONNREFUSED/);
    assert.equal(existsSync(out), false);
  });

  it('an unreachable registry in inventory lock: exit 3, lock.yaml unchanged', async () => {
    const dir = inventory('lock-unreachable', lockText);
    const r = await lumen(['inventory', 'lock', '--inventory', dir, '--plain-http-registry', dead], quick);
    assert.equal(r.code, 3);
    oneLine(r.stderr);
    assert.equal(readFileSync(join(dir, 'lock.yaml'), 'utf8'), lockText);
    assert.deepEqual(readdirSync(dir).sort(), ['charts.yaml', 'images.yaml', 'lock.yaml', 'site.yaml']);
  });

  it('HTTPS is the default: a plain-HTTP registry is not spoken to unless asked', async () => {
    const dir = inventory('https-default', lockText);
    process.env.LUMEN_REGISTRY_RETRIES = '0';
    const r = await runCommand('inventory lock', ['--inventory', dir]).finally(() => {
      delete process.env.LUMEN_REGISTRY_RETRIES;
    });
    assert.equal(r.code, 3);
    assert.match(r.message ?? '', new RegExp(`https://${dead.replace('.', '\\.')}`));
  });

  it('an unreachable registry in bundle push and sign: exit 3, one line', async () => {
    const missing = await lumen(
      ['bundle', 'push', join(work, 'nothing-here'), '--registry', dead, '--plain-http'],
      quick,
    );
    assert.equal(missing.code, 4, 'no bundle there: a local error first');
    oneLine(missing.stderr);
    // An empty but valid bundle, pushed to a registry nobody listens on.
    const empty = join(work, 'empty-bundle');
    mkdirSync(join(empty, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(empty, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(empty, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    writeFileSync(
      join(empty, 'lumen-bundle.json'),
      '{"bundleVersion":1,"created":"2026-01-01T00:00:00Z","images":[],"charts":[],"files":[],"blobs":{}}',
    );
    const push = await lumen(['bundle', 'push', empty, '--registry', dead, '--plain-http'], quick);
    assert.equal(push.code, 3);
    assert.match(oneLine(push.stderr), /ECONNREFUSED/);
    const keyDir = join(work, 'keys');
    assert.equal((await lumen(['keygen', '--out', keyDir])).code, 0);
    const sign = await lumen(
      ['sign', '--key', join(keyDir, 'cosign.key'), '--plain-http', `${dead}/library/app:1.0`],
      quick,
    );
    assert.equal(sign.code, 3);
    assert.match(oneLine(sign.stderr), /ECONNREFUSED/);
  });

  it('usage errors: unknown flag, missing argument, bad reference', async () => {
    const unknown = await lumen(['bundle', 'create', '--out', join(work, 'x'), '--bogus']);
    assert.equal(unknown.code, 2);
    assert.match(oneLine(unknown.stderr), /bundle create: .*--bogus/);
    assert.equal((await runCommand('bundle push', [])).code, 2);
    assert.equal((await runCommand('bundle create', [])).code, 2);
    const ref = await runCommand('verify', ['--key', '/nonexistent.pub', 'UPPER/Case:bad tag']);
    assert.equal(ref.code, 2);
    const key = await runCommand('sign', ['--key', '/nonexistent.key', `${dead}/a:1`]);
    assert.equal(key.code, 2);
    assert.match(key.message ?? '', /cannot read key \/nonexistent\.key/);
  });
});
