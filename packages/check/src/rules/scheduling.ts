/**
 * Scheduling on the site's nodes: every pod-making object must find nodes that its node selector
 * and required node affinity accept, and a workload whose pods repel each other per node (required
 * pod anti-affinity on `kubernetes.io/hostname`) cannot run more replicas than those nodes. Charts
 * set both (an HA preset with three replicas on a two-node site leaves one pod Pending forever).
 */
import type { Cluster } from '../cluster.ts';
import { podOf } from '../pod-spec.ts';
import { type LabelSelector, matchesSelector } from '../selectors.ts';
import type { InventoryView, SourcedObject, Violation } from '../types.ts';
import { violationOf } from '../violation.ts';

const hostnameKey = 'kubernetes.io/hostname';
/** Labels every kubelet sets whose values the inventory does not record (any value is assumed to match). */
const kubeletSet = new Set(['kubernetes.io/arch', 'beta.kubernetes.io/arch', 'beta.kubernetes.io/os']);

interface SiteNode {
  name: string;
  labels: Record<string, string>;
}

/** The labels a K3s node carries: hostname and OS from the kubelet, role labels on servers, the site's own. */
export function nodeLabels(node: { name: string; role: string; labels?: Record<string, string> | undefined }) {
  return {
    [hostnameKey]: node.name,
    'kubernetes.io/os': 'linux',
    ...(node.role === 'server'
      ? { 'node-role.kubernetes.io/control-plane': 'true', 'node-role.kubernetes.io/master': 'true' }
      : {}),
    ...(node.labels ?? {}),
  };
}

interface NodeSelectorRequirement {
  key?: string;
  operator?: string;
  values?: string[];
}

function requirementHolds(req: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  if (!req.key) return false;
  if (kubeletSet.has(req.key)) return true;
  const value = labels[req.key];
  switch (req.operator) {
    case 'Gt':
    case 'Lt': {
      const n = Number(value);
      const limit = Number(req.values?.[0]);
      if (value === undefined || !Number.isFinite(n) || !Number.isFinite(limit)) return false;
      return req.operator === 'Gt' ? n > limit : n < limit;
    }
    default:
      return matchesSelector(
        { matchExpressions: [{ key: req.key, operator: req.operator ?? '', values: req.values ?? [] }] },
        labels,
      );
  }
}

interface Placement {
  nodeSelector?: Record<string, string>;
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: {
        nodeSelectorTerms?: Array<{ matchExpressions?: NodeSelectorRequirement[] }>;
      };
    };
    podAntiAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: Array<{ topologyKey?: string; labelSelector?: LabelSelector }>;
    };
  };
}

/** Nodes the pod spec's node selector and required node affinity accept. */
function eligibleNodes(spec: Placement, nodes: readonly SiteNode[]): SiteNode[] {
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return nodes.filter((node) => {
    for (const [key, value] of Object.entries(spec.nodeSelector ?? {})) {
      if (!kubeletSet.has(key) && node.labels[key] !== value) return false;
    }
    // Terms are ORed, the expressions of a term ANDed; an empty list of terms matches nothing.
    if (terms && !terms.some((t) => (t.matchExpressions ?? []).every((r) => requirementHolds(r, node.labels))))
      return false;
    return true;
  });
}

function describePlacement(spec: Placement): string {
  const parts: string[] = [];
  const sel = Object.entries(spec.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`);
  if (sel.length > 0) parts.push(`nodeSelector ${sel.join(',')}`);
  if (spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution) parts.push('required node affinity');
  return parts.join(' and ') || 'its placement';
}

/** Proves every pod-making object schedulable on the inventory's nodes (no nodes listed = not proven). */
export function checkScheduling(cluster: Cluster, inventory: InventoryView): Violation[] {
  const siteNodes = inventory.site.nodes;
  if (!siteNodes || siteNodes.length === 0) return [];
  const nodes = siteNodes.map((n) => ({ name: n.name, labels: nodeLabels(n) }));
  const out: Violation[] = [];
  const flag = (src: SourcedObject, reason: string) => out.push(violationOf(src, 'scheduling', reason));
  for (const src of cluster.objects) {
    const pod = podOf(src.obj);
    if (!pod) continue;
    const spec = pod.spec as Placement;
    const eligible = eligibleNodes(spec, nodes);
    if (eligible.length === 0) {
      flag(src, `no node of the site (${nodes.map((n) => n.name).join(', ')}) matches ${describePlacement(spec)}`);
      continue;
    }
    const kind = src.obj.kind;
    if (kind !== 'Deployment' && kind !== 'StatefulSet' && kind !== 'ReplicaSet' && kind !== 'Rollout') continue;
    const raw = (src.obj.spec as { replicas?: unknown } | undefined)?.replicas;
    const replicas = typeof raw === 'number' ? raw : 1;
    const repels = (spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).some(
      (term) =>
        term.topologyKey === hostnameKey &&
        term.labelSelector !== undefined &&
        matchesSelector(term.labelSelector, pod.labels),
    );
    if (repels && replicas > eligible.length) {
      flag(
        src,
        `${replicas} replicas with required pod anti-affinity on ${hostnameKey}, but only ${eligible.length} node(s) can take them (${eligible.map((n) => n.name).join(', ')}): ${replicas - eligible.length} pod(s) would stay Pending`,
      );
    }
  }
  return out;
}
