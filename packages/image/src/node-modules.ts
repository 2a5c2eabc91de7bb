/**
 * The production dependencies of one workspace, as npm installed them: the closure of its `dependencies`,
 * `optionalDependencies` and `peerDependencies` through package-lock.json, resolved as Node resolves a require
 * (nearest `node_modules` first, then each parent's), copied from the installed tree. Every package must be
 * installed at its locked version (the tree `npm ci` writes), and none may be native (the image is built for
 * several architectures from one tree).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TarInput } from '@lumen/oci';
import { ImageError, ImageErrorCode } from './errors.ts';
import { treeEntries } from './tree.ts';

interface LockPackage {
  version?: string;
  dev?: boolean;
  link?: boolean;
  resolved?: string;
  os?: string[];
  cpu?: string[];
  hasInstallScript?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** Where `name` resolves from the package at lockfile location `from` (`apps/api`, `node_modules/a`). */
function resolveFrom(packages: Record<string, LockPackage>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (dir === '') return undefined;
    const slash = dir.lastIndexOf('/');
    dir = slash === -1 ? '' : dir.slice(0, slash);
  }
}

/** Lockfile locations (`node_modules/pg`, `apps/api/node_modules/ajv-formats`) of a workspace's runtime closure, sorted. */
export function productionClosure(root: string, workspace: string): string[] {
  let lock: { packages?: Record<string, LockPackage> };
  try {
    lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  } catch (err) {
    throw new ImageError(
      ImageErrorCode.dependencies,
      `cannot read ${join(root, 'package-lock.json')}: ${(err as Error).message}`,
    );
  }
  const packages = lock.packages ?? {};
  if (!packages[workspace]) {
    throw new ImageError(ImageErrorCode.dependencies, `package-lock.json has no workspace ${workspace}`);
  }
  const seen = new Set<string>();
  const visit = (from: string) => {
    const pkg = packages[from] as LockPackage;
    const optionalPeers = new Set(
      Object.entries(pkg.peerDependenciesMeta ?? {})
        .filter(([, m]) => m.optional)
        .map(([n]) => n),
    );
    const wanted: Array<[string, boolean]> = [
      ...Object.keys(pkg.dependencies ?? {}).map((n): [string, boolean] => [n, true]),
      ...Object.keys(pkg.optionalDependencies ?? {}).map((n): [string, boolean] => [n, false]),
      ...Object.keys(pkg.peerDependencies ?? {}).map((n): [string, boolean] => [n, !optionalPeers.has(n)]),
    ];
    for (const [name, required] of wanted) {
      const at = resolveFrom(packages, from, name);
      if (at === undefined) {
        if (required) {
          throw new ImageError(
            ImageErrorCode.dependencies,
            `package-lock.json: ${name} (needed by ${from}) is not locked`,
          );
        }
        continue;
      }
      if (seen.has(at)) continue;
      const target = packages[at] as LockPackage;
      if (target.link) {
        throw new ImageError(
          ImageErrorCode.dependencies,
          `${from} depends at run time on the workspace ${target.resolved ?? name}: the image carries npm packages only`,
        );
      }
      if (target.os || target.cpu) {
        if (!required) continue; // a platform-specific optional package (never needed by pure-JS dependencies)
        throw new ImageError(
          ImageErrorCode.dependencies,
          `${at} is built for specific platforms (${[...(target.os ?? []), ...(target.cpu ?? [])].join(', ')}): the image is built for several from one tree`,
        );
      }
      seen.add(at);
      visit(at);
    }
  };
  visit(workspace);
  return [...seen].sort();
}

/**
 * The node_modules layer's entries for `workspace` of the repository at `root`, placed under `prefix` (`app`):
 * every package of {@link productionClosure} at its lockfile location, checked against its locked version.
 */
export function nodeModulesEntries(
  root: string,
  workspace: string,
  prefix: string,
): { entries: TarInput[]; packages: Array<{ name: string; version: string; location: string }> } {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockPackage>;
  };
  const entries: TarInput[] = [];
  const packages: Array<{ name: string; version: string; location: string }> = [];
  for (const location of productionClosure(root, workspace)) {
    const locked = lock.packages[location]?.version;
    let installed: string | undefined;
    try {
      installed = (JSON.parse(readFileSync(join(root, location, 'package.json'), 'utf8')) as { version?: string })
        .version;
    } catch {
      installed = undefined;
    }
    if (installed !== locked) {
      throw new ImageError(
        ImageErrorCode.dependencies,
        `${location} is ${installed === undefined ? 'not installed' : `installed at ${installed}`}, package-lock.json pins ${locked}: run 'npm ci'`,
      );
    }
    const name = location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
    packages.push({ name, version: locked as string, location });
    entries.push({ path: `${prefix}/${location}`, type: 'dir', mode: 0o755 });
    // Without its nested node_modules: those are packages of their own.
    treeEntries(join(root, location), `${prefix}/${location}`, entries, {
      skip: (rel) => rel === 'node_modules',
      check: (rel) => {
        if (rel.endsWith('.node')) {
          throw new ImageError(
            ImageErrorCode.dependencies,
            `${location}/${rel} is a native addon: the image is built for several architectures from one tree`,
          );
        }
      },
    });
  }
  return { entries, packages };
}
