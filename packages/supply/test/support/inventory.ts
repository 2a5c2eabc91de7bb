/** A fixture inventory naming the test registries' images and charts, in the inventory's real schema. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface FixtureImage {
  name: string;
  source: string;
  tag: string;
  platforms: string[];
}

export interface FixtureChart {
  name: string;
  repo: string;
  chart: string;
  version: string;
  plainHttp?: boolean;
}

export function writeInventory(
  dir: string,
  options: {
    registry: string;
    images: FixtureImage[];
    /** Left out: no charts.yaml (an images-only inventory). */
    charts?: FixtureChart[];
    files?: ({ name: string; version: string; platform?: string; plainHttp?: boolean } & (
      | { url: string }
      | { path: string }
    ))[];
    lock?: string;
    /** `site.yaml` as given instead of the full reference site; `null` writes none (a carry-only inventory). */
    site?: Record<string, unknown> | null;
  },
): string {
  mkdirSync(dir, { recursive: true });
  if (options.site !== undefined) {
    if (options.site !== null) writeFileSync(join(dir, 'site.yaml'), stringify(options.site));
  } else
    writeFileSync(
      join(dir, 'site.yaml'),
      stringify({
        registry: options.registry,
        plainHttp: true,
        chartsPath: 'charts',
        domain: 'airgap.test',
        network: '127.0.0.0/8',
        nodes: [{ name: 'node-1', ip: '127.0.0.1', role: 'server', cpus: 2, memoryGiB: 4, diskGiB: 20 }],
        metallbPool: '127.0.0.100-127.0.0.120',
      }),
    );
  writeFileSync(
    join(dir, 'images.yaml'),
    stringify({ images: options.images.map((i) => ({ ...i, component: 'test' })) }),
  );
  if (options.charts)
    writeFileSync(
      join(dir, 'charts.yaml'),
      stringify({ charts: options.charts.map((c) => ({ ...c, component: 'test' })) }),
    );
  if (options.files) writeFileSync(join(dir, 'files.yaml'), stringify({ files: options.files }));
  if (options.lock !== undefined) writeFileSync(join(dir, 'lock.yaml'), options.lock);
  return dir;
}
