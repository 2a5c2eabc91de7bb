/**
 * lumen as one executable (`npm run build:cli`, docs/single-executable.md), run as a transit host runs it: copied
 * into an empty directory with no `node` on PATH and no node_modules anywhere above it. It locks a fixture
 * inventory against a real "upstream" registry, creates a bundle that carries an image, a chart and the executable
 * itself (a `path:` file of the inventory), verifies and lists it, pushes it into a real "airgap" registry, and
 * signs and verifies an image there with a key it generated — each with its documented exit code, and the bad
 * cases too. Two builds of the same sources give the same bytes. The arm64 executable is checked for its
 * architecture and, where Debian's qemu-user-static is installed (the README's test command installs it), run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { digestOf, MediaType, Registry } from '@lumen/oci';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { toolsBin } from '@lumen/testkit/tools';
import { chartArtifact } from '../src/charts.ts';
import { makeChart } from './support/charts.ts';
import { seedImage } from './support/images.ts';
import { writeInventory } from './support/inventory.ts';

const repoRoot = resolve(import.meta.dirname, '../../..');
const qemu = ['/usr/bin/qemu-aarch64-static', '/usr/bin/qemu-aarch64'].find((p) => existsSync(p));
/** Debian's arm64 cross libraries (libc6-arm64-cross, libstdc++6-arm64-cross): the root qemu runs the binary in. */
const arm64Root = '/usr/aarch64-linux-gnu';

/** Runs the build script the way `npm run build:cli` does. */
function buildInto(out: string): string {
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/build-cli.ts'), '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, `build:cli failed:\n${r.stderr}`);
  return readFileSync(join(out, 'SHA256SUMS'), 'utf8');
}

describe('the single executable on a transit host', () => {
  const work = mkdtempSync(join(tmpdir(), 'lumen-sea-'));
  const transit = mkdtempSync(join(tmpdir(), 'lumen-transit-'));
  const emptyBin = join(transit, 'empty-bin');
  const lumenExe = join(transit, 'lumen');
  const invDir = join(work, 'inventory');
  const bundle = join(transit, 'bundle');
  let sums: string;
  let upstream: TestRegistry;
  let airgap: TestRegistry;

  /** Runs the copied executable in the transit directory, with only an empty directory on PATH. */
  const run = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(lumenExe, args, {
      cwd: transit,
      env: { PATH: emptyBin, HOME: transit, ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };

  before(async () => {
    sums = buildInto(join(work, 'dist'));
    mkdirSync(emptyBin);
    copyFileSync(join(work, 'dist', 'lumen-linux-amd64'), lumenExe);
    spawnSync('chmod', ['0755', lumenExe]);
    [upstream, airgap] = await Promise.all([startRegistry(), startRegistry()]);
    const up = new Registry({ host: upstream.host, plainHttp: true });
    await seedImage(up, 'library/app', '1.0', { platforms: ['linux/amd64', 'linux/arm64'] });
    const oci = chartArtifact(makeChart(work, 'ocichart', '1.0.0'), { chart: 'ocichart', version: '1.0.0' });
    for (const blob of [oci.config, oci.archive]) {
      await up.uploadBlob('charts/ocichart', digestOf(blob), blob.length, (s, e) =>
        Readable.from([blob.subarray(s, e + 1)]),
      );
    }
    await up.putManifest('charts/ocichart', '1.0.0', oci.manifest, MediaType.ociManifest);
    writeInventory(invDir, {
      registry: airgap.host,
      images: [
        { name: 'app', source: `${upstream.host}/library/app`, tag: '1.0', platforms: ['linux/amd64', 'linux/arm64'] },
      ],
      charts: [{ name: 'ocichart', repo: `oci://${upstream.host}/charts`, chart: 'ocichart', version: '1.0.0' }],
      files: [{ name: 'lumen-linux-amd64', path: 'dist/lumen-linux-amd64', version: '0.1.0', platform: 'linux/amd64' }],
    });
  });

  after(async () => {
    await Promise.allSettled([upstream?.close(), airgap?.close()]);
    rmSync(work, { recursive: true, force: true });
    rmSync(transit, { recursive: true, force: true });
  });

  it('has no node on PATH and no node_modules above it', () => {
    assert.notEqual(spawnSync('/bin/sh', ['-c', 'command -v node'], { env: { PATH: emptyBin } }).status, 0);
    for (let dir = transit; ; dir = dirname(dir)) {
      assert.ok(!existsSync(join(dir, 'node_modules')), `${dir}/node_modules exists`);
      if (dirname(dir) === dir) break;
    }
  });

  it('--help and version answer, exit 0; an unknown command exits 2', () => {
    const help = run(['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /bundle push/);
    // The executable prints the help stamped at build time, without loading the commands: the checkout's, word for word.
    const checkout = spawnSync(process.execPath, [join(repoRoot, 'packages/cli/bin/lumen.js'), '--help'], {
      encoding: 'utf8',
    });
    assert.equal(help.stdout, checkout.stdout);
    const version = run(['version']);
    assert.equal(version.code, 0, version.stderr);
    assert.match(
      version.stdout,
      /^lumen 0\.1\.0\nrevision [0-9a-f]{40}(\+dirty)?\nplatform linux\/amd64\nruntime node v24\.\d+\.\d+ \(single executable\)\n$/,
    );
    // The build platform's executable carries V8 code caches that the runtime accepts (a rejected one warns): the
    // main script's, and that of the platform and proof commands' script, which --help loads.
    assert.equal(version.stderr, '');
    assert.equal(help.stderr, '');
    const unknown = run(['nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^lumen: unknown command 'nope'/);
  });

  it('locks, creates a bundle that carries itself, verifies and lists it', () => {
    const plain = ['--inventory', invDir, '--plain-http-registry', upstream.host];
    const lock = run(['inventory', 'lock', ...plain]);
    assert.equal(lock.code, 0, lock.stderr);
    const create = run(['bundle', 'create', '--out', bundle, ...plain, '--json']);
    assert.equal(create.code, 0, create.stderr);
    assert.deepEqual(
      [JSON.parse(create.stdout).images, JSON.parse(create.stdout).charts, JSON.parse(create.stdout).files],
      [1, 1, 1],
    );
    const verify = run(['bundle', 'verify', bundle, '--inventory', invDir, '--json']);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(JSON.parse(verify.stdout).ok, true);
    const ls = run(['bundle', 'ls', bundle]);
    assert.equal(ls.code, 0, ls.stderr);
    const digest = `sha256:${sums.split(/\s+/)[0]}`;
    assert.match(ls.stdout, new RegExp(`file\\s+lumen-linux-amd64\\s+0\\.1\\.0\\s+.*${digest}`));
    // What crossed is the executable itself, and it runs from the bundle.
    const carried = join(bundle, 'blobs', 'sha256', digest.slice(7));
    assert.deepEqual(readFileSync(carried), readFileSync(lumenExe));
  });

  it('bundle verify of a missing bundle exits 4; of a tampered blob, 1', () => {
    assert.equal(run(['bundle', 'verify', join(transit, 'no-such-bundle'), '--no-inventory']).code, 4);
    const copy = join(transit, 'tampered');
    spawnSync('cp', ['-r', bundle, copy]);
    const manifest = JSON.parse(readFileSync(join(copy, 'lumen-bundle.json'), 'utf8')) as {
      charts: { archiveDigest: string }[];
    };
    const blob = join(copy, 'blobs', 'sha256', (manifest.charts[0]?.archiveDigest ?? '').slice(7));
    spawnSync('sh', ['-c', `printf x >> '${blob}'`]);
    const r = run(['bundle', 'verify', copy, '--no-inventory']);
    assert.equal(r.code, 1, r.stderr);
  });

  it('pushes the bundle into the airgap registry, then signs and verifies an image there', () => {
    const push = run(['bundle', 'push', bundle, '--registry', airgap.host, '--plain-http', '--json']);
    assert.equal(push.code, 0, push.stderr);
    const keys = join(transit, 'keys');
    assert.equal(run(['keygen', '--out', keys]).code, 0);
    const ls = run(['bundle', 'ls', bundle]);
    const appDigest = /^image\s+app\s.*\s(sha256:[0-9a-f]{64})$/m.exec(ls.stdout)?.[1];
    assert.ok(appDigest, ls.stdout);
    const ref = `${airgap.host}/library/app@${appDigest}`;
    const sign = run(['sign', '--key', join(keys, 'cosign.key'), '--plain-http', ref]);
    assert.equal(sign.code, 0, sign.stderr);
    const verify = run(['verify', '--key', join(keys, 'cosign.pub'), '--plain-http', ref]);
    assert.equal(verify.code, 0, verify.stderr);
    // A key that did not sign it: exit 1, as documented.
    const otherKeys = join(transit, 'other');
    assert.equal(run(['keygen', '--out', otherKeys]).code, 0);
    assert.equal(run(['verify', '--key', join(otherKeys, 'cosign.pub'), '--plain-http', ref]).code, 1);
    // A digest the registry does not have: exit 3 (remote), nothing signed.
    const missing = `${airgap.host}/library/app@sha256:${'0'.repeat(64)}`;
    assert.equal(run(['sign', '--key', join(keys, 'cosign.key'), '--plain-http', missing]).code, 3);
  });

  it('lumen check runs from the executable: its model validators and their field catalogue are inside it', () => {
    const manifest = join(transit, 'deployment.yaml');
    writeFileSync(
      manifest,
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: { name: web, namespace: default }',
        'spec:',
        '  replicas: "two"',
        '  selector: { matchLabels: { app: web } }',
        '  template:',
        '    metadata: { labels: { app: web } }',
        '    spec:',
        '      containers:',
        `        - { name: web, image: "registry.test/web@sha256:${'0'.repeat(64)}", resouces: {} }`,
        '',
      ].join('\n'),
    );
    // The engines (gator) come from the tool cache, as on any host: LUMEN_TOOLS_BIN names it.
    // The platform's own inventory: check proves files against the platform model that inventory describes.
    const r = run(
      ['check', manifest, '--inventory', join(repoRoot, 'inventory'), '--deploy', join(repoRoot, 'deploy')],
      {
        LUMEN_TOOLS_BIN: toolsBin(),
      },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout + r.stderr, /\.spec\.replicas must be integer|replicas.*integer/);
    assert.match(r.stdout + r.stderr, /containers\[0\]\.resouces is not a known field/);
  });

  it('builds the same bytes twice from the same sources', () => {
    assert.equal(buildInto(join(work, 'dist-again')), sums);
  });

  it('builds an arm64 executable for AArch64, which runs where qemu-user is installed', (t) => {
    const arm = join(work, 'dist', 'lumen-linux-arm64');
    const header = Buffer.alloc(20);
    readSync(openSync(arm, 'r'), header, 0, 20, 0);
    assert.equal(header.subarray(0, 4).toString('latin1'), '\x7fELF');
    assert.equal(header.readUInt16LE(18), 183, 'e_machine is EM_AARCH64');
    if (qemu === undefined || !existsSync(join(arm64Root, 'lib', 'ld-linux-aarch64.so.1'))) {
      t.diagnostic(
        'arm64 executable NOT RUN: needs qemu-user-static, libc6-arm64-cross and libstdc++6-arm64-cross (the README test command installs them)',
      );
      return;
    }
    const r = spawnSync(qemu, ['-L', arm64Root, arm, 'version'], {
      env: { PATH: emptyBin },
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /platform linux\/arm64\nruntime node v24\.\d+\.\d+ \(single executable\)/);
  });
});
