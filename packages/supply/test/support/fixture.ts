/**
 * The common arrangement of the supply tests: an upstream registry seeded with an image, a
 * fixture inventory naming it (pushing to `airgapHost`), locked and bundled through the real CLI.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { digestOf, MediaType, Registry } from '@lumen/oci';
import type { Registry as TestRegistry } from '@lumen/testkit';
import { chartArtifact } from '../../src/charts.ts';
import { makeChart } from './charts.ts';
import { type SeededImage, seedImage } from './images.ts';
import { writeInventory } from './inventory.ts';
import { lumen } from './run.ts';

export interface Bundled {
  work: string;
  bundle: string;
  inventory: string;
  images: SeededImage[];
}

/** Seeds `count` single-purpose images (`test/img<i>:1`), locks and bundles them. */
export async function bundleOf(
  upstream: TestRegistry,
  airgapHost: string,
  options: { images?: number; layerSizes?: number[]; platforms?: string[] } = {},
): Promise<Bundled> {
  const work = mkdtempSync(join(tmpdir(), 'lumen-supply-'));
  const up = new Registry({ host: upstream.host, plainHttp: true });
  const platforms = options.platforms ?? ['linux/amd64', 'linux/arm64'];
  const images: SeededImage[] = [];
  for (let i = 0; i < (options.images ?? 1); i++) {
    images.push(
      await seedImage(up, `test/img${i}`, '1', {
        platforms,
        ...(options.layerSizes ? { layerSizes: options.layerSizes } : {}),
      }),
    );
  }
  await seedChart(up, work);
  const inventory = writeInventory(join(work, 'inventory'), {
    registry: airgapHost,
    images: images.map((img, i) => ({ name: `img${i}`, source: `${upstream.host}/${img.repo}`, tag: '1', platforms })),
    charts: [{ name: 'fixture', repo: `oci://${upstream.host}/charts`, chart: 'fixture', version: '0.1.0' }],
  });
  const bundle = join(work, 'bundle');
  for (const args of [
    ['inventory', 'lock', '--inventory', inventory, '--plain-http-registry', upstream.host],
    ['bundle', 'create', '--out', bundle, '--inventory', inventory, '--plain-http-registry', upstream.host],
  ]) {
    const r = await lumen(args);
    if (r.code !== 0) throw new Error(`lumen ${args.join(' ')} failed: ${r.stderr}`);
  }
  return { work, bundle, inventory, images };
}

/** A Helm OCI artifact `charts/fixture:0.1.0` in the upstream registry (inventories need a chart). */
export async function seedChart(up: Registry, work: string): Promise<void> {
  const chart = chartArtifact(makeChart(work, 'fixture', '0.1.0'), { chart: 'fixture', version: '0.1.0' });
  for (const blob of [chart.config, chart.archive]) {
    await up.uploadBlob('charts/fixture', digestOf(blob), blob.length, (s, e) =>
      Readable.from([blob.subarray(s, e + 1)]),
    );
  }
  await up.putManifest('charts/fixture', '0.1.0', chart.manifest, MediaType.ociManifest);
}
