/**
 * Reads and validates the inventory directory: `site.yaml`, `images.yaml`, `charts.yaml`,
 * optional `files.yaml`, and `lock.yaml`, then joins the lock's digests onto the entries.
 * Synchronous on purpose: every consumer (renderer, CLI, checks) needs it before doing anything.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { isSea } from 'node:sea';
import { fileURLToPath } from 'node:url';
import { parseReferenceParts } from '@lumen/oci';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { InventoryError, InventoryErrorCode } from './errors.ts';
import {
  type Action,
  actionsFileSchema,
  type CarrySite,
  type ChartSpec,
  carrySiteSchema,
  chartsFileSchema,
  type FileSpec,
  filesFileSchema,
  type ImageSpec,
  imagesFileSchema,
  type Lock,
  lockSchema,
  type Site,
  siteSchema,
  type Waiver,
  waiversFileSchema,
} from './schema.ts';

/** An image with what the lock and the site add to it. */
export interface Image extends ImageSpec {
  /**
   * Digest of the top-level manifest (multi-arch index) the airgap registry serves for the tag, from
   * `lock.yaml`; undefined when not locked (or locked for another tag).
   */
  digest: string | undefined;
  /** The upstream index digest when the lock pins a platform-filtered index (see `lock.yaml`); else undefined. */
  upstreamDigest: string | undefined;
  /** Upstream registry host (`docker.io`); undefined for `build` images, which live only in the airgap registry. */
  upstreamHost: string | undefined;
  /** Repository path in the airgap registry: the upstream path without its host (`library/traefik`). */
  airgapPath: string;
}

/** A chart with its digest from the lock. */
export interface Chart extends ChartSpec {
  /** SHA-256 of the chart archive (`.tgz`) from `lock.yaml`; undefined when not locked for this version. */
  digest: string | undefined;
}

/** A file (K3s binary, airgap images tarball) with its digest from the lock. */
export interface InventoryFile extends FileSpec {
  /** SHA-256 of the file's bytes from `lock.yaml`; undefined when not locked for this version. */
  digest: string | undefined;
}

/**
 * The loaded, validated inventory. Treat it as read-only. `S` is `Site` for the platform (every site setting
 * present) and `CarrySite` for the supply chain ({@link CarryInventory}: site settings optional).
 */
export interface Inventory<S extends CarrySite = Site> {
  /** Absolute path of the inventory directory it was read from. */
  dir: string;
  site: S;
  images: Image[];
  charts: Chart[];
  files: InventoryFile[];
  /** The lock as written (including entries whose version no longer matches). */
  lock: Lock;
  /** Reviewed exceptions to the image scan gate (`waivers.yaml`; none when absent). */
  waivers: Waiver[];
  /** The CI actions the airgapped Gitea mirrors (`actions.yaml`; none when absent). */
  actions: Action[];
}

/** The inventory as the supply chain loads it: what it carries, with the site settings it may lack. */
export type CarryInventory = Inventory<CarrySite>;

/** Options of {@link loadInventory}. */
export interface LoadOptions {
  /**
   * Load for the supply chain (lock, bundle, sign, mirror-config): `site.yaml` is optional and its fields too (each
   * validated when given; {@link carrySiteSchema}), so a carry-only inventory needs no nodes or MetalLB pool.
   * Default false: the platform's load, where every site setting is required.
   */
  carry?: boolean;
  /**
   * When true, every upstream image, chart and file must have a digest in `lock.yaml` for its
   * current version, else `INVENTORY_NOT_LOCKED` lists all that are missing. `build` images
   * (lumen-api) are exempt: their digest is written by `lumen release bump`, not by the lock.
   * Default false (so `lumen inventory lock` can load an inventory it is about to lock).
   */
  requireLock?: boolean;
  /**
   * When true, lock entries for names no longer in the inventory are tolerated instead of failing
   * the load. Only for tools that are about to prune them ({@link updateLock} with `prune`). Default false.
   */
  ignoreStaleLock?: boolean;
}

/**
 * The default inventory directory: the repository's own (`<repo>/inventory`, independent of the working directory)
 * when lumen runs from the repository; `./inventory` of the working directory when it runs as the single
 * executable, which has no repository around it.
 */
export const DEFAULT_INVENTORY_DIR = isSea()
  ? resolve('inventory')
  : fileURLToPath(new URL('../../../inventory/', import.meta.url));

/** File names inside an inventory directory. */
export const INVENTORY_FILES = {
  site: 'site.yaml',
  images: 'images.yaml',
  charts: 'charts.yaml',
  files: 'files.yaml',
  waivers: 'waivers.yaml',
  actions: 'actions.yaml',
  lock: 'lock.yaml',
} as const;

/**
 * Loads and validates an inventory.
 *
 * @param dir inventory directory; default: the repository's `inventory/` ({@link DEFAULT_INVENTORY_DIR}).
 * @param options see {@link LoadOptions}; default `{ requireLock: false }`.
 * @throws {InventoryError} `INVENTORY_INVALID` naming every file, line and field at fault;
 *   `INVENTORY_NOT_LOCKED` when `requireLock` is set and something is not pinned.
 * @example
 * const inv = loadInventory();
 * imageRef(inv, 'traefik'); // '192.168.2.2:5000/library/traefik:v3…@sha256:…'
 */
export function loadInventory(dir?: string, options?: LoadOptions & { carry?: false }): Inventory;
export function loadInventory(dir: string | undefined, options: LoadOptions & { carry: true }): CarryInventory;
export function loadInventory(
  dir: string = DEFAULT_INVENTORY_DIR,
  options: LoadOptions = {},
): Inventory | CarryInventory {
  const root = resolve(dir);
  const issues: string[] = [];
  const site = options.carry
    ? (readFile(root, INVENTORY_FILES.site, carrySiteSchema, issues, false) ?? {
        value: carrySiteSchema.parse({}),
        at: () => join(root, INVENTORY_FILES.site),
      })
    : readFile(root, INVENTORY_FILES.site, siteSchema, issues, true);
  // images.yaml, charts.yaml and files.yaml are each optional: an inventory may carry images only, charts only or
  // files only (a carry-only use); it must name something.
  const images = readFile(root, INVENTORY_FILES.images, imagesFileSchema, issues, false);
  const charts = readFile(root, INVENTORY_FILES.charts, chartsFileSchema, issues, false);
  const files = readFile(root, INVENTORY_FILES.files, filesFileSchema, issues, false);
  const lock = readFile(root, INVENTORY_FILES.lock, lockSchema, issues, false);
  const waivers = readFile(root, INVENTORY_FILES.waivers, waiversFileSchema, issues, false);
  const actions = readFile(root, INVENTORY_FILES.actions, actionsFileSchema, issues, false);
  if (issues.length > 0 || !site) throw new InventoryError(InventoryErrorCode.invalid, issues);

  const imageSpecs = images?.value.images ?? [];
  const chartSpecs = charts?.value.charts ?? [];
  const fileSpecs = files?.value.files ?? [];
  if (imageSpecs.length + chartSpecs.length + fileSpecs.length === 0) {
    throw new InventoryError(InventoryErrorCode.invalid, [
      `${displayPath(root)}: the inventory names nothing: add entries to images.yaml, charts.yaml or files.yaml`,
    ]);
  }
  const lockValue: Lock = lock?.value ?? { lockVersion: 1, images: {}, charts: {}, files: {} };

  if (images) checkUnique(images, 'images', imageSpecs, issues);
  if (charts) checkUnique(charts, 'charts', chartSpecs, issues);
  if (files) checkUnique(files, 'files', fileSpecs, issues);

  const imageNames = new Set(imageSpecs.map((i) => i.name));
  chartSpecs.forEach((chart, i) => {
    chart.images.forEach((name, j) => {
      if (!imageNames.has(name))
        issues.push(
          `${charts?.at(['charts', i, 'images', j])}: charts[${i}].images[${j}]: no image named '${name}' in images.yaml`,
        );
    });
  });

  // Two charts with the same chart name would overwrite each other under <registry>/<chartsPath>/<chart>.
  const byChart = new Map<string, number>();
  chartSpecs.forEach((chart, i) => {
    const first = byChart.get(chart.chart);
    if (first !== undefined && chartSpecs[first]?.repo !== chart.repo)
      issues.push(
        `${charts?.at(['charts', i, 'chart'])}: charts[${i}].chart: '${chart.chart}' comes from two repositories and would collide in the airgap registry`,
      );
    else byChart.set(chart.chart, i);
  });

  const resolved: Image[] = imageSpecs.map((spec) => {
    const upstream = spec.source ? parseReferenceParts(spec.source) : undefined;
    const airgapPath = upstream ? upstream.path : (spec.repository ?? '');
    const locked = lockValue.images[spec.name];
    return {
      ...spec,
      digest: locked && locked.tag === spec.tag ? locked.digest : undefined,
      upstreamDigest: locked && locked.tag === spec.tag ? locked.upstreamDigest : undefined,
      upstreamHost: upstream?.host,
      airgapPath,
    };
  });

  // The airgap path drops the upstream host, so two hosts serving the same path would collide
  // in the airgap registry (and in the K3s mirror rewrite); refuse that here, once.
  const byPath = new Map<string, number>();
  resolved.forEach((img, i) => {
    const first = byPath.get(img.airgapPath);
    const other = first === undefined ? undefined : resolved[first];
    if (other && (other.upstreamHost !== img.upstreamHost || other.origin !== img.origin))
      issues.push(
        `${images?.at(['images', i, img.source ? 'source' : 'repository'])}: images[${i}]: '${img.name}' and '${other.name}' map to the same airgap path '${img.airgapPath}'`,
      );
    else if (first === undefined) byPath.set(img.airgapPath, i);
  });

  if (lock && !options.ignoreStaleLock) {
    for (const [section, names] of [
      ['images', imageNames],
      ['charts', new Set(chartSpecs.map((c) => c.name))],
      ['files', new Set(fileSpecs.map((f) => f.name))],
    ] as const) {
      for (const name of Object.keys(lockValue[section])) {
        if (!names.has(name))
          issues.push(
            `${lock.at([section, name])}: ${section}.${name}: locked but not in ${INVENTORY_FILES[section]} (remove the stale entry)`,
          );
      }
    }
  }
  if (issues.length > 0) throw new InventoryError(InventoryErrorCode.invalid, issues);

  const inventory: Inventory<CarrySite> = {
    dir: root,
    site: site.value,
    images: resolved,
    charts: chartSpecs.map((spec) => {
      const locked = lockValue.charts[spec.name];
      return { ...spec, digest: locked && locked.version === spec.version ? locked.digest : undefined };
    }),
    files: fileSpecs.map((spec) => {
      const locked = lockValue.files[spec.name];
      return { ...spec, digest: locked && locked.version === spec.version ? locked.digest : undefined };
    }),
    lock: lockValue,
    waivers: waivers?.value.waivers ?? [],
    actions: actions?.value.actions ?? [],
  };
  if (options.requireLock) {
    const missing = unlockedEntries(inventory);
    if (missing.length > 0) throw new InventoryError(InventoryErrorCode.notLocked, missing);
  }
  // Not carry: siteSchema validated every field, so this is a full Site.
  return inventory as Inventory | CarryInventory;
}

/**
 * Lists, one line each, every upstream image, chart and file that has no digest for its current
 * version in `lock.yaml`. Empty when the inventory is fully locked. `build` images are left out.
 */
export function unlockedEntries(inv: CarryInventory): string[] {
  const where = displayPath(join(inv.dir, INVENTORY_FILES.lock));
  const out: string[] = [];
  for (const img of inv.images) {
    if (img.origin === 'build' || img.digest) continue;
    out.push(`${where}: images.${img.name}: ${notLockedReason(inv.lock.images[img.name]?.tag, img.tag, 'tag')}`);
  }
  for (const chart of inv.charts) {
    if (chart.digest) continue;
    out.push(
      `${where}: charts.${chart.name}: ${notLockedReason(inv.lock.charts[chart.name]?.version, chart.version, 'version')}`,
    );
  }
  for (const file of inv.files) {
    // Built here (`path`): the bundle pins it when it carries it.
    if (file.digest || file.path !== undefined) continue;
    out.push(
      `${where}: files.${file.name}: ${notLockedReason(inv.lock.files[file.name]?.version, file.version, 'version')}`,
    );
  }
  return out;
}

/** Why an entry is not locked, phrased for a person who has to fix it. */
export function notLockedReason(lockedVersion: string | undefined, wanted: string, what: 'tag' | 'version'): string {
  return lockedVersion === undefined
    ? `no digest for ${what} ${wanted} (run 'lumen inventory lock')`
    : `locked for ${what} ${lockedVersion} but the inventory says ${wanted} (run 'lumen inventory lock')`;
}

/** A parsed file, with a way to name the line of any path in it. */
interface ReadFile<T> {
  value: T;
  /** `file:line` of the node at `path` (or just `file` when unknown). */
  at(path: readonly (string | number)[]): string;
}

function readFile<S extends z.ZodType>(
  root: string,
  name: string,
  schema: S,
  issues: string[],
  required: boolean,
): ReadFile<z.output<S>> | undefined {
  const path = join(root, name);
  const label = displayPath(path);
  if (!existsSync(path)) {
    if (required) issues.push(`${label}: file is missing`);
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    issues.push(`${label}: cannot read: ${(err as Error).message}`);
    return undefined;
  }
  const lines = new LineCounter();
  // uniqueKeys: a key given twice is an error, never "the last one wins".
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = lines.linePos(e.pos[0]);
      issues.push(`${label}:${pos.line}: not valid YAML: ${e.message.split('\n')[0]}`);
    }
    return undefined;
  }
  const at = (p: readonly (string | number)[]): string => {
    // Walk up to the nearest node that exists (a missing field is reported at its parent).
    for (let n = p.length; n >= 0; n--) {
      const node = doc.getIn(p.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return `${label}:${lines.linePos(node.range[0]).line}`;
    }
    return label;
  };
  const raw: unknown = doc.toJS();
  const parsed = schema.safeParse(raw ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) issues.push(describeIssue(issue, raw, at));
    return undefined;
  }
  return { value: parsed.data, at };
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown, at: (p: readonly (string | number)[]) => string): string {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${at([...path, key])}: ${formatPath([...path, key])}: unknown field`).join('; ');
  }
  let message = issue.message;
  const value = valueAt(raw, path);
  if (issue.code === 'invalid_type' && value === undefined) message = 'required field is missing';
  // YAML reads 17.10 as the number 17.1: a version must be quoted, never silently rounded.
  else if (issue.code === 'invalid_type' && issue.expected === 'string' && typeof value === 'number')
    message = `must be a string: quote it ('${String(value)}'), YAML reads unquoted versions as numbers`;
  return `${at(path)}: ${formatPath(path) || '(document)'}: ${message}`;
}

function valueAt(raw: unknown, path: readonly (string | number)[]): unknown {
  let v: unknown = raw;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

/** `images[3].tag` style path, as people read it in YAML. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');
}

function checkUnique<T extends { name: string }>(
  file: ReadFile<unknown>,
  section: string,
  entries: readonly T[],
  issues: string[],
): void {
  const seen = new Map<string, number>();
  entries.forEach((entry, i) => {
    const first = seen.get(entry.name);
    if (first !== undefined)
      issues.push(
        `${file.at([section, i, 'name'])}: ${section}[${i}].name: duplicate name '${entry.name}' (first at ${section}[${first}])`,
      );
    else seen.set(entry.name, i);
  });
}

/** A path relative to the working directory when it is inside it, so messages read `inventory/images.yaml`. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
