import type { CarryInventory } from '@lumen/inventory';
import { type BlobSource, parseManifest, referencedDescriptors } from '@lumen/oci';
import { type BundleManifest, readBundle } from './bundle.ts';
import { mapLimit } from './concurrency.ts';

/** What `bundle verify` found. */
export interface VerifyBundleResult {
  blobs: number;
  bytes: number;
  /** One line per problem; empty when the bundle is intact and complete. */
  problems: string[];
}

/**
 * Proves a bundle: every blob listed in lumen-bundle.json re-hashes to its digest and has its
 * size; every manifest's references are in the bundle; and, with an inventory, every upstream
 * image, chart and file the inventory pins is carried with exactly the pinned digest.
 */
export async function verifyBundle(
  dir: string,
  inv: CarryInventory | undefined,
  concurrency = 4,
): Promise<VerifyBundleResult> {
  const { layout, manifest } = await readBundle(dir);
  const problems: string[] = [];
  const owners = await blobOwners(layout, manifest);
  const entries = Object.entries(manifest.blobs);
  let bytes = 0;
  await mapLimit(entries, concurrency, async ([digest, size]) => {
    const check = await layout.checkBlob(digest, size);
    bytes += size;
    const owner = owners.get(digest) ?? 'listed by the bundle, used by nothing';
    if (check.state === 'missing') problems.push(`blob ${digest} (${owner}) is missing`);
    if (check.state === 'corrupt') problems.push(`blob ${digest} (${owner}) is corrupt: ${check.detail}`);
  });
  if (problems.length === 0) problems.push(...(await checkGraph(layout, manifest)));
  if (inv) problems.push(...checkInventory(manifest, inv));
  return { blobs: entries.length, bytes, problems: problems.sort() };
}

/**
 * Which image, chart or file each blob belongs to, for messages that say what is broken: the
 * top-level manifests, and through them every platform manifest, config and layer (a manifest
 * that cannot be read is skipped here; its own check reports it).
 */
async function blobOwners(layout: BlobSource, manifest: BundleManifest): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  const own = (digest: string, owner: string) => {
    if (!owners.has(digest)) owners.set(digest, owner);
  };
  const walk = async (digest: string, label: string): Promise<void> => {
    own(digest, `${label} manifest`);
    let m: ReturnType<typeof parseManifest>['manifest'];
    try {
      m = parseManifest(await layout.readBlob(digest)).manifest;
    } catch {
      return;
    }
    if ('manifests' in m) {
      for (const child of m.manifests) {
        const p = child.platform;
        await walk(child.digest, p ? `${label} ${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}` : label);
      }
      return;
    }
    if ('config' in m) own(m.config.digest, `${label} config`);
    for (const layer of 'layers' in m ? m.layers : []) own(layer.digest, `${label} layer`);
  };
  for (const f of manifest.files) own(f.digest, `file ${f.name}`);
  for (const c of manifest.charts) own(c.archiveDigest, `chart ${c.name} archive`);
  for (const i of manifest.images) {
    await walk(i.digest, `image ${i.name}`);
    if (i.signature) await walk(i.signature.digest, `image ${i.name} signature`);
  }
  for (const c of manifest.charts) await walk(c.digest, `chart ${c.name}`);
  return owners;
}

/** Every manifest reachable from the bundle's images and charts references only blobs the bundle lists. */
async function checkGraph(layout: BlobSource, manifest: BundleManifest): Promise<string[]> {
  const problems: string[] = [];
  const listed = manifest.blobs;
  const walk = async (digest: string, owner: string): Promise<void> => {
    if (listed[digest] === undefined) {
      problems.push(`${owner}: ${digest} is referenced but not in the bundle`);
      return;
    }
    const { manifest: m } = parseManifest(await layout.readBlob(digest));
    for (const d of referencedDescriptors(m)) {
      if (d.urls?.length) continue;
      if (listed[d.digest] === undefined) {
        problems.push(`${owner}: blob ${d.digest} is referenced but not in the bundle`);
      } else if (listed[d.digest] !== d.size) {
        problems.push(`${owner}: blob ${d.digest} has size ${listed[d.digest]}, the manifest says ${d.size}`);
      } else if ('manifests' in m) {
        await walk(d.digest, owner);
      }
    }
  };
  for (const i of manifest.images) {
    await walk(i.digest, `image ${i.name}`);
    if (i.signature) await walk(i.signature.digest, `image ${i.name} signature`);
  }
  for (const c of manifest.charts) await walk(c.digest, `chart ${c.name}`);
  return problems;
}

function checkInventory(manifest: BundleManifest, inv: CarryInventory): string[] {
  const problems: string[] = [];
  for (const img of inv.images) {
    if (img.origin !== 'upstream') continue;
    const have = manifest.images.find((i) => i.name === img.name);
    if (!have) problems.push(`image ${img.name} is in the inventory but not in the bundle`);
    else if (img.digest && have.digest !== img.digest)
      problems.push(`image ${img.name}: bundle has ${have.digest}, lock.yaml pins ${img.digest}`);
    else if (have.tag !== img.tag)
      problems.push(`image ${img.name}: bundle has tag ${have.tag}, inventory says ${img.tag}`);
  }
  for (const chart of inv.charts) {
    const have = manifest.charts.find((c) => c.name === chart.name);
    if (!have) problems.push(`chart ${chart.name} is in the inventory but not in the bundle`);
    else if (have.version !== chart.version)
      problems.push(`chart ${chart.name}: bundle has ${have.version}, inventory says ${chart.version}`);
    else if (chart.digest && have.archiveDigest !== chart.digest)
      problems.push(`chart ${chart.name}: bundle archive is ${have.archiveDigest}, lock.yaml pins ${chart.digest}`);
  }
  for (const file of inv.files) {
    const have = manifest.files.find((f) => f.name === file.name);
    if (!have) problems.push(`file ${file.name} is in the inventory but not in the bundle`);
    else if (file.digest && have.digest !== file.digest)
      problems.push(`file ${file.name}: bundle has ${have.digest}, lock.yaml pins ${file.digest}`);
  }
  return problems;
}
