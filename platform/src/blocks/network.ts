/**
 * NetworkPolicies generated from the flows components declare: default-deny (ingress and egress)
 * in every namespace, DNS to kube-dns, and for each flow an egress rule at its source and an
 * ingress rule at its target — so the two sides can never disagree, and nothing that no flow
 * names can connect (the public implementation let any pod reach the API and the database
 * pods connect anywhere).
 */
import { PlatformError, PlatformErrorCode } from '../engine/errors.ts';
import type { Component, Flow, KubeObject, PortSpec, Workload } from '../engine/types.ts';
import { cluster } from '../settings.ts';

/** External peers a flow may name. */
export const externalPeers = ['@kube-apiserver', '@nodes', '@registry', '@world'] as const;

interface SiteLike {
  registry: string;
  nodes: Array<{ name: string; ip: string; role: string }>;
}

type Resolved =
  | { kind: 'pods'; component: Component; workload: Workload }
  | { kind: 'cidrs'; name: string; cidrs: string[] };

/** Finds the pods or addresses an endpoint names. */
export function resolveEndpoint(endpoint: string, components: Component[], site: SiteLike): Resolved {
  const nodeCidrs = site.nodes.map((n) => `${n.ip}/32`);
  switch (endpoint) {
    case '@kube-apiserver':
      return {
        kind: 'cidrs',
        name: 'kube-apiserver',
        cidrs: [
          `${cluster.apiServerServiceIp}/32`,
          ...site.nodes.filter((n) => n.role === 'server').map((n) => `${n.ip}/32`),
        ],
      };
    case '@nodes':
      return { kind: 'cidrs', name: 'nodes', cidrs: nodeCidrs };
    case '@registry': {
      const host = site.registry.replace(/:\d+$/, '');
      return { kind: 'cidrs', name: 'registry', cidrs: [`${host}/32`] };
    }
    case '@world':
      return { kind: 'cidrs', name: 'world', cidrs: ['0.0.0.0/0'] };
  }
  const [componentName, workloadName, extra] = endpoint.split('/');
  const component = components.find((c) => c.name === componentName);
  const workload = component?.workloads.find((w) => w.name === workloadName);
  if (!component || !workload || extra !== undefined)
    throw new PlatformError(PlatformErrorCode.conflict, `flow endpoint '${endpoint}' names no component/workload`);
  return { kind: 'pods', component, workload };
}

function peerOf(r: Resolved, site: SiteLike): Array<Record<string, unknown>> {
  if (r.kind === 'cidrs') return r.cidrs.map((cidr) => ({ ipBlock: { cidr } }));
  // Host-network pods have node addresses; a pod selector would never match their traffic.
  if (r.workload.hostNetwork) return site.nodes.map((n) => ({ ipBlock: { cidr: `${n.ip}/32` } }));
  return [
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': r.component.namespace } },
      podSelector: { matchLabels: r.workload.podLabels },
    },
  ];
}

function portsOf(ports: PortSpec[]): Array<{ port: number; protocol: string }> {
  return ports.map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP' }));
}

function nameOf(r: Resolved): string {
  if (r.kind === 'cidrs') return r.name;
  // Workload names usually start with their component's (redis-sentinel in redis): don't say it twice.
  return r.workload.name.startsWith(r.component.name) ? r.workload.name : `${r.component.name}-${r.workload.name}`;
}

/** A policy attached to the component whose pods it selects. */
export interface OwnedPolicy {
  component: string;
  object: KubeObject;
}

/** Default-deny and DNS policies of one namespace. */
export function namespaceBaseline(namespace: string): KubeObject[] {
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: 'default-deny',
        namespace,
        annotations: { 'lumen.dev/why': 'zero trust: nothing connects unless a flow below allows it' },
      },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: 'allow-dns',
        namespace,
        annotations: { 'lumen.dev/why': 'every pod resolves Service names through CoreDNS' },
      },
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                podSelector: { matchLabels: { ...cluster.dnsPodLabels } },
              },
            ],
            ports: [
              { port: 53, protocol: 'UDP' },
              { port: 53, protocol: 'TCP' },
            ],
          },
        ],
      },
    },
  ];
}

/**
 * One egress policy per (source workload, target) and one ingress policy per (target workload,
 * source), each attached to the component owning the selected pods.
 */
export function flowPolicies(components: Component[], site: SiteLike): OwnedPolicy[] {
  const merged = new Map<
    string,
    {
      component: string;
      namespace: string;
      select: Record<string, string>;
      dir: 'Ingress' | 'Egress';
      peer: Array<Record<string, unknown>>;
      ports: PortSpec[];
      why: string[];
      name: string;
    }
  >();
  const add = (
    key: string,
    init: () => {
      component: string;
      namespace: string;
      select: Record<string, string>;
      dir: 'Ingress' | 'Egress';
      peer: Array<Record<string, unknown>>;
      name: string;
    },
    ports: PortSpec[],
    why: string,
  ) => {
    let entry = merged.get(key);
    if (!entry) {
      entry = { ...init(), ports: [], why: [] };
      merged.set(key, entry);
    }
    for (const p of ports)
      if (!entry.ports.some((q) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP')))
        entry.ports.push(p);
    if (!entry.why.includes(why)) entry.why.push(why);
  };
  const flows: Flow[] = components.flatMap((c) => c.flows);
  for (const flow of flows) {
    const from = resolveEndpoint(flow.from, components, site);
    const to = resolveEndpoint(flow.to, components, site);
    if (to.kind === 'cidrs' && to.name === 'world')
      throw new PlatformError(
        PlatformErrorCode.conflict,
        `flow ${flow.from} → @world: egress to anywhere is never allowed`,
      );
    if (to.kind === 'pods') {
      for (const p of flow.ports)
        if (!to.workload.ports.some((q) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP')))
          throw new PlatformError(
            PlatformErrorCode.conflict,
            `flow ${flow.from} → ${flow.to}: port ${p.port} is not a port of ${flow.to}`,
          );
    }
    if (from.kind === 'pods' && !from.workload.hostNetwork) {
      const f = from;
      add(
        `egress|${f.component.name}|${f.workload.name}|${flow.to}`,
        () => ({
          component: f.component.name,
          namespace: f.component.namespace,
          select: f.workload.podLabels,
          dir: 'Egress',
          peer: peerOf(to, site),
          name: `egress-${f.workload.name}-to-${nameOf(to)}`,
        }),
        flow.ports,
        flow.why,
      );
    }
    if (to.kind === 'pods' && !to.workload.hostNetwork) {
      const t = to;
      add(
        `ingress|${t.component.name}|${t.workload.name}|${flow.from}`,
        () => ({
          component: t.component.name,
          namespace: t.component.namespace,
          select: t.workload.podLabels,
          dir: 'Ingress',
          peer: peerOf(from, site),
          name: `ingress-${t.workload.name}-from-${nameOf(from)}`,
        }),
        flow.ports,
        flow.why,
      );
    }
  }
  const names = new Set<string>();
  const out: OwnedPolicy[] = [];
  for (const e of merged.values()) {
    const id = `${e.namespace}/${e.name}`;
    if (names.has(id)) throw new PlatformError(PlatformErrorCode.conflict, `two NetworkPolicies named ${id}`);
    names.add(id);
    const rule =
      e.dir === 'Egress' ? { to: e.peer, ports: portsOf(e.ports) } : { from: e.peer, ports: portsOf(e.ports) };
    out.push({
      component: e.component,
      object: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: e.name, namespace: e.namespace, annotations: { 'lumen.dev/why': e.why.join('; ') } },
        spec: {
          podSelector: { matchLabels: e.select },
          policyTypes: [e.dir],
          [e.dir === 'Egress' ? 'egress' : 'ingress']: [rule],
        },
      },
    });
  }
  return out;
}
