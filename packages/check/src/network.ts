/**
 * A NetworkPolicy evaluator (networking.k8s.io/v1 semantics): which peer may open a connection
 * to which port/protocol of which other peer. A connection between pods needs BOTH the egress
 * policies of the source and the ingress policies of the destination to allow it; a pod that no
 * policy of a direction selects is not isolated in that direction (allow all).
 */
import type { Workload } from './cluster.ts';
import { type LabelSelector, matchesSelector } from './selectors.ts';
import type { SourcedObject } from './types.ts';

/** A pod of a workload, or an address outside the cluster. */
export type Peer = { workload: Workload } | { ip: string };

interface PolicyPort {
  port?: number | string;
  endPort?: number;
  protocol?: string;
}

interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface Rule {
  peers?: PolicyPeer[];
  ports?: PolicyPort[];
}

/** A NetworkPolicy reduced to what evaluation needs. */
export interface Policy {
  source: SourcedObject;
  namespace: string;
  podSelector: LabelSelector;
  ingress?: Rule[] | undefined;
  egress?: Rule[] | undefined;
}

/** Reads a NetworkPolicy object; `policyTypes` defaults as in Kubernetes. */
export function toPolicy(source: SourcedObject, namespace: string): Policy {
  const spec = (source.obj.spec ?? {}) as {
    podSelector?: LabelSelector;
    policyTypes?: string[];
    ingress?: Array<{ from?: PolicyPeer[]; ports?: PolicyPort[] }>;
    egress?: Array<{ to?: PolicyPeer[]; ports?: PolicyPort[] }>;
  };
  // Without policyTypes: Ingress always, Egress only when egress rules are present.
  const types = spec.policyTypes ?? ['Ingress', ...(spec.egress ? ['Egress'] : [])];
  return {
    source,
    namespace,
    podSelector: spec.podSelector ?? {},
    ingress: types.includes('Ingress')
      ? (spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))
      : undefined,
    egress: types.includes('Egress') ? (spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports })) : undefined,
  };
}

/** IPv4 address → unsigned 32-bit number, or undefined for anything else (IPv6 included). */
export function ipv4(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

interface Range {
  lo: number;
  hi: number;
}

/** CIDR → inclusive IPv4 range, or undefined for IPv6/garbage. */
export function cidrRange(cidr: string): Range | undefined {
  const [addr, bitsText] = cidr.split('/');
  const base = ipv4(addr ?? '');
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  const lo = base - (base % size);
  return { lo, hi: lo + size - 1 };
}

function inBlock(ip: number, block: { cidr: string; except?: string[] }): boolean {
  const r = cidrRange(block.cidr);
  if (!r || ip < r.lo || ip > r.hi) return false;
  return !(block.except ?? []).some((e) => {
    const x = cidrRange(e);
    return x !== undefined && ip >= x.lo && ip <= x.hi;
  });
}

/**
 * Pod IPs are not known offline. An ipBlock is taken to reach pods when it overlaps the pod
 * CIDR in a part its `except` list does not cover: this can only over-approximate what is
 * allowed, so a "denied" verdict stays a proof.
 */
function blockReachesPods(block: { cidr: string; except?: string[] }, podCidr: Range): boolean {
  const r = cidrRange(block.cidr);
  if (!r) return false;
  const lo = Math.max(r.lo, podCidr.lo);
  const hi = Math.min(r.hi, podCidr.hi);
  if (lo > hi) return false;
  return !(block.except ?? []).some((e) => {
    const x = cidrRange(e);
    return x !== undefined && x.lo <= lo && x.hi >= hi;
  });
}

export interface NetworkContext {
  policiesByNamespace: Map<string, Policy[]>;
  namespaceLabels: (ns: string) => Record<string, string>;
  podCidr: Range;
}

function peerMatches(peer: PolicyPeer, policyNs: string, other: Peer, ctx: NetworkContext): boolean {
  if (peer.ipBlock) {
    if ('ip' in other) {
      const n = ipv4(other.ip);
      return n !== undefined && inBlock(n, peer.ipBlock);
    }
    return blockReachesPods(peer.ipBlock, ctx.podCidr);
  }
  if (!('workload' in other)) return false;
  const w = other.workload;
  if (peer.namespaceSelector) {
    if (!matchesSelector(peer.namespaceSelector, ctx.namespaceLabels(w.namespace))) return false;
  } else if (w.namespace !== policyNs) {
    // A podSelector alone selects pods of the policy's own namespace.
    return false;
  }
  return peer.podSelector ? matchesSelector(peer.podSelector, w.podLabels) : true;
}

/** Does a rule's port list admit this port? Named ports resolve against the destination pod. */
function portMatches(ports: PolicyPort[] | undefined, port: number, protocol: string, dst: Peer): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') {
      if (!('workload' in dst)) return false;
      return dst.workload.ports.some((wp) => wp.name === p.port && wp.port === port && wp.protocol === protocol);
    }
    const end = p.endPort ?? p.port;
    return port >= p.port && port <= end;
  });
}

/** The policies of a pod's namespace that select it and constrain the given direction. */
function selecting(w: Workload, dir: 'ingress' | 'egress', ctx: NetworkContext): Policy[] {
  return (ctx.policiesByNamespace.get(w.namespace) ?? []).filter(
    (p) => p[dir] !== undefined && matchesSelector(p.podSelector, w.podLabels),
  );
}

/** Verdict of one direction: allowed, and which policies made it so (empty = not isolated). */
export interface Side {
  allowed: boolean;
  isolated: boolean;
  by: Policy[];
}

function side(
  pod: Peer,
  other: Peer,
  dir: 'ingress' | 'egress',
  port: number,
  protocol: string,
  ctx: NetworkContext,
): Side {
  // Addresses outside the cluster and host-network pods are not subject to NetworkPolicy.
  if (!('workload' in pod) || pod.workload.hostNetwork) return { allowed: true, isolated: false, by: [] };
  const policies = selecting(pod.workload, dir, ctx);
  if (policies.length === 0) return { allowed: true, isolated: false, by: [] };
  const dst = dir === 'ingress' ? pod : other;
  const by = policies.filter((p) =>
    (p[dir] ?? []).some(
      (rule) =>
        (!rule.peers ||
          rule.peers.length === 0 ||
          rule.peers.some((peer) => peerMatches(peer, p.namespace, other, ctx))) &&
        portMatches(rule.ports, port, protocol, dst),
    ),
  );
  return { allowed: by.length > 0, isolated: true, by };
}

/** The verdict for one connection attempt. */
export interface Verdict {
  allowed: boolean;
  egress: Side;
  ingress: Side;
}

/** May `from` open a connection to `to` on port/protocol? Both sides must allow it. */
export function connection(from: Peer, to: Peer, port: number, protocol: string, ctx: NetworkContext): Verdict {
  const egress = side(from, to, 'egress', port, protocol, ctx);
  const ingress = side(to, from, 'ingress', port, protocol, ctx);
  return { allowed: egress.allowed && ingress.allowed, egress, ingress };
}
