/**
 * `lumen bundle create` and `lumen bundle push` against skopeo on the same images in the same run, on real
 * Distribution registries on loopback, for each workload of docs/supply-chain.md (one large layer, many small
 * layers, a multi-arch index, six images): create against `skopeo copy docker:// → oci:`, push against
 * `skopeo copy oci: → docker://`, an unchanged re-push, and create + push against `skopeo sync` registry to
 * registry. lumen runs as one process (its default --concurrency), skopeo as one process per image, all at once.
 * Prints wall and CPU seconds (median of BENCH_ROUNDS, default 3) and the ratios skopeo/lumen.
 *
 *   npm run bench -- packages/supply
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const hasTime = existsSync('/usr/bin/time');
const MiB = 1024 * 1024;

/** The workloads of docs/supply-chain.md: each a set of images seeded upstream. */
const workloads: Array<{ name: string; images: number; platforms: string[]; layers: number[] }> = [
  { name: 'one large layer (160 MiB)', images: 1, platforms: ['linux/amd64'], layers: [160 * MiB] },
  {
    name: 'many small layers (200 × 64 KiB)',
    images: 1,
    platforms: ['linux/amd64'],
    layers: Array(200).fill(64 * 1024),
  },
  {
    name: 'multi-arch index (2 platforms × 3 layers)',
    images: 1,
    platforms: ['linux/amd64', 'linux/arm64'],
    layers: [16 * MiB, 4 * MiB, 512 * 1024],
  },
  {
    name: 'six multi-arch images (246 MiB)',
    images: 6,
    platforms: ['linux/amd64', 'linux/arm64'],
    layers: [16 * MiB, 4 * MiB, 512 * 1024],
  },
];

const work = mkdtempSync(join(tmpdir(), 'lumen-bench-'));
const registries: Array<{ close(): Promise<void> }> = [];

/**
 * Runs a shell command line under /usr/bin/time (when installed) for wall and CPU seconds of the command and its
 * children; skopeo's copies run as parallel processes of one `sh`.
 */
async function measure(line: string): Promise<{ wall: number; cpu: number | undefined }> {
  const t = process.hrtime.bigint();
  if (hasTime) {
    const { stderr } = await run('/usr/bin/time', ['-f', 'LUMENTIME %U %S', 'sh', '-c', line], { maxBuffer: 64 << 20 });
    const m = /LUMENTIME ([\d.]+) ([\d.]+)/.exec(stderr);
    return { wall: Number(process.hrtime.bigint() - t) / 1e9, cpu: m ? Number(m[1]) + Number(m[2]) : undefined };
  }
  await run('sh', ['-c', line], { maxBuffer: 64 << 20 });
  return { wall: Number(process.hrtime.bigint() - t) / 1e9, cpu: undefined };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
/**
 * lumen as operators run it on a transit host: the single executable (docs/single-executable.md), built into the
 * bench's directory first. `BENCH_LUMEN=bin` measures `node packages/cli/bin/lumen.js` (a checkout) instead.
 */
function lumenCommand(): string {
  if (process.env.BENCH_LUMEN === 'bin')
    return `${process.execPath} ${join(import.meta.dirname, '..', '..', 'cli', 'bin', 'lumen.js')}`;
  const out = join(work, 'exe');
  const script = join(import.meta.dirname, '..', '..', '..', 'scripts', 'build-cli.ts');
  const built = spawnSync(process.execPath, [script, '--out', out, '--platform', 'linux/amd64'], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`build:cli failed:\n${built.stderr}`);
  return join(out, 'lumen-linux-amd64');
}
const lumenCmd = lumenCommand();
/** Runs the commands at once; fails when any of them fails (a failed copy must never count as fast). */
const parallel = (cmds: string[]) =>
  `pids=''; ${cmds.map((c) => `${c} & pids="$pids $!";`).join(' ')} for p in $pids; do wait $p || exit 1; done`;
type Sample = { wall: number; cpu: number | undefined };
const rows: Array<{ workload: string; op: string; lumen: Sample[]; skopeo: Sample[] }> = [];

try {
  for (const [w, spec] of workloads.entries()) {
    const upstream = await startRegistry();
    registries.push(upstream);
    const up = new Registry({ host: upstream.host, plainHttp: true });
    const images: Awaited<ReturnType<typeof seedImage>>[] = [];
    for (let i = 0; i < spec.images; i++)
      images.push(await seedImage(up, `bench/img${i}`, '1', { platforms: spec.platforms, layerSizes: spec.layers }));
    const chartDir = join(work, `chart-${w}`);
    mkdirSync(chartDir);
    const chart = chartArtifact(makeChart(chartDir, 'benchchart', '0.1.0'), { chart: 'benchchart', version: '0.1.0' });
    for (const blob of [chart.config, chart.archive]) {
      await up.uploadBlob('charts/benchchart', digestOf(blob), blob.length, (s, e) =>
        Readable.from([blob.subarray(s, e + 1)]),
      );
    }
    await up.putManifest('charts/benchchart', '0.1.0', chart.manifest, MediaType.ociManifest);
    const inventory = writeInventory(join(work, `inventory-${w}`), {
      registry: '127.0.0.1:1',
      images: images.map((img, i) => ({
        name: `img${i}`,
        source: `${upstream.host}/${img.repo}`,
        tag: '1',
        platforms: spec.platforms,
      })),
      charts: [{ name: 'benchchart', repo: `oci://${upstream.host}/charts`, chart: 'benchchart', version: '0.1.0' }],
    });
    const locked = await lumen(['inventory', 'lock', '--inventory', inventory, '--plain-http-registry', upstream.host]);
    if (locked.code !== 0) throw new Error(`lumen inventory lock: ${locked.stderr}`);
    const samples: Record<string, Sample[]> = {};
    const add = (k: string, s: Sample) => {
      samples[k] = [...(samples[k] ?? []), s];
    };
    for (let round = 0; round < ROUNDS; round++) {
      const lb = join(work, `lumen-${w}-${round}`);
      const sb = join(work, `skopeo-${w}-${round}`);
      add(
        'createL',
        await measure(
          `${lumenCmd} bundle create --out ${lb} --inventory ${inventory} --plain-http-registry ${upstream.host}`,
        ),
      );
      add(
        'createS',
        await measure(
          parallel(
            images.map(
              (img, i) =>
                `skopeo copy --all --quiet --src-tls-verify=false docker://${upstream.host}/${img.repo}:1 oci:${sb}-${i}:img`,
            ),
          ),
        ),
      );
      // push: OCI layout → a fresh registry each, so nothing is skipped; then the same push again (unchanged).
      const [tl, ts] = await Promise.all([startRegistry(), startRegistry()]);
      registries.push(tl, ts);
      const pushS = parallel(
        images.map(
          (img, i) =>
            `skopeo copy --all --quiet --dest-tls-verify=false oci:${sb}-${i}:img docker://${ts.host}/${img.repo}:1`,
        ),
      );
      add('pushL', await measure(`${lumenCmd} bundle push ${lb} --registry ${tl.host} --plain-http`));
      add('pushS', await measure(pushS));
      add('repushL', await measure(`${lumenCmd} bundle push ${lb} --registry ${tl.host} --plain-http`));
      add('repushS', await measure(pushS));
      await Promise.all([tl.close(), ts.close()]);
      // Registry to registry: lumen create + push against skopeo sync.
      const [ul, us] = await Promise.all([startRegistry(), startRegistry()]);
      registries.push(ul, us);
      const sl = join(work, `sync-${w}-${round}`);
      add(
        'syncL',
        await measure(
          `${lumenCmd} bundle create --out ${sl} --inventory ${inventory} --plain-http-registry ${upstream.host} && ${lumenCmd} bundle push ${sl} --registry ${ul.host} --plain-http`,
        ),
      );
      add(
        'syncS',
        await measure(
          parallel(
            images.map(
              (img) =>
                `skopeo sync --all --src docker --dest docker --src-tls-verify=false --dest-tls-verify=false ${upstream.host}/${img.repo}:1 ${us.host}/bench > /dev/null`,
            ),
          ),
        ),
      );
      await Promise.all([ul.close(), us.close()]);
      for (const d of [lb, sl, ...images.map((_, i) => `${sb}-${i}`)]) rmSync(d, { recursive: true, force: true });
    }
    for (const [op, l, k] of [
      ['create (skopeo copy docker:// → oci:)', 'createL', 'createS'],
      ['push (skopeo copy oci: → docker://)', 'pushL', 'pushS'],
      ['unchanged re-push', 'repushL', 'repushS'],
      ['create + push (skopeo sync)', 'syncL', 'syncS'],
    ] as const) {
      rows.push({ workload: spec.name, op, lumen: samples[l] ?? [], skopeo: samples[k] ?? [] });
    }
    await upstream.close();
  }
  const wall = (xs: Sample[]) => median(xs.map((x) => x.wall));
  const cpu = (xs: Sample[]) => {
    const c = xs.map((x) => x.cpu).filter((x): x is number => x !== undefined);
    return c.length ? median(c) : undefined;
  };
  console.log(
    `median of ${ROUNDS} rounds; skopeo: one process per image, all at once; ratio = skopeo / lumen (≥ 1: lumen as fast or faster)`,
  );
  console.log('| workload | operation | lumen s | skopeo s | wall ratio | CPU s lumen / skopeo | CPU ratio |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const [cl, cs] = [cpu(r.lumen), cpu(r.skopeo)];
    const cpuText =
      cl !== undefined && cs !== undefined
        ? `${cl.toFixed(2)} / ${cs.toFixed(2)} | ${(cs / cl).toFixed(2)}×`
        : 'n/a | n/a';
    console.log(
      `| ${r.workload} | ${r.op} | ${wall(r.lumen).toFixed(2)} | ${wall(r.skopeo).toFixed(2)} | ${(wall(r.skopeo) / wall(r.lumen)).toFixed(2)}× | ${cpuText} |`,
    );
  }
} finally {
  await Promise.allSettled(registries.map((r) => r.close()));
  rmSync(work, { recursive: true, force: true });
}
