/** A Kubernetes object as parsed from YAML: only the envelope is typed, the rest is checked by the rules. */
export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** One parsed document with where it came from. */
export interface SourcedObject {
  /** File the object was read from, as given or relative to the checked root. */
  file: string;
  /** Zero-based position of the document in its file. */
  index: number;
  obj: K8sObject;
  /** True for objects of the manifests under test in an admission dry run (false for the platform base). */
  underTest: boolean;
  /** Component whose chart rendered the object (chart stage only). */
  component?: string | undefined;
  /** `chart@version` that rendered the object (chart stage only). */
  chart?: string | undefined;
}

/** The rules `lumen check` proves; each violation names exactly one. */
export type RuleId =
  | 'schema'
  | `admission/${string}`
  | 'pod-security'
  | 'network'
  | 'selector'
  | 'sync-wave'
  | 'plaintext-secret'
  | 'image-pinned'
  | 'chart'
  | 'scheduling';

/** One broken rule: printed as `file: kind/namespace/name: rule: reason`. */
export interface Violation {
  file: string;
  kind: string;
  namespace: string;
  name: string;
  rule: RuleId;
  reason: string;
}

/** The slice of the inventory (`@lumen/inventory`) the checks read. */
export interface InventoryView {
  site: {
    registry: string;
    /** Cluster nodes; the scheduling proof places replicas on them (absent = not proven). */
    nodes?: ReadonlyArray<{ name: string; role: string; labels?: Record<string, string> | undefined }> | undefined;
  };
  images: ReadonlyArray<{
    name: string;
    /** Upstream repository with host; absent for images built by lumen's CI. */
    source?: string | undefined;
    tag: string;
    digest?: string | undefined;
    /** Path in the airgap registry; derived from `source` when absent. */
    airgapPath?: string | undefined;
  }>;
  /** Helm charts (name in the chart repository and exact version); absent = charts not checked. */
  charts?: ReadonlyArray<{ chart: string; version: string }> | undefined;
  /** Files carried across the gap; the K3s binary's version is the cluster's Kubernetes version. */
  files?: ReadonlyArray<{ name: string; version: string }> | undefined;
}

/** A port a workload listens on. Protocol defaults to TCP, as in Kubernetes. */
export interface WorkloadPort {
  name?: string | undefined;
  port: number;
  protocol: string;
}

/**
 * A workload whose pods are not rendered in deploy/ (Helm charts, operators, K3s built-ins):
 * the platform model states its pod labels and ports so selectors and network rules can see it.
 */
export interface ExternalWorkload {
  name: string;
  namespace: string;
  podLabels: Record<string, string>;
  ports: WorkloadPort[];
  /** Pods on the host network are outside NetworkPolicy. */
  hostNetwork?: boolean | undefined;
  /**
   * Who makes the pods: the component's Helm chart (replaced by the rendered chart when the chart
   * stage runs) or an operator at run time (never rendered, always described). Default `chart`.
   */
  origin?: 'chart' | 'operator' | undefined;
}

/** A Service that exists without being rendered: its name, namespace and labels. */
export interface ServiceFact {
  name: string;
  namespace: string;
  labels: Record<string, string>;
}

/** One Argo CD component of the platform, as the platform model describes it. */
export interface ComponentFacts {
  name: string;
  namespace: string;
  /** Argo CD sync wave of the component's Application. */
  wave: number;
  /** Folder under deploy/ holding the component's rendered objects, when it has any. */
  path?: string | undefined;
  /** CRDs the component installs, as `group/Kind` (e.g. `argoproj.io/Rollout`). */
  providesCrds?: string[] | undefined;
  /** Services a controller of the component creates at run time (the Prometheus operator's kubelet Service). */
  runtimeServices?: ServiceFact[] | undefined;
  /** Pod label keys a controller sets at run time; Service selectors are proven without them. */
  runtimePodLabels?: string[] | undefined;
  /** Pods the component runs that deploy/ does not render (Helm chart workloads). */
  workloads?: ExternalWorkload[] | undefined;
}

/** What the checks need to know about the platform beyond the rendered objects. */
export interface PlatformFacts {
  components: ComponentFacts[];
  /** Workloads that exist in every K3s cluster (CoreDNS, …). */
  builtinWorkloads?: ExternalWorkload[] | undefined;
  /** Cluster pod CIDR; K3s defaults to 10.42.0.0/16. */
  podCidr?: string | undefined;
}

/**
 * The expected reachability matrix (the platform declares it; see docs/check.md). Endpoints are
 * workloads as `namespace/name` or names of {@link NetworkMatrix.externals}.
 */
export interface NetworkMatrix {
  /** Addresses outside the cluster, with the ports probed on them. */
  externals: Record<string, { ip: string; ports: Array<{ port: number; protocol?: string }> }>;
  /**
   * Workloads whose traffic is declared completely: every flow into or out of them that the
   * policies allow must be in `allow`, and every flow in `allow` must be allowed.
   */
  exact: string[];
  /** Flows that must be allowed (protocol defaults to TCP). */
  allow: Array<{ from: string; to: string; port: number; protocol?: string }>;
}
