/**
 * The `image-pinned` rule: every image is an inventory image pinned by the inventory's digest,
 * and every chart comes from the airgap registry at an inventory version.
 */
import { dockerHub, parseReference } from '@lumen/oci';
import { parse as parseYaml } from 'yaml';
import type { Cluster } from '../cluster.ts';
import { apiGroup } from '../manifests.ts';
import { allContainers, podOf } from '../pod-spec.ts';
import type { InventoryView, SourcedObject, Violation } from '../types.ts';
import { violationOf as v } from '../violation.ts';

/**
 * A Helm value's `repository` (`[host/]path`), read by @lumen/oci's parser; `host` is absent when
 * the text names none (the parser then defaults to Docker Hub, which a chart would pull from).
 */
function repositoryOf(text: string): { host?: string | undefined; path: string } {
  try {
    const ref = parseReference(text);
    const explicit = ref.registry !== dockerHub || /^(?:index\.)?docker\.io\//.test(text);
    return { host: explicit ? ref.registry : undefined, path: explicit ? ref.repository : text };
  } catch {
    return { path: text };
  }
}

/** The airgap path of an inventory image: given, else its upstream repository without the host. */
function airgapPathOf(img: InventoryView['images'][number]): string {
  if (img.airgapPath) return img.airgapPath;
  if (!img.source) return img.name;
  try {
    return parseReference(img.source).repository;
  } catch {
    return img.source;
  }
}

interface ChartImage {
  host?: string | undefined;
  path: string;
  tag?: string | undefined;
  digest?: string | undefined;
}

/**
 * Images a Helm chart will run, as set in an Argo CD Application's values: every object with a
 * string `repository` and a `tag` or `digest` (the shape of nearly every chart's `image:`), with
 * its `registry` or the host in `repository`, and a digest given as `digest` or after `@` in `tag`.
 */
function chartImages(src: SourcedObject): Array<{ at: string; image: ChartImage }> {
  const { obj } = src;
  if (obj.kind !== 'Application' || apiGroup(obj.apiVersion) !== 'argoproj.io') return [];
  const spec = (obj.spec ?? {}) as { source?: unknown; sources?: unknown[] };
  const found: Array<{ at: string; image: ChartImage }> = [];
  const walk = (tree: unknown, at: string) => {
    if (Array.isArray(tree)) {
      for (const [i, item] of tree.entries()) walk(item, `${at}[${i}]`);
      return;
    }
    if (tree === null || typeof tree !== 'object') return;
    const o = tree as Record<string, unknown>;
    if (typeof o.repository === 'string' && (typeof o.tag === 'string' || typeof o.digest === 'string')) {
      const repo = repositoryOf(o.repository);
      const [tag, tagDigest] = (typeof o.tag === 'string' ? o.tag : '').split('@');
      const host = typeof o.registry === 'string' && o.registry !== '' ? o.registry : repo.host;
      const digest = typeof o.digest === 'string' && o.digest !== '' ? o.digest : tagDigest;
      found.push({ at, image: { host, path: repo.path, tag: tag || undefined, digest } });
    }
    for (const [k, val] of Object.entries(o)) walk(val, `${at}.${k}`);
  };
  for (const [i, source] of [spec.source, ...(spec.sources ?? [])].entries()) {
    const helm = (source as { helm?: { values?: string; valuesObject?: unknown } } | undefined)?.helm;
    if (!helm) continue;
    const at = i === 0 ? 'helm' : `sources[${i - 1}].helm`;
    walk(helm.valuesObject, `${at}.valuesObject`);
    if (typeof helm.values === 'string') {
      try {
        walk(parseYaml(helm.values), `${at}.values`);
      } catch {
        // Reported by the plaintext-secret rule, which parses the same text.
      }
    }
  }
  return found;
}

/**
 * Charts of Argo CD Applications come from the airgap registry (the public implementation
 * installed MetalLB from an internet Helm repository) at the exact version of the inventory.
 */
function chartSources(src: SourcedObject, inventory: InventoryView): Violation[] {
  const { obj } = src;
  if (obj.kind !== 'Application' || apiGroup(obj.apiVersion) !== 'argoproj.io') return [];
  const spec = (obj.spec ?? {}) as { source?: unknown; sources?: unknown[] };
  const out: Violation[] = [];
  for (const [i, source] of [spec.source, ...(spec.sources ?? [])].entries()) {
    const s = source as { chart?: string; repoURL?: string; targetRevision?: string } | undefined;
    if (!s?.chart) continue;
    const at = i === 0 ? 'source' : `sources[${i - 1}]`;
    const repo = (s.repoURL ?? '').replace(/^oci:\/\//, '');
    if (!repo.startsWith(`${inventory.site.registry}/`)) {
      out.push(
        v(
          src,
          'image-pinned',
          `${at} chart ${s.chart} comes from ${s.repoURL}, not from the airgap registry ${inventory.site.registry}`,
        ),
      );
    }
    if (!inventory.charts?.some((c) => c.chart === s.chart && c.version === s.targetRevision)) {
      out.push(
        v(src, 'image-pinned', `${at} chart ${s.chart} ${s.targetRevision} is not a chart version of the inventory`),
      );
    }
  }
  return out;
}

/**
 * Every image is an inventory image (same airgap path) pinned by the inventory's digest: the
 * containers of every pod spec, CloudNativePG's `imageName`, and the images Helm values set.
 */
export function checkImages(cluster: Cluster, inventory: InventoryView): Violation[] {
  const out: Violation[] = [];
  const known = new Map<string, Set<string>>();
  for (const img of inventory.images) {
    const path = airgapPathOf(img);
    const set = known.get(path) ?? new Set<string>();
    if (img.digest) set.add(img.digest);
    known.set(path, set);
  }
  const checkRef = (src: SourcedObject, at: string, ref: unknown) => {
    if (typeof ref !== 'string' || ref === '') {
      out.push(v(src, 'image-pinned', `${at} has no image`));
      return;
    }
    let img: { repository: string; digest?: string | undefined };
    try {
      img = parseReference(ref);
    } catch {
      // Its syntax is the schema rule's verdict; unparsable, it is not pinned either.
      out.push(v(src, 'image-pinned', `${at} image ${ref} is not pinned by a sha256 digest`));
      return;
    }
    if (!img.digest || !/^sha256:[0-9a-f]{64}$/.test(img.digest)) {
      out.push(v(src, 'image-pinned', `${at} image ${ref} is not pinned by a sha256 digest`));
      return;
    }
    const digests = known.get(img.repository);
    if (!digests)
      out.push(v(src, 'image-pinned', `${at} image ${ref} is not in the inventory (no image ${img.repository})`));
    else if (!digests.has(img.digest)) {
      out.push(v(src, 'image-pinned', `${at} image ${ref} is pinned to a digest the inventory lock does not hold`));
    }
  };
  for (const src of cluster.objects) {
    if (inventory.charts) out.push(...chartSources(src, inventory));
    for (const { at, image } of chartImages(src)) {
      if (!image.host) {
        out.push(
          v(src, 'image-pinned', `${at} names no registry: the chart's default, an internet registry, would be pulled`),
        );
        continue;
      }
      if (image.host !== inventory.site.registry) {
        out.push(
          v(
            src,
            'image-pinned',
            `${at} image ${image.host}/${image.path} is not in the airgap registry ${inventory.site.registry}`,
          ),
        );
        continue;
      }
      checkRef(
        src,
        at,
        `${image.host}/${image.path}${image.tag ? `:${image.tag}` : ''}${image.digest ? `@${image.digest}` : ''}`,
      );
    }
    const pod = podOf(src.obj);
    if (pod)
      for (const { list, container } of allContainers(pod.spec))
        checkRef(src, `${list}[${container.name}]`, container.image);
    if (src.obj.kind === 'Cluster' && apiGroup(src.obj.apiVersion) === 'postgresql.cnpg.io') {
      checkRef(src, 'spec.imageName', (src.obj.spec as { imageName?: unknown } | undefined)?.imageName);
    }
  }
  return out;
}
