/**
 * The `selector` rule: every Service, NetworkPolicy, PodDisruptionBudget, HPA, ServiceMonitor,
 * PodMonitor and Chaos Mesh experiment selects something real.
 */
import { type Cluster, namespaceOf, type Workload } from '../cluster.ts';
import { apiGroup } from '../manifests.ts';
import { type LabelSelector, matchesMap, matchesSelector } from '../selectors.ts';
import type { ServiceFact, SourcedObject, Violation } from '../types.ts';
import { violationOf as v } from '../violation.ts';

function workloadsIn(cluster: Cluster, ns: string): Workload[] {
  return cluster.workloads.filter((w) => w.namespace === ns);
}

function describe(selector: unknown): string {
  return JSON.stringify(selector);
}

/** Chaos Mesh kinds whose `spec.selector` picks target pods. */
const chaosKinds = new Set([
  'PodChaos',
  'NetworkChaos',
  'StressChaos',
  'IOChaos',
  'TimeChaos',
  'KernelChaos',
  'DNSChaos',
  'HTTPChaos',
  'JVMChaos',
]);

interface ChaosSelector {
  namespaces?: string[];
  labelSelectors?: Record<string, string>;
  expressionSelectors?: LabelSelector['matchExpressions'];
}

/** Pods a Chaos Mesh selector picks; without `namespaces` it targets its own namespace. */
function chaosTargets(cluster: Cluster, selector: ChaosSelector, ownNs: string): Workload[] {
  const namespaces = selector.namespaces && selector.namespaces.length > 0 ? selector.namespaces : [ownNs];
  const ls: LabelSelector = { matchLabels: selector.labelSelectors, matchExpressions: selector.expressionSelectors };
  return cluster.workloads.filter((w) => namespaces.includes(w.namespace) && matchesSelector(ls, w.podLabels));
}

/** The Service every Kubernetes cluster has for its API server (labels as the API server sets them). */
const kubernetesServices: ServiceFact[] = [
  { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
];

/** Every Service, NetworkPolicy, PDB, HPA, ServiceMonitor, PodMonitor and chaos experiment selects something. */
export function checkSelectors(cluster: Cluster): Violation[] {
  const out: Violation[] = [];
  const services = cluster.objects.filter((s) => s.obj.kind === 'Service' && s.obj.apiVersion === 'v1');
  // Services no render shows: Kubernetes' own and those controllers create at run time.
  const unrendered = [...kubernetesServices, ...cluster.facts.components.flatMap((c) => c.runtimeServices ?? [])];
  for (const src of cluster.objects) {
    const { obj } = src;
    const ns = namespaceOf(obj) ?? 'default';
    const spec = (obj.spec ?? {}) as Record<string, unknown>;
    const group = apiGroup(obj.apiVersion);
    const pods = () => workloadsIn(cluster, ns);
    if (obj.kind === 'Service' && group === '') {
      const selector = spec.selector as Record<string, string> | undefined;
      // A Service without selector has hand-made endpoints (or is ExternalName): nothing to select.
      if (!selector || Object.keys(selector).length === 0) continue;
      // Labels a controller adds at run time (Vault's vault-active) are on no rendered pod template.
      const runtime = new Set(
        cluster.facts.components.filter((c) => c.namespace === ns).flatMap((c) => c.runtimePodLabels ?? []),
      );
      const fixed = Object.fromEntries(Object.entries(selector).filter(([k]) => !runtime.has(k)));
      if (!pods().some((w) => matchesMap(fixed, w.podLabels))) {
        out.push(v(src, 'selector', `selector ${describe(selector)} matches no workload in namespace ${ns}`));
      }
    } else if (obj.kind === 'NetworkPolicy') {
      const selector = (spec.podSelector ?? {}) as LabelSelector;
      if (!pods().some((w) => matchesSelector(selector, w.podLabels))) {
        out.push(v(src, 'selector', `podSelector ${describe(selector)} matches no workload in namespace ${ns}`));
      }
    } else if (obj.kind === 'PodDisruptionBudget') {
      const selector = spec.selector as LabelSelector | undefined;
      if (!selector || !pods().some((w) => matchesSelector(selector, w.podLabels))) {
        out.push(v(src, 'selector', `selector ${describe(selector)} matches no workload in namespace ${ns}`));
      }
    } else if (obj.kind === 'HorizontalPodAutoscaler') {
      const ref = (spec.scaleTargetRef ?? {}) as { kind?: string; name?: string };
      if (!pods().some((w) => w.kind === ref.kind && w.name === ref.name)) {
        out.push(v(src, 'selector', `scaleTargetRef ${ref.kind}/${ref.name} is not a workload in namespace ${ns}`));
      }
    } else if (obj.kind === 'ServiceMonitor' && group === 'monitoring.coreos.com') {
      const selector = (spec.selector ?? {}) as LabelSelector;
      const nsSel = (spec.namespaceSelector ?? {}) as { any?: boolean; matchNames?: string[] };
      const inScopeNs = (sns: string) => {
        if (nsSel.any) return true;
        return nsSel.matchNames && nsSel.matchNames.length > 0 ? nsSel.matchNames.includes(sns) : sns === ns;
      };
      const inScope = (s: SourcedObject) => inScopeNs(namespaceOf(s.obj) ?? 'default');
      const hits = [
        ...services.filter((s) => inScope(s) && matchesSelector(selector, s.obj.metadata?.labels ?? {})),
        ...unrendered
          .filter((s) => inScopeNs(s.namespace) && matchesSelector(selector, s.labels))
          .map((s) => ({ obj: { metadata: { name: s.name, namespace: s.namespace } } }) as SourcedObject),
      ];
      // Each matched Service is one more scrape of the same pods: the public implementation
      // matched three and scraped every pod three times.
      if (hits.length !== 1) {
        const names = hits.map((s) => `${namespaceOf(s.obj)}/${s.obj.metadata?.name}`).join(', ');
        out.push(
          v(src, 'selector', `must select exactly one Service, selects ${hits.length}${names ? ` (${names})` : ''}`),
        );
      }
    } else if (obj.kind === 'PodMonitor' && group === 'monitoring.coreos.com') {
      const selector = (spec.selector ?? {}) as LabelSelector;
      if (!pods().some((w) => matchesSelector(selector, w.podLabels))) {
        out.push(v(src, 'selector', `selector ${describe(selector)} matches no workload in namespace ${ns}`));
      }
    } else if (group === 'chaos-mesh.org' && chaosKinds.has(obj.kind ?? '')) {
      const selector = (spec.selector ?? {}) as ChaosSelector;
      if (chaosTargets(cluster, selector, ns).length === 0) {
        const where = selector.namespaces?.length ? selector.namespaces.join(', ') : ns;
        out.push(v(src, 'selector', `selector ${describe(selector)} matches no workload in namespace ${where}`));
      }
      const target = (spec.target as { selector?: ChaosSelector } | undefined)?.selector;
      if (target && chaosTargets(cluster, target, ns).length === 0) {
        out.push(v(src, 'selector', `target.selector ${describe(target)} matches no workload`));
      }
    }
  }
  return out;
}
