/**
 * The data model of the platform: components, their workloads and the network flows between
 * them. Component modules (`components/<name>.ts`) build these; `render.ts` turns them into
 * Kubernetes objects and files; `model.ts` hands a summary to `lumen check`.
 */

/** Pod Security Standards level enforced on a namespace (`pod-security.kubernetes.io/enforce`). */
export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

/** Metadata every rendered object carries. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

/** Any Kubernetes object as plain JSON (what is written to deploy/). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** A port pods listen on. Protocol defaults to TCP. */
export interface PortSpec {
  port: number;
  protocol?: 'TCP' | 'UDP';
  /** Container port name, when the workload names it. */
  name?: string;
}

/** Kinds of pod-creating objects. */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Rollout' | 'Job' | 'CronJob' | 'Cluster';

/**
 * A set of pods: written by lumen (`source: 'lumen'`, the object is in `objects`), made by the
 * component's Helm chart (`source: 'chart'`: the description `lumen check` falls back on when it is
 * not given the charts to render; with them, the rendered chart replaces it), or made by an operator
 * at run time (`source: 'operator'`, e.g. Prometheus pods from the Prometheus operator: no render
 * shows them, so they are always described).
 */
export interface Workload {
  /** Name of the workload object (or of the chart's workload). */
  name: string;
  kind: WorkloadKind;
  source: 'lumen' | 'chart' | 'operator';
  /** Labels every pod of the workload carries; NetworkPolicies and chaos experiments select on these. */
  podLabels: Record<string, string>;
  /** Ports the pods listen on. */
  ports: PortSpec[];
  /** Pods on the host network are not isolated by NetworkPolicies; flows to them use node addresses. */
  hostNetwork?: boolean;
}

/**
 * Endpoints of a flow: `<component>/<workload>`, or one of the external peers:
 * `@kube-apiserver` (the K3s API server on the server nodes), `@nodes` (every node address: kubelet,
 * the API server calling webhooks, host-network pods), `@registry` (the airgap registry),
 * `@world` (anything: only ever a source, for the LoadBalancer entry points).
 */
export type Endpoint = string;

/** One allowed connection. Rendered as an egress rule at the source and an ingress rule at the target. */
export interface Flow {
  from: Endpoint;
  to: Endpoint;
  ports: PortSpec[];
  /** Why the platform needs this connection (rendered as an annotation). */
  why: string;
}

/** A Helm chart installed by a component's Argo CD Application. */
export interface HelmRelease {
  /** Chart name in the inventory (`charts.yaml`). */
  chart: string;
  /** Helm release name. Default: the component name. */
  releaseName?: string;
  /** Values, written in TypeScript; image references come from `ctx.image()`. */
  values: Record<string, unknown>;
  /**
   * Fields of the chart's objects Argo CD must not diff or sync (the Application has
   * RespectIgnoreDifferences): a value the chart makes up anew on every render, for example.
   */
  ignoreDifferences?: Array<{ group: string; kind: string; name: string; namespace?: string; jsonPointers: string[] }>;
}

/** One platform component = one Argo CD Application. */
export interface Component {
  /** Argo CD Application name and deploy/components/<name>/. */
  name: string;
  /** Namespace its pods run in (its Application's destination namespace). */
  namespace: string;
  /** Pod Security level of that namespace (components sharing a namespace must agree). */
  podSecurity: PodSecurityLevel;
  /** What in the seed architecture this component implements (one line, for docs and the model). */
  summary: string;
  helm?: HelmRelease;
  /** CRDs (`<plural>.<group>`) this component installs. */
  providesCrds: string[];
  /**
   * CRDs used by what the chart creates (invisible to lumen, since charts are not rendered here).
   * CRDs used by `objects` are computed from the objects themselves.
   */
  chartUsesCrds?: string[];
  /**
   * Pod label keys a controller sets on the component's pods at run time (Vault labels its active
   * server `vault-active: "true"`): no render shows them, so selectors on them are proven without them.
   */
  runtimePodLabels?: string[];
  /** Services a controller of the component creates at run time (ServiceMonitors may select them). */
  runtimeServices?: Array<{ name: string; namespace: string; labels: Record<string, string> }>;
  /** Objects lumen writes for this component (besides its Namespace and NetworkPolicies, which are generated). */
  objects: KubeObject[];
  /** Every set of pods the component runs. */
  workloads: Workload[];
  /** Connections the component needs (as client, or from external peers into it). */
  flows: Flow[];
  /** Inventory image names the component pulls (filled by the renderer from `ctx.image()` calls). */
  images?: string[];
  /**
   * Objects rendered to deploy/experiments/ and applied by hand (chaos experiments): synced by
   * Argo CD they would run on every sync.
   */
  experiments?: KubeObject[];
}
