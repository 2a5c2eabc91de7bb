/**
 * `lumen image build` beside `podman build` of the same image, in the same run, each cold and warm, for linux/amd64
 * (the host platform podman builds for), ending in the same product: an OCI image layout with gzip layers.
 *
 * - lumen cold: no compressed layer cached (the inputs are: fetching them is the network's time, not the build's);
 *   lumen warm: the layer cache of the cold run.
 * - podman: the base is lumen's own base image, loaded from its layout (`oci:` transport), so both build on the same
 *   base. apps/api/Dockerfile's build stage runs `npm ci`, which needs a registry these machines lack; the bench builds
 *   its final stage — the same COPY steps, config and user — from a context holding exactly what that stage copies
 *   (the production node_modules and the application, unpacked from lumen's layers). `podman build` then
 *   `podman push oci:` (which compresses); cold with `--no-cache`, warm with podman's layer cache.
 *
 * The ratio is podman's time over lumen's (above 1: lumen is faster).
 *
 *   npm run bench -- packages/image
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startPodman } from '@lumen/testkit';

const root = resolve(import.meta.dirname, '../../..');
const work = join(tmpdir(), `lumen-image-bench-${randomBytes(4).toString('hex')}`);
const inputsCache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lumen', 'image-inputs');
const lumenBin = join(root, 'packages', 'cli', 'bin', 'lumen.js');

function seconds(fn: () => void): number {
  const started = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function lumenBuild(
  out: string,
  cache: string,
): { digest: string; layers: Array<{ name: string; digest: string; size: number }> } {
  const r = spawnSync(
    process.execPath,
    [lumenBin, 'image', 'build', '--platform', 'linux/amd64', '--out', out, '--cache', cache, '--json'],
    { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`lumen image build failed:\n${r.stderr}`);
  const built = JSON.parse(r.stdout);
  return { digest: built.digest, layers: built.platforms[0].layers };
}

mkdirSync(work);
const podman = startPodman();
try {
  // A cache holding the inputs only (copied from the shared one), so the cold build compresses every layer.
  const cache = join(work, 'cache');
  mkdirSync(join(cache, 'blobs', 'sha256'), { recursive: true });
  cpSync(join(inputsCache, 'blobs', 'sha256'), join(cache, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(cache, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(cache, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
  // Layers a previous build cached are not inputs: drop them from the copy.
  for (const name of readdirSync(join(inputsCache, 'layers'), { withFileTypes: true }).map((d) => d.name)) {
    const blob = readFileSync(join(inputsCache, 'layers', name), 'utf8')
      .trim()
      .slice(7);
    rmSync(join(cache, 'blobs', 'sha256', blob), { force: true });
  }

  let built: ReturnType<typeof lumenBuild> | undefined;
  const lumenCold = seconds(() => {
    built = lumenBuild(join(work, 'lumen-cold'), cache);
  });
  const lumenWarm = seconds(() => lumenBuild(join(work, 'lumen-warm'), cache));
  if (!built) throw new Error('no build');
  const layout = join(work, 'lumen-cold');
  const blob = (digest: string) => join(layout, 'blobs', 'sha256', digest.slice(7));
  const index = JSON.parse(readFileSync(blob(built.digest), 'utf8'));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), 'utf8'));
  const base = manifest.annotations['org.opencontainers.image.base.digest'] as string;

  // The base alone as a layout of its own, for podman to load.
  const baseLayout = join(work, 'base');
  cpSync(layout, baseLayout, { recursive: true });
  const baseSize = readFileSync(blob(base)).length;
  writeFileSync(
    join(baseLayout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: base,
          size: baseSize,
          annotations: { 'org.opencontainers.image.ref.name': 'base' },
        },
      ],
    }),
  );
  await podman(['pull', '-q', `oci:${baseLayout}:base`], { timeout: 600_000 });
  const images = (await podman(['images', '--format', '{{.ID}} {{.Repository}}'])).stdout.trim().split('\n');
  const baseId = images.find((l) => l.includes('base'))?.split(' ')[0];
  if (!baseId) throw new Error(`base not loaded: ${images.join('; ')}`);
  await podman(['tag', baseId, 'localhost/lumen-base:bench']);

  // The Dockerfile's final stage, from a context of what it copies.
  const context = join(work, 'context');
  mkdirSync(context);
  for (const l of built.layers.filter((x) => x.name !== 'base'))
    execFileSync('tar', ['-xzf', blob(l.digest), '-C', context]);
  writeFileSync(
    join(context, 'Containerfile'),
    [
      'FROM localhost/lumen-base:bench',
      'ENV NODE_ENV=production LUMEN_DATA_DIR=/data',
      'WORKDIR /app/apps/api',
      'COPY app/node_modules /app/node_modules',
      'COPY app/apps/api /app/apps/api',
      'USER 10001:10001',
      'EXPOSE 8080 9090',
      'ENTRYPOINT ["node"]',
      'CMD ["--import", "./src/telemetry.ts", "src/main.ts"]',
      '',
    ].join('\n'),
  );
  const podmanBuild = async (cache: boolean, out: string) => {
    const started = process.hrtime.bigint();
    await podman(['build', '-q', ...(cache ? [] : ['--no-cache']), '-t', 'localhost/lumen-api:bench', context], {
      timeout: 900_000,
    });
    await podman(['push', '-q', 'localhost/lumen-api:bench', `oci:${join(work, out)}:bench`], { timeout: 900_000 });
    return Number(process.hrtime.bigint() - started) / 1e9;
  };
  const podmanCold = await podmanBuild(false, 'podman-cold');
  const podmanWarm = await podmanBuild(true, 'podman-warm');

  console.log('image build for linux/amd64 to an OCI layout, seconds (one run each, the same machine, in turn)');
  console.log('| build | lumen image build | podman build + push oci: | ratio podman / lumen |');
  console.log('| --- | --- | --- | --- |');
  console.log(
    `| cold | ${lumenCold.toFixed(1)} | ${podmanCold.toFixed(1)} | ${(podmanCold / lumenCold).toFixed(2)}× |`,
  );
  console.log(
    `| warm | ${lumenWarm.toFixed(1)} | ${podmanWarm.toFixed(1)} | ${(podmanWarm / lumenWarm).toFixed(2)}× |`,
  );
  console.log(`lumen layers: ${built.layers.map((l) => `${l.name} ${(l.size / 1048576).toFixed(1)} MiB`).join(', ')}`);
} finally {
  await podman.close();
  rmSync(work, { recursive: true, force: true });
}
