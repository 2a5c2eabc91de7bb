/**
 * The `sync-wave` rule: every custom resource syncs after the component that provides its CRD.
 */
import { builtinGroups } from '../api-groups.ts';
import type { Cluster } from '../cluster.ts';
import { apiGroup } from '../manifests.ts';
import type { ComponentFacts, SourcedObject, Violation } from '../types.ts';
import { violationOf as v } from '../violation.ts';

/** Argo CD is installed by the bootstrap (Ansible) before anything in deploy/ syncs. */
const bootstrapCrds = new Set(['argoproj.io/Application', 'argoproj.io/AppProject', 'argoproj.io/ApplicationSet']);

const waveAnnotation = 'argocd.argoproj.io/sync-wave';

interface Position {
  component?: string | undefined;
  wave: number;
  /** Resource-level wave inside the component. */
  sub: number;
}

function annotationWave(src: SourcedObject): number | undefined {
  const text = src.obj.metadata?.annotations?.[waveAnnotation];
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** The Argo CD components: from the platform facts, completed by the rendered Applications. */
function components(cluster: Cluster): ComponentFacts[] {
  const list = [...cluster.facts.components];
  for (const src of cluster.objects) {
    if (src.obj.kind !== 'Application' || apiGroup(src.obj.apiVersion) !== 'argoproj.io') continue;
    const name = src.obj.metadata?.name ?? '?';
    if (list.some((c) => c.name === name)) continue;
    const spec = (src.obj.spec ?? {}) as { source?: { path?: string }; destination?: { namespace?: string } };
    list.push({
      name,
      namespace: spec.destination?.namespace ?? 'default',
      wave: annotationWave(src) ?? 0,
      path: spec.source?.path,
    });
  }
  return list;
}

function componentOf(file: string, list: ComponentFacts[]): ComponentFacts | undefined {
  const norm = file.replaceAll('\\', '/');
  let best: ComponentFacts | undefined;
  for (const c of list) {
    if (!c.path) continue;
    const p = c.path.replace(/\/+$/, '');
    if ((norm.startsWith(`${p}/`) || norm.includes(`/${p}/`)) && (!best || p.length > (best.path ?? '').length))
      best = c;
  }
  return best;
}

/**
 * CRDs are named either `group/Kind` or, as Kubernetes names them, `<plural>.<group>`
 * (`rollouts.argoproj.io`); both are accepted and looked up in either form.
 */
function crdKey(crd: string): string {
  return crd.includes('/') ? crd : crd.toLowerCase();
}

/** The plural forms a kind's CRD may use (`Rollout` → rollouts, `PodChaos` → podchaos, `Policy` → policies). */
function pluralsOf(kind: string): string[] {
  const k = kind.toLowerCase();
  return [k, `${k}s`, `${k}es`, k.endsWith('y') ? `${k.slice(0, -1)}ies` : `${k}s`];
}

/**
 * Every custom resource's CRD is provided by a component in an EARLIER sync wave (or, for CRDs
 * rendered in the same component, by an earlier resource wave). Objects outside every
 * component (an admission dry run) sync at their own annotated wave, else after the platform.
 */
export function checkSyncWaves(cluster: Cluster): Violation[] {
  const out: Violation[] = [];
  const list = components(cluster);
  const position = (src: SourcedObject): Position => {
    // A rendered chart's objects belong to the component whose Application names the chart.
    const c = src.component ? list.find((x) => x.name === src.component) : componentOf(src.file, list);
    if (c) return { component: c.name, wave: c.wave, sub: annotationWave(src) ?? 0 };
    return { wave: annotationWave(src) ?? Number.POSITIVE_INFINITY, sub: 0 };
  };
  const providers = new Map<string, Array<Position & { by: string; crd?: boolean }>>();
  const add = (crd: string, p: Position & { by: string; crd?: boolean }) => {
    const l = providers.get(crd) ?? [];
    l.push(p);
    providers.set(crd, l);
  };
  for (const c of list) {
    // A chart's CRDs exist only once its component has synced: count them at the end of its wave.
    for (const crd of c.providesCrds ?? [])
      add(crdKey(crd), { component: c.name, wave: c.wave, sub: Number.POSITIVE_INFINITY, by: `component ${c.name}` });
  }
  for (const src of cluster.objects) {
    const { obj } = src;
    if (obj.kind === 'CustomResourceDefinition') {
      const spec = (obj.spec ?? {}) as { group?: string; names?: { kind?: string } };
      add(crdKey(`${spec.group}/${spec.names?.kind}`), {
        ...position(src),
        by: `CRD ${obj.metadata?.name}`,
        crd: true,
      });
    } else if (obj.kind === 'ConstraintTemplate' && apiGroup(obj.apiVersion) === 'templates.gatekeeper.sh') {
      const kind = (obj.spec as { crd?: { spec?: { names?: { kind?: string } } } } | undefined)?.crd?.spec?.names?.kind;
      add(`constraints.gatekeeper.sh/${kind}`, { ...position(src), by: `ConstraintTemplate ${obj.metadata?.name}` });
    }
  }
  for (const src of cluster.objects) {
    const group = apiGroup(src.obj.apiVersion);
    if (builtinGroups.has(group)) continue;
    const crd = `${group}/${src.obj.kind}`;
    if (bootstrapCrds.has(crd)) continue;
    const me = position(src);
    const found = [crd, ...pluralsOf(src.obj.kind ?? '').map((p) => `${p}.${group}`)].flatMap(
      (k) => providers.get(k) ?? [],
    );
    if (found.length === 0) {
      out.push(v(src, 'sync-wave', `no component provides the CRD ${crd}`));
      continue;
    }
    const before = found.some(
      (p) =>
        p.wave < me.wave ||
        (p.wave === me.wave &&
          p.component !== undefined &&
          p.component === me.component &&
          // Within one resource wave Argo CD applies CRDs before the other kinds (and skips the dry run of
          // custom resources whose CRD is in the same sync); a ConstraintTemplate's CRD is made later by Gatekeeper.
          (p.sub < me.sub || (p.crd === true && p.sub === me.sub))),
    );
    if (!before) {
      const first = found[0] as Position & { by: string };
      const mine = Number.isFinite(me.wave) ? `wave ${me.wave}` : 'the end';
      out.push(
        v(src, 'sync-wave', `synced at ${mine} but its CRD ${crd} comes from ${first.by} in wave ${first.wave}`),
      );
    }
  }
  return out;
}
