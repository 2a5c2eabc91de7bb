/**
 * Sync waves, computed rather than written by hand: a component syncs after every component
 * that provides a CRD it uses (Argo CD cannot apply a custom resource before its CRD exists),
 * and after the component that owns its namespace (which creates the Namespace with its Pod
 * Security labels and default-deny policies before any pod lands there).
 */
import { PlatformError, PlatformErrorCode } from './errors.ts';

export interface WaveInput {
  name: string;
  providesCrds: string[];
  usesCrds: string[];
  /** Components that must be synced before this one for other reasons (namespace owner). */
  after: string[];
}

/** Name → the component names it depends on, with the reason for each. */
export function dependencies(components: WaveInput[]): Map<string, Map<string, string>> {
  const provider = new Map<string, string>();
  for (const c of components) {
    for (const crd of c.providesCrds) {
      const other = provider.get(crd);
      if (other)
        throw new PlatformError(PlatformErrorCode.crd, `CRD ${crd} is provided by both ${other} and ${c.name}`);
      provider.set(crd, c.name);
    }
  }
  const deps = new Map<string, Map<string, string>>();
  for (const c of components) {
    const mine = new Map<string, string>();
    for (const crd of c.usesCrds) {
      const p = provider.get(crd);
      if (!p) throw new PlatformError(PlatformErrorCode.crd, `${c.name} uses ${crd}, which no component provides`);
      // A CRD and its custom resources in one Application race on the first sync; split the component instead.
      if (p === c.name)
        throw new PlatformError(PlatformErrorCode.crd, `${c.name} uses ${crd} that it provides itself: split it`);
      if (!mine.has(p)) mine.set(p, `uses ${crd}`);
    }
    for (const a of c.after) if (a !== c.name && !mine.has(a)) mine.set(a, 'owns its namespace');
    deps.set(c.name, mine);
  }
  return deps;
}

/**
 * Wave of every component: 0 without dependencies, else one more than its latest dependency.
 *
 * @throws {PlatformError} `PLATFORM_CRD` on a dependency cycle, an unprovided or doubly provided CRD.
 */
export function computeWaves(components: WaveInput[]): Map<string, number> {
  const deps = dependencies(components);
  const waves = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (name: string, path: string[]): number => {
    const known = waves.get(name);
    if (known !== undefined) return known;
    if (visiting.has(name))
      throw new PlatformError(PlatformErrorCode.crd, `sync dependency cycle: ${[...path, name].join(' → ')}`);
    visiting.add(name);
    let wave = 0;
    for (const d of deps.get(name)?.keys() ?? []) wave = Math.max(wave, visit(d, [...path, name]) + 1);
    visiting.delete(name);
    waves.set(name, wave);
    return wave;
  };
  for (const c of components) visit(c.name, []);
  return waves;
}
