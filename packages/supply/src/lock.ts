import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Inventory, Lock } from '@lumen/inventory';
import { digestOf, parseReference } from '@lumen/oci';
import { isMap, isScalar, parseDocument, stringify } from 'yaml';
import { fetchClassicChart, fetchOciChart } from './charts.ts';
import { mapLimit } from './concurrency.ts';
import { download } from './download.ts';
import { SupplyError, SupplyErrorCode } from './errors.ts';
import { resolveImage } from './images.ts';
import type { Progress } from './progress.ts';
import { type RegistryAccess, registryPool } from './registries.ts';

export interface LockOptions {
  access: RegistryAccess;
  progress: Progress;
  concurrency?: number;
  signal?: AbortSignal;
}

export interface LockChange {
  kind: 'image' | 'chart' | 'file';
  name: string;
  version: string;
  digest: string;
  /** The digest locked before, when it changed. */
  previous?: string;
}

/**
 * Resolves every upstream image tag (filtered to the inventory's platforms, see
 * `resolveImage`), chart archive and file of the inventory to a digest and writes `lock.yaml`
 * atomically. Entries of `build` images are kept as they are (`lumen release bump` owns them).
 * Nothing is written unless everything resolved.
 */
export async function lockInventory(inv: Inventory, options: LockOptions): Promise<LockChange[]> {
  const { progress, signal } = options;
  const concurrency = options.concurrency ?? 4;
  const pool = registryPool(options.access);
  const lock: Lock = {
    lockVersion: 1,
    images: { ...inv.lock.images },
    charts: {},
    files: {},
  };
  const changes: LockChange[] = [];
  const upstream = inv.images.filter((i) => i.origin === 'upstream' && i.source);
  await mapLimit(upstream, concurrency, async (img) => {
    const ref = parseReference(img.source as string);
    const r = await resolveImage(pool(ref.registry), ref.repository, img.tag, img.platforms, signal);
    const previous = inv.lock.images[img.name]?.digest;
    lock.images[img.name] = {
      tag: img.tag,
      digest: r.digest,
      ...(r.upstreamDigest !== r.digest ? { upstreamDigest: r.upstreamDigest } : {}),
    };
    changes.push({
      kind: 'image',
      name: img.name,
      version: img.tag,
      digest: r.digest,
      ...(previous && previous !== r.digest ? { previous } : {}),
    });
    progress.done(`image ${img.name}`, `${img.tag} ${r.digest}`);
  });
  await mapLimit(inv.charts, concurrency, async (chart) => {
    let digest: string;
    if (chart.repo.startsWith('oci://')) {
      const ref = parseReference(chart.repo.slice('oci://'.length));
      digest = (await fetchOciChart(pool(ref.registry), ref.repository, chart.chart, chart.version, signal))
        .archiveDigest;
    } else {
      digest = digestOf(await fetchClassicChart(chart.repo, chart.chart, chart.version, signal ? { signal } : {}));
    }
    const previous = inv.lock.charts[chart.name]?.digest;
    lock.charts[chart.name] = { version: chart.version, digest };
    changes.push({
      kind: 'chart',
      name: chart.name,
      version: chart.version,
      digest,
      ...(previous && previous !== digest ? { previous } : {}),
    });
    progress.done(`chart ${chart.name}`, `${chart.version} ${digest}`);
  });
  await mapLimit(inv.files, concurrency, async (file) => {
    const res = await download(file.url, signal ? { signal } : {});
    const hash = createHash('sha256');
    for await (const c of res.body) hash.update(c as Buffer);
    const digest = `sha256:${hash.digest('hex')}`;
    const previous = inv.lock.files[file.name]?.digest;
    lock.files[file.name] = { version: file.version, digest };
    changes.push({
      kind: 'file',
      name: file.name,
      version: file.version,
      digest,
      ...(previous && previous !== digest ? { previous } : {}),
    });
    progress.done(`file ${file.name}`, `${file.version} ${digest}`);
  });
  // Drop lock entries of names no longer in the inventory (the loader would refuse them as stale).
  const names = new Set(inv.images.map((i) => i.name));
  for (const name of Object.keys(lock.images)) if (!names.has(name)) delete lock.images[name];
  const file = join(inv.dir, 'lock.yaml');
  const text = renderLock(await readFile(file, 'utf8').catch(() => undefined), lock);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new SupplyError(SupplyErrorCode.io, `cannot write ${file}: ${(err as Error).message}`);
  }
  return changes.sort((a, b) => `${a.kind}${a.name}`.localeCompare(`${b.kind}${b.name}`));
}

/**
 * The new lock.yaml text. An existing file is updated in place (yaml's Document API), so the
 * comments people wrote above entries (where a digest came from, why a version is held back)
 * survive a re-lock; entries are replaced, added and removed, never reformatted.
 */
export function renderLock(existing: string | undefined, lock: Lock): string {
  const sections = ['images', 'charts', 'files'] as const;
  const doc = existing !== undefined ? parseDocument(existing) : undefined;
  if (!doc || doc.errors.length > 0 || !isMap(doc.contents)) {
    const sorted = (r: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(r).sort(([x], [y]) => x.localeCompare(y)));
    return `# Pinned digests, written by 'lumen inventory lock' (images: the index digest lumen carries,\n# i.e. the upstream index filtered to the inventory's platforms, with upstreamDigest next to it;\n# charts: SHA-256 of the chart archive; files: SHA-256 of the bytes).\n${stringify(
      {
        lockVersion: 1,
        images: sorted(lock.images),
        charts: sorted(lock.charts),
        files: sorted(lock.files),
      },
    )}`;
  }
  doc.set('lockVersion', 1);
  for (const section of sections) {
    const entries = lock[section] as Record<string, Record<string, string>>;
    const node = doc.get(section, true);
    if (!isMap(node)) {
      doc.set(section, doc.createNode(entries));
      continue;
    }
    for (const item of [...node.items]) {
      const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
      if (!(key in entries)) node.delete(key);
    }
    for (const [name, value] of Object.entries(entries)) {
      const current = node.get(name, true);
      if (isMap(current)) {
        // Keep the entry's node (and its flow/block style and comments); replace its fields.
        for (const item of [...current.items]) {
          const k = isScalar(item.key) ? String(item.key.value) : String(item.key);
          if (!(k in value)) current.delete(k);
        }
        for (const [k, v] of Object.entries(value)) current.set(k, v);
      } else {
        node.set(name, doc.createNode(value));
      }
    }
  }
  return doc.toString();
}
