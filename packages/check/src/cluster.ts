/**
 * The cluster as the checks see it: the rendered objects (plus the manifests under test),
 * the namespaces with their labels, and every workload with its pod labels and ports —
 * rendered ones and those the platform model declares (Helm charts, operators, built-ins).
 */
import { apiGroup } from './manifests.ts';
import { podOf } from './pod-spec.ts';
import type { ExternalWorkload, K8sObject, PlatformFacts, SourcedObject, WorkloadPort } from './types.ts';

/** Kinds that have no namespace (objects of other kinds without one land in `default`). */
const clusterScoped = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'APIService',
  'PriorityClass',
  'StorageClass',
  'IngressClass',
  'RuntimeClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'ConstraintTemplate',
  'ClusterIssuer',
  'ClusterPolicy',
  'ClusterAnalysisTemplate',
  'ClusterSecretStore',
  'ClusterServingRuntime',
]);

/** True for kinds that live outside namespaces (Gatekeeper Constraints are cluster-scoped too). */
export function isClusterScoped(obj: K8sObject): boolean {
  return clusterScoped.has(obj.kind ?? '') || apiGroup(obj.apiVersion) === 'constraints.gatekeeper.sh';
}

/** The namespace an object lands in: its own, `default` when a namespaced object names none. */
export function namespaceOf(obj: K8sObject): string | undefined {
  if (isClusterScoped(obj)) return undefined;
  return obj.metadata?.namespace ?? 'default';
}

/** A workload: something whose pods can be selected, reached and attacked. */
export interface Workload {
  /** `namespace/name`. */
  id: string;
  name: string;
  namespace: string;
  kind: string;
  podLabels: Record<string, string>;
  ports: WorkloadPort[];
  /** Pods on the host network are outside NetworkPolicy. */
  hostNetwork: boolean;
  /** The rendered object, when the workload is rendered. */
  source?: SourcedObject | undefined;
}

/**
 * CloudNativePG makes the pods of a `Cluster` itself: these are the labels and ports its
 * instance pods carry (cnpg.io/cluster, PostgreSQL 5432, metrics 9187, status 8000).
 */
function cnpgWorkload(src: SourcedObject, namespace: string): Workload {
  const name = src.obj.metadata?.name ?? '?';
  return {
    id: `${namespace}/${name}`,
    name,
    namespace,
    kind: 'Cluster',
    podLabels: { 'cnpg.io/cluster': name, 'cnpg.io/podRole': 'instance' },
    ports: [
      { name: 'postgresql', port: 5432, protocol: 'TCP' },
      { name: 'metrics', port: 9187, protocol: 'TCP' },
      { name: 'status', port: 8000, protocol: 'TCP' },
    ],
    hostNetwork: false,
    source: src,
  };
}

function external(w: ExternalWorkload, kind: string): Workload {
  return {
    id: `${w.namespace}/${w.name}`,
    name: w.name,
    namespace: w.namespace,
    kind,
    podLabels: w.podLabels,
    ports: w.ports,
    hostNetwork: w.hostNetwork === true,
  };
}

export interface Cluster {
  objects: SourcedObject[];
  facts: PlatformFacts;
  /** Namespace name → its labels (with the automatic `kubernetes.io/metadata.name`). */
  namespaces: Map<string, { labels: Record<string, string>; source?: SourcedObject | undefined }>;
  workloads: Workload[];
}

/** Builds the cluster view of a set of objects and the platform facts. */
export function buildCluster(objects: SourcedObject[], facts: PlatformFacts): Cluster {
  const namespaces: Cluster['namespaces'] = new Map();
  for (const src of objects) {
    if (src.obj.kind === 'Namespace' && src.obj.apiVersion === 'v1' && src.obj.metadata?.name) {
      const name = src.obj.metadata.name;
      namespaces.set(name, {
        labels: { ...(src.obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name },
        source: src,
      });
    }
  }
  const workloads: Workload[] = [];
  for (const src of objects) {
    const ns = namespaceOf(src.obj);
    if (ns === undefined) continue;
    if (src.obj.kind === 'Cluster' && apiGroup(src.obj.apiVersion) === 'postgresql.cnpg.io') {
      workloads.push(cnpgWorkload(src, ns));
      continue;
    }
    const pod = podOf(src.obj);
    // A Pod owned by a workload kind would be counted twice; rendered manifests hold no such pods.
    if (!pod) continue;
    const ports: WorkloadPort[] = [];
    for (const list of [pod.spec.containers, pod.spec.initContainers]) {
      for (const c of list ?? []) {
        for (const p of c.ports ?? []) {
          if (typeof p.containerPort === 'number') {
            ports.push({ name: p.name, port: p.containerPort, protocol: p.protocol ?? 'TCP' });
          }
        }
      }
    }
    const name = src.obj.metadata?.name ?? '?';
    workloads.push({
      id: `${ns}/${name}`,
      name,
      namespace: ns,
      kind: src.obj.kind ?? '?',
      podLabels: pod.labels,
      ports,
      hostNetwork: pod.spec.hostNetwork === true,
      source: src,
    });
  }
  // Rendered objects win over the model's description of the same workload.
  const rendered = new Set(workloads.map((w) => w.id));
  for (const component of facts.components) {
    for (const w of component.workloads ?? []) {
      if (!rendered.has(`${w.namespace}/${w.name}`)) workloads.push(external(w, 'chart'));
    }
  }
  for (const w of facts.builtinWorkloads ?? []) workloads.push(external(w, 'builtin'));
  // Namespaces that hold workloads but are not rendered (kube-system) still exist and carry
  // the automatic name label that namespaceSelectors use.
  for (const w of workloads) {
    if (!namespaces.has(w.namespace)) {
      namespaces.set(w.namespace, { labels: { 'kubernetes.io/metadata.name': w.namespace } });
    }
  }
  return { objects, facts, namespaces, workloads };
}
