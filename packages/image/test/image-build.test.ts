/**
 * `lumen image build` through the real bin, on the repository's real inventory inputs (Debian packages and Node.js,
 * fetched once into the image-inputs cache by the README's test command): two builds give the same digests; a
 * changed application file changes only the application layer; the image runs under Debian's podman as uid 10001
 * on a read-only root filesystem and serves lumen-api in embedded mode; the arm64 base runs Node.js under qemu-user;
 * bad inputs exit with their documented codes.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort, type Podman, startPodman, waitFor } from '@lumen/testkit';
import { copyInventory } from '@lumen/testkit/inventory';
import { runLumen } from '@lumen/testkit/lumen';

const root = resolve(import.meta.dirname, '..', '..', '..');
// Lower case: podman names an image pulled from an oci: layout after its path, and names are lower case.
const work = join(tmpdir(), `lumen-image-${randomBytes(6).toString('hex')}`);
mkdirSync(work);
const run = promisify(execFile);

interface Built {
  layout: string;
  tag: string;
  digest: string;
  sbom: { tag: string; digest: string };
  platforms: Array<{
    platform: string;
    manifest: string;
    config: string;
    base: string;
    layers: Array<{ name: string; digest: string; diffId: string; size: number }>;
  }>;
}

async function build(args: string[], env: Record<string, string | undefined> = {}): Promise<Built> {
  const r = await runLumen(['image', 'build', '--json', ...args], { env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Built;
}

const blob = (layout: string, digest: string) => readFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)));
const json = (layout: string, digest: string) => JSON.parse(blob(layout, digest).toString('utf8'));

/** `lumen image build` on an edited inventory copy, from the repository's tree. */
const buildWith = (inventory: string, args: string[]) =>
  runLumen(['image', 'build', '--inventory', inventory, '--context', root, ...args]);

/** Points the amd64 libc6 input of an inventory copy at `url`. */
function libc6From(inv: ReturnType<typeof copyInventory>, url: string): void {
  inv.edit(
    'files.yaml',
    /url: http:\/\/deb\.debian\.org\/debian\/pool\/main\/g\/glibc\/libc6_[^\n]*_amd64\.deb/,
    `url: ${url}`,
  );
}

let first: Built;
let second: Built;

before(async () => {
  first = await build(['--out', join(work, 'a')]);
  // The second build compresses every layer afresh: the same digests then prove the compression deterministic.
  second = await build(['--out', join(work, 'b'), '--no-layer-cache']);
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('lumen image build', () => {
  it('gives the same digests when built twice from the same inputs, for amd64 and arm64', () => {
    assert.equal(first.digest, second.digest);
    assert.deepEqual(first.platforms, second.platforms);
    assert.deepEqual(
      first.platforms.map((p) => p.platform),
      ['linux/amd64', 'linux/arm64'],
    );
    assert.deepEqual(blob(first.layout, first.digest), blob(second.layout, second.digest));
    for (const p of first.platforms) {
      assert.deepEqual(
        p.layers.map((l) => l.name),
        ['base', 'node_modules', 'app'],
      );
    }
    // The shared layers are one blob for both platforms; the bases differ.
    const [amd64, arm64] = first.platforms;
    assert.equal(amd64?.layers[1]?.digest, arm64?.layers[1]?.digest);
    assert.notEqual(amd64?.layers[0]?.digest, arm64?.layers[0]?.digest);
  });

  it('writes a config that runs node as 10001 in production, and annotates manifests and the index', () => {
    const index = json(first.layout, first.digest);
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    const refs = JSON.parse(readFileSync(join(first.layout, 'index.json'), 'utf8')).manifests;
    assert.deepEqual(
      refs.map((d: { digest: string; annotations: Record<string, string> }) => [
        d.digest,
        d.annotations['org.opencontainers.image.ref.name'],
      ]),
      [
        [first.digest, first.tag],
        [first.sbom.digest, `sha256-${first.digest.slice(7)}.sbom`],
      ],
    );
    const revision = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    for (const [i, p] of first.platforms.entries()) {
      const manifest = json(first.layout, p.manifest);
      assert.deepEqual(index.manifests[i].platform, {
        os: 'linux',
        architecture: p.platform.split('/')[1],
      });
      assert.equal(manifest.annotations['org.opencontainers.image.base.digest'], p.base);
      assert.match(manifest.annotations['org.opencontainers.image.revision'], new RegExp(`^${revision}`));
      assert.equal(manifest.annotations['org.opencontainers.image.created'], '1970-01-01T00:00:00Z');
      const config = json(first.layout, p.config);
      assert.equal(config.config.User, '10001:10001');
      assert.deepEqual(config.config.Entrypoint, ['node']);
      assert.deepEqual(config.config.Cmd, ['--import', './src/telemetry.ts', 'src/main.ts']);
      assert.ok(config.config.Env.includes('NODE_ENV=production'));
      assert.deepEqual(Object.keys(config.config.ExposedPorts), ['8080/tcp', '9090/tcp']);
      assert.deepEqual(
        config.rootfs.diff_ids,
        p.layers.map((l) => l.diffId),
      );
      // Each layer's blob is what the manifest says, and its diff ID is the digest of the uncompressed tar.
      for (const l of p.layers) {
        const bytes = blob(first.layout, l.digest);
        assert.equal(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, l.digest);
      }
    }
  });

  it('changes only the application layer when one application file changes', async () => {
    const context = join(work, 'context');
    mkdirSync(join(context, 'apps', 'api'), { recursive: true });
    cpSync(join(root, 'package-lock.json'), join(context, 'package-lock.json'));
    symlinkSync(join(root, 'node_modules'), join(context, 'node_modules'));
    symlinkSync(join(root, 'apps', 'api', 'node_modules'), join(context, 'apps', 'api', 'node_modules'));
    for (const part of ['package.json', 'src', 'migrations']) {
      cpSync(join(root, 'apps', 'api', part), join(context, 'apps', 'api', part), { recursive: true });
    }
    const ids = join(context, 'apps', 'api', 'src', 'ids.ts');
    writeFileSync(ids, `${readFileSync(ids, 'utf8')}\n// changed\n`);
    const changed = await build(['--out', join(work, 'c'), '--context', context, '--platform', 'linux/amd64']);
    const [before, after] = [first.platforms[0], changed.platforms[0]];
    assert.equal(after?.layers[0]?.digest, before?.layers[0]?.digest, 'base');
    assert.equal(after?.layers[1]?.digest, before?.layers[1]?.digest, 'node_modules');
    assert.notEqual(after?.layers[2]?.digest, before?.layers[2]?.digest, 'app');
  });
});

describe('the built image', () => {
  let podman: Podman;
  let image: string;
  before(async () => {
    podman = startPodman();
    // The oci: transport reads the layout; podman picks the host's platform (amd64) from the index.
    const pulled = await podman(['pull', '-q', `oci:${first.layout}:${first.tag}`], { timeout: 300_000 });
    image = pulled.stdout.trim();
  });
  after(async () => podman?.close());

  it('podman: runs as uid 10001 on a read-only root filesystem', async () => {
    const probe = await podman([
      'run',
      '--rm',
      '--read-only',
      '--network',
      'host',
      image,
      '-e',
      "let w='written';try{require('fs').writeFileSync('/probe','x')}catch(e){w=e.code}" +
        ';console.log(JSON.stringify({uid:process.getuid(),gid:process.getgid(),w,v:process.version,env:process.env.NODE_ENV}))',
    ]);
    const seen = JSON.parse(probe.stdout.trim().split('\n').at(-1) as string);
    assert.deepEqual(seen, { uid: 10001, gid: 10001, w: 'EROFS', v: 'v24.21.0', env: 'production' });
  });

  it('podman: serves lumen-api in embedded mode (/livez, a write read back) and exits 0 on SIGTERM', async () => {
    const [port, adminPort] = [await freePort(), await freePort()];
    await podman([
      'run',
      '-d',
      '--name',
      'api',
      '--read-only',
      '--network',
      'host',
      '-v',
      'lumen-data:/data',
      '-e',
      `PORT=${port}`,
      '-e',
      `ADMIN_PORT=${adminPort}`,
      '-e',
      'SHUTDOWN_DELAY_MS=200',
      image,
    ]);
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      'lumen-api in podman to answer /livez',
      async () => (await fetch(`${base}/livez`).catch(() => undefined))?.ok === true,
      60_000,
    );
    assert.deepEqual(await (await fetch(`${base}/livez`)).json(), { status: 'alive' });
    const created = await fetch(`${base}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'from-the-image' }),
    });
    assert.equal(created.status, 201);
    const item = (await created.json()) as { id: number };
    const read = await fetch(`${base}/items/${item.id}`);
    assert.equal(((await read.json()) as { name: string }).name, 'from-the-image');
    await podman(['stop', '-t', '30', 'api']);
    const state = await podman(['inspect', 'api', '--format', '{{.State.ExitCode}}']);
    assert.equal(state.stdout.trim(), '0');
  });
});

describe('the arm64 base', () => {
  const qemu = ['/usr/bin/qemu-aarch64-static', '/usr/bin/qemu-aarch64'].find((p) => existsSync(p));
  it('qemu-user: the arm64 image root runs its Node.js (loader, C and C++ libraries from the Debian packages)', async () => {
    assert.ok(qemu, 'qemu-user-static is installed by the README test command');
    const arm64 = first.platforms[1];
    assert.equal(arm64?.platform, 'linux/arm64');
    const rootfs = join(work, 'arm64-root');
    mkdirSync(rootfs);
    for (const l of arm64?.layers.slice(0, 1) ?? []) {
      execFileSync('tar', ['-xzf', join(first.layout, 'blobs', 'sha256', l.digest.slice(7)), '-C', rootfs]);
    }
    const { stdout } = await run(qemu, [
      '-L',
      rootfs,
      join(rootfs, 'usr', 'local', 'bin', 'node'),
      '-p',
      'process.arch + " " + process.version + " " + new Intl.DateTimeFormat("en", { timeZone: "Europe/Berlin" }).resolvedOptions().timeZone',
    ]);
    assert.equal(stdout.trim(), 'arm64 v24.21.0 Europe/Berlin');
  });
});

describe('bad inputs', () => {
  let server: Server;
  let junkUrl: string;
  const junk = Buffer.from('this is not a Debian package\n');
  before(async () => {
    server = createServer((_req, res) => res.end(junk));
    const port = await freePort();
    await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
    junkUrl = `http://127.0.0.1:${port}/libc6_2.36-9+deb12u14_amd64.deb`;
  });
  after(() => server?.close());

  it('a pinned input that is not a Debian package exits 1 naming it', async () => {
    const inv = copyInventory();
    try {
      libc6From(inv, junkUrl);
      const digest = `sha256:${createHash('sha256').update(junk).digest('hex')}`;
      inv.edit('lock.yaml', /(deb-libc6-amd64:\n\s+version: \S+\n\s+digest: )sha256:[0-9a-f]{64}/, `$1${digest}`);
      const r = await buildWith(inv.dir, ['--platform', 'linux/amd64', '--out', join(work, 'bad')]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^lumen: deb-libc6-amd64 is not a Debian package \(no ar archive header\)$/m);
    } finally {
      inv.remove();
    }
  });

  it('an input whose bytes differ from lock.yaml is refused (exit 1) and not cached', async () => {
    const inv = copyInventory();
    const cache = join(work, 'empty-cache');
    try {
      libc6From(inv, junkUrl);
      const r = await runLumen([
        'image',
        'fetch',
        '--inventory',
        inv.dir,
        '--cache',
        cache,
        '--platform',
        'linux/amd64',
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^lumen: file deb-libc6-amd64: http:\/\/127\.0\.0\.1:\d+\/\S+ does not match lock\.yaml/m);
      assert.deepEqual(execFileSync('find', [join(cache, 'blobs'), '-type', 'f'], { encoding: 'utf8' }), '');
    } finally {
      inv.remove();
    }
  });

  it('a platform without a Node.js input, a bundle that lacks the inputs, a bad SOURCE_DATE_EPOCH: exit 2', async () => {
    const inv = copyInventory();
    try {
      inv.edit('files.yaml', / {2}- name: node-linux-arm64\n( {4}[^\n]*\n)+/, '');
      inv.edit('lock.yaml', / {2}node-linux-arm64:\n( {4}[^\n]*\n)+/, '');
      const noNode = await buildWith(inv.dir, ['--out', join(work, 'x')]);
      assert.equal(noNode.code, 2, noNode.stderr);
      assert.match(noNode.stderr, /^lumen: the inventory has no Node\.js input of image lumen-api for linux\/arm64/m);
    } finally {
      inv.remove();
    }
    const bundle = join(work, 'empty-bundle');
    mkdirSync(join(bundle, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(bundle, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(bundle, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    writeFileSync(
      join(bundle, 'lumen-bundle.json'),
      JSON.stringify({ bundleVersion: 1, created: '', images: [], charts: [], files: [], blobs: {} }),
    );
    const lacking = await runLumen(['image', 'build', '--bundle', bundle, '--out', join(work, 'y')]);
    assert.equal(lacking.code, 2, lacking.stderr);
    assert.match(
      lacking.stderr,
      /^lumen: the bundle \S+ does not carry file deb-libc6-amd64 \(sha256:[0-9a-f]{64}\)$/m,
    );
    const epoch = await runLumen(['image', 'build', '--out', join(work, 'z')], {
      env: { SOURCE_DATE_EPOCH: 'yesterday' },
    });
    assert.equal(epoch.code, 2, epoch.stderr);
    assert.match(epoch.stderr, /SOURCE_DATE_EPOCH must be whole seconds since 1970, got 'yesterday'/);
  });
});
