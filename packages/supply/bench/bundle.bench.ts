/**
 * `lumen bundle create` and `lumen bundle push` against `skopeo copy` of the same images in the
 * same run, on real Distribution registries on loopback. skopeo gets the same parallelism (4
 * copies at a time) as lumen's default --concurrency. Prints seconds per round (median of 3)
 * and the ratio skopeo/lumen (≥ 1.0 means lumen is at least as fast).
 *
 *   npm run bench -- packages/supply
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { digestOf, MediaType, Registry } from '@lumen/oci';
import { startRegistry } from '@lumen/testkit';
import { chartArtifact } from '../src/charts.ts';
import { mapLimit } from '../src/concurrency.ts';
import { makeChart } from '../test/support/charts.ts';
import { seedImage } from '../test/support/images.ts';
import { writeInventory } from '../test/support/inventory.ts';
import { lumen } from '../test/support/run.ts';

const run = promisify(execFile);
const IMAGES = 6;
const PLATFORMS = ['linux/amd64', 'linux/arm64'];
const LAYERS = [16 * 1024 * 1024, 4 * 1024 * 1024, 512 * 1024];
const ROUNDS = 3;

const work = mkdtempSync(join(tmpdir(), 'lumen-bench-'));
const upstream = await startRegistry();
const registries = [upstream];
try {
  const up = new Registry({ host: upstream.host, plainHttp: true });
  const images: Awaited<ReturnType<typeof seedImage>>[] = [];
  for (let i = 0; i < IMAGES; i++)
    images.push(await seedImage(up, `bench/img${i}`, '1', { platforms: PLATFORMS, layerSizes: LAYERS }));
  const chart = chartArtifact(makeChart(work, 'benchchart', '0.1.0'), { chart: 'benchchart', version: '0.1.0' });
  for (const blob of [chart.config, chart.archive]) {
    await up.uploadBlob('charts/benchchart', digestOf(blob), blob.length, (s, e) =>
      Readable.from([blob.subarray(s, e + 1)]),
    );
  }
  await up.putManifest('charts/benchchart', '0.1.0', chart.manifest, MediaType.ociManifest);
  const mib = (IMAGES * PLATFORMS.length * LAYERS.reduce((a, b) => a + b, 0)) / 1024 / 1024;
  const inventory = writeInventory(join(work, 'inventory'), {
    registry: '127.0.0.1:1',
    images: images.map((img, i) => ({
      name: `img${i}`,
      source: `${upstream.host}/${img.repo}`,
      tag: '1',
      platforms: PLATFORMS,
    })),
    charts: [{ name: 'benchchart', repo: `oci://${upstream.host}/charts`, chart: 'benchchart', version: '0.1.0' }],
  });
  const must = async (args: string[]) => {
    const r = await lumen(args);
    if (r.code !== 0) throw new Error(`lumen ${args.join(' ')}: ${r.stderr}`);
  };
  await must(['inventory', 'lock', '--inventory', inventory, '--plain-http-registry', upstream.host]);

  const time = async (fn: () => Promise<unknown>) => {
    const t = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const rows: { op: string; lumen: number; skopeo: number }[] = [];

  // create: registry → OCI layout
  const createL: number[] = [];
  const createS: number[] = [];
  const pushL: number[] = [];
  const pushS: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const lb = join(work, `lumen-${round}`);
    const sb = join(work, `skopeo-${round}`);
    createL.push(
      await time(() =>
        must(['bundle', 'create', '--out', lb, '--inventory', inventory, '--plain-http-registry', upstream.host]),
      ),
    );
    createS.push(
      await time(() =>
        mapLimit(images, 8, (img, i) =>
          run('skopeo', [
            'copy',
            '--all',
            '--quiet',
            '--src-tls-verify=false',
            `docker://${upstream.host}/${img.repo}:1`,
            `oci:${sb}-${i}:img`,
          ]),
        ),
      ),
    );
    // push: OCI layout → a fresh registry each, so nothing is skipped
    const [tl, ts] = await Promise.all([startRegistry(), startRegistry()]);
    registries.push(tl, ts);
    pushL.push(await time(() => must(['bundle', 'push', lb, '--registry', tl.host, '--plain-http'])));
    pushS.push(
      await time(() =>
        mapLimit(images, 8, (img, i) =>
          run('skopeo', [
            'copy',
            '--all',
            '--quiet',
            '--dest-tls-verify=false',
            `oci:${sb}-${i}:img`,
            `docker://${ts.host}/${img.repo}:1`,
          ]),
        ),
      ),
    );
    await Promise.all([tl.close(), ts.close()]);
  }
  rows.push({ op: 'bundle create  vs skopeo copy docker:// → oci:', lumen: median(createL), skopeo: median(createS) });
  rows.push({ op: 'bundle push    vs skopeo copy oci: → docker://', lumen: median(pushL), skopeo: median(pushS) });
  console.log(
    `${IMAGES} images × ${PLATFORMS.length} platforms, ${mib.toFixed(1)} MiB of layers, median of ${ROUNDS} rounds`,
  );
  console.log('operation                                          lumen s   skopeo s   ratio (skopeo/lumen)');
  for (const r of rows) {
    console.log(
      `${r.op.padEnd(50)} ${r.lumen.toFixed(2).padStart(7)}   ${r.skopeo.toFixed(2).padStart(8)}   ${(r.skopeo / r.lumen).toFixed(2)}×`,
    );
  }
} finally {
  await Promise.allSettled(registries.map((r) => r.close()));
  rmSync(work, { recursive: true, force: true });
}
