/**
 * `lumen bundle create` and `lumen bundle push` against `skopeo copy` of the same images in the
 * same run, on real Distribution registries on loopback: lumen as one process (its default
 * --concurrency), skopeo as one process per image, all at once. Prints wall seconds (median of
 * 3 rounds), the ratio skopeo/lumen (≥ 1.0 means lumen is at least as fast) and, when
 * /usr/bin/time is installed, the CPU seconds each side used.
 *
 *   npm run bench -- packages/supply
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { digestOf, MediaType, Registry } from '@lumen/oci';
import { startRegistry } from '@lumen/testkit';
import { chartArtifact } from '../src/charts.ts';
import { makeChart } from '../test/support/charts.ts';
import { seedImage } from '../test/support/images.ts';
import { writeInventory } from '../test/support/inventory.ts';
import { lumen } from '../test/support/run.ts';

const run = promisify(execFile);
const IMAGES = 6;
const PLATFORMS = ['linux/amd64', 'linux/arm64'];
const LAYERS = [16 * 1024 * 1024, 4 * 1024 * 1024, 512 * 1024];
const ROUNDS = 3;
const hasTime = existsSync('/usr/bin/time');

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

  /**
   * Runs a shell command line under /usr/bin/time (when installed) for wall and CPU seconds of
   * the command and its children; skopeo's copies run as parallel processes of one `sh`.
   */
  const measure = async (line: string): Promise<{ wall: number; cpu: number | undefined }> => {
    const t = process.hrtime.bigint();
    if (hasTime) {
      const { stderr } = await run('/usr/bin/time', ['-f', 'LUMENTIME %U %S', 'sh', '-c', line], {
        maxBuffer: 64 << 20,
      });
      const m = /LUMENTIME ([\d.]+) ([\d.]+)/.exec(stderr);
      return { wall: Number(process.hrtime.bigint() - t) / 1e9, cpu: m ? Number(m[1]) + Number(m[2]) : undefined };
    }
    await run('sh', ['-c', line], { maxBuffer: 64 << 20 });
    return { wall: Number(process.hrtime.bigint() - t) / 1e9, cpu: undefined };
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const lumenCmd = `${process.execPath} ${join(import.meta.dirname, '..', '..', 'cli', 'bin', 'lumen.js')}`;
  const parallel = (cmds: string[]) => `${cmds.map((c) => `${c} &`).join(' ')} wait`;
  const samples = { createL: [], createS: [], pushL: [], pushS: [] } as Record<
    string,
    { wall: number; cpu: number | undefined }[]
  >;
  for (let round = 0; round < ROUNDS; round++) {
    const lb = join(work, `lumen-${round}`);
    const sb = join(work, `skopeo-${round}`);
    samples.createL?.push(
      await measure(
        `${lumenCmd} bundle create --out ${lb} --inventory ${inventory} --plain-http-registry ${upstream.host}`,
      ),
    );
    samples.createS?.push(
      await measure(
        parallel(
          images.map(
            (img, i) =>
              `skopeo copy --all --quiet --src-tls-verify=false docker://${upstream.host}/${img.repo}:1 oci:${sb}-${i}:img`,
          ),
        ),
      ),
    );
    // push: OCI layout → a fresh registry each, so nothing is skipped
    const [tl, ts] = await Promise.all([startRegistry(), startRegistry()]);
    registries.push(tl, ts);
    samples.pushL?.push(await measure(`${lumenCmd} bundle push ${lb} --registry ${tl.host} --plain-http`));
    samples.pushS?.push(
      await measure(
        parallel(
          images.map(
            (img, i) =>
              `skopeo copy --all --quiet --dest-tls-verify=false oci:${sb}-${i}:img docker://${ts.host}/${img.repo}:1`,
          ),
        ),
      ),
    );
    await Promise.all([tl.close(), ts.close()]);
  }
  const wall = (k: string) => median((samples[k] ?? []).map((x) => x.wall));
  const cpu = (k: string) => {
    const xs = (samples[k] ?? []).map((x) => x.cpu).filter((x): x is number => x !== undefined);
    return xs.length ? median(xs) : undefined;
  };
  console.log(
    `${IMAGES} images × ${PLATFORMS.length} platforms, ${mib.toFixed(1)} MiB of layers, median of ${ROUNDS} rounds, skopeo: one process per image, all at once`,
  );
  console.log(
    'operation                                          lumen s   skopeo s   ratio (skopeo/lumen)   CPU s lumen / skopeo',
  );
  for (const [op, l, k] of [
    ['bundle create  vs skopeo copy docker:// → oci:', 'createL', 'createS'],
    ['bundle push    vs skopeo copy oci: → docker://', 'pushL', 'pushS'],
  ] as const) {
    const cl = cpu(l);
    const cs = cpu(k);
    const cpuText =
      cl !== undefined && cs !== undefined ? `${cl.toFixed(2)} / ${cs.toFixed(2)}` : 'n/a (no /usr/bin/time)';
    console.log(
      `${op.padEnd(50)} ${wall(l).toFixed(2).padStart(7)}   ${wall(k).toFixed(2).padStart(8)}   ${(wall(k) / wall(l)).toFixed(2).padStart(5)}×                 ${cpuText}`,
    );
  }
} finally {
  await Promise.allSettled(registries.map((r) => r.close()));
  rmSync(work, { recursive: true, force: true });
}
