/**
 * The network proof: computes, from the rendered NetworkPolicies, namespaces and pod labels,
 * every flow between workloads (and to/from the declared external addresses) that the
 * policies allow, and compares it exactly with the declared matrix.
 */
import type { Cluster, Workload } from '../cluster.ts';
import { namespaceOf } from '../cluster.ts';
import { objectId } from '../manifests.ts';
import {
  cidrRange,
  connection,
  type NetworkContext,
  type Peer,
  type Policy,
  toPolicy,
  type Verdict,
} from '../network.ts';
import type { NetworkMatrix, Violation } from '../types.ts';

/**
 * A pod in a namespace that no policy knows (a tenant added tomorrow): any rule that opens
 * an exact workload "to every namespace" lets it in, so it is a source in every proof.
 */
export const outsider: Workload = {
  id: 'lumen-check-outsider/outsider',
  name: 'outsider',
  namespace: 'lumen-check-outsider',
  kind: 'probe',
  podLabels: { app: 'outsider' },
  ports: [
    { port: 80, protocol: 'TCP' },
    { port: 443, protocol: 'TCP' },
    { port: 8080, protocol: 'TCP' },
  ],
  hostNetwork: false,
};

/** The evaluation context of a cluster: policies by namespace, namespace labels, pod CIDR. */
export function networkContext(cluster: Cluster): NetworkContext {
  const policiesByNamespace = new Map<string, Policy[]>();
  // Policies of the manifests under test first, so unexpected flows are blamed on them.
  const sorted = [...cluster.objects].sort((a, b) => Number(b.underTest) - Number(a.underTest));
  for (const src of sorted) {
    if (src.obj.kind !== 'NetworkPolicy') continue;
    const ns = namespaceOf(src.obj) ?? 'default';
    const list = policiesByNamespace.get(ns) ?? [];
    list.push(toPolicy(src, ns));
    policiesByNamespace.set(ns, list);
  }
  const podCidr = cidrRange(cluster.facts.podCidr ?? '10.42.0.0/16') ?? { lo: 0, hi: 0 };
  return {
    policiesByNamespace,
    namespaceLabels: (ns) => cluster.namespaces.get(ns)?.labels ?? { 'kubernetes.io/metadata.name': ns },
    podCidr,
  };
}

interface Endpoint {
  id: string;
  peer: Peer;
  ports: Array<{ port: number; protocol: string }>;
  workload?: Workload;
}

function key(from: string, to: string, port: number, protocol: string): string {
  return `${from}→${to}:${port}/${protocol}`;
}

function blame(
  verdict: Verdict,
  from: Endpoint,
  to: Endpoint,
  matrixFile: string,
): { file: string; kind: string; namespace: string; name: string } {
  const policy = verdict.allowed ? (verdict.ingress.by[0] ?? verdict.egress.by[0]) : undefined;
  if (policy) return { file: policy.source.file, ...objectId(policy.source.obj) };
  const target = to.workload?.source ?? from.workload?.source;
  if (target) return { file: target.file, ...objectId(target.obj) };
  return { file: matrixFile, kind: 'NetworkMatrix', namespace: '-', name: `${from.id}→${to.id}` };
}

/** Compares the allowed flows with the matrix; `matrixFile` names the matrix in messages. */
export function checkNetwork(cluster: Cluster, matrix: NetworkMatrix, matrixFile: string): Violation[] {
  const ctx = networkContext(cluster);
  const out: Violation[] = [];
  /** A violation of the matrix itself, named after the flow or workload it declares. */
  const inMatrix = (name: string, reason: string): Violation => ({
    file: matrixFile,
    kind: 'NetworkMatrix',
    namespace: '-',
    name,
    rule: 'network',
    reason,
  });
  const endpoints = new Map<string, Endpoint>();
  for (const w of [...cluster.workloads, outsider]) {
    endpoints.set(w.id, {
      id: w.id,
      peer: { workload: w },
      workload: w,
      ports: w.ports.map((p) => ({ port: p.port, protocol: p.protocol })),
    });
  }
  const externals = new Set<string>();
  for (const [name, ext] of Object.entries(matrix.externals)) {
    externals.add(name);
    endpoints.set(name, {
      id: name,
      peer: { ip: ext.ip },
      ports: ext.ports.map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP' })),
    });
  }
  const declared = new Set<string>();
  for (const flow of matrix.allow) {
    const protocol = flow.protocol ?? 'TCP';
    declared.add(key(flow.from, flow.to, flow.port, protocol));
    for (const end of [flow.from, flow.to]) {
      if (!endpoints.has(end)) {
        out.push(
          inMatrix(
            `${flow.from}→${flow.to}`,
            `the matrix names ${end}, which is neither a workload nor an external address`,
          ),
        );
      }
    }
  }
  const exact = new Set(matrix.exact);
  for (const id of exact) {
    if (!endpoints.has(id)) {
      out.push(inMatrix(id, `the matrix declares the traffic of ${id}, which is not a workload`));
    }
  }
  const seen = new Set<string>();
  const all = [...endpoints.values()];
  for (const from of all) {
    if (from.workload?.hostNetwork) continue;
    for (const to of all) {
      if (externals.has(from.id) && externals.has(to.id)) continue;
      for (const { port, protocol } of to.ports) {
        const k = key(from.id, to.id, port, protocol);
        const isDeclared = declared.has(k);
        if (!isDeclared && !exact.has(from.id) && !exact.has(to.id)) continue;
        seen.add(k);
        const verdict = connection(from.peer, to.peer, port, protocol, ctx);
        if (verdict.allowed === isDeclared) continue;
        const where = blame(verdict, from, to, matrixFile);
        const flow = `${from.id} → ${to.id}:${port}/${protocol}`;
        let reason: string;
        if (verdict.allowed) {
          reason = `${flow} is allowed but the matrix does not declare it`;
          if (!verdict.ingress.isolated && !verdict.egress.isolated)
            reason += ' (no NetworkPolicy isolates either side)';
        } else {
          const denies = [
            !verdict.egress.allowed ? 'egress of the source' : '',
            !verdict.ingress.allowed ? 'ingress of the destination' : '',
          ]
            .filter(Boolean)
            .join(' and ');
          reason = `${flow} is declared in the matrix but denied by the ${denies}`;
        }
        out.push({ ...where, rule: 'network', reason });
      }
    }
  }
  // A declared flow on a port the destination does not expose can never be proven.
  for (const flow of matrix.allow) {
    const k = key(flow.from, flow.to, flow.port, flow.protocol ?? 'TCP');
    const to = endpoints.get(flow.to);
    if (seen.has(k) || !endpoints.has(flow.from) || !to) continue;
    const listens = to.ports.map((p) => `${p.port}/${p.protocol}`).join(', ') || 'no port';
    const reason = `${flow.to} does not listen on ${flow.port}/${flow.protocol ?? 'TCP'} (it listens on ${listens})`;
    // A rendered workload (lumen's or a chart's) is blamed itself: its ports are what it really serves.
    const src = to.workload?.source;
    if (src)
      out.push({
        file: src.file,
        ...objectId(src.obj),
        rule: 'network',
        reason: `${reason}, which the matrix declares from ${flow.from}`,
      });
    else out.push(inMatrix(`${flow.from}→${flow.to}`, reason));
  }
  return out;
}

/** Helper for tests and callers: the verdict between two workloads by id. */
export function reach(
  cluster: Cluster,
  from: string,
  to: string | { ip: string },
  port: number,
  protocol = 'TCP',
): Verdict {
  const ctx = networkContext(cluster);
  const find = (id: string) => {
    const w = id === outsider.id ? outsider : cluster.workloads.find((x) => x.id === id);
    if (!w) throw new Error(`no workload ${id}`);
    return w;
  };
  const dst: Peer = typeof to === 'string' ? { workload: find(to) } : to;
  return connection({ workload: find(from) }, dst, port, protocol, ctx);
}
