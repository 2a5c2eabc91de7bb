/**
 * The platform as data, for `lumen check`: components with namespace, Pod Security level, wave,
 * CRDs provided/used, the pods their charts create (labels and ports, which no offline tool can
 * render) and the flows the NetworkPolicies were generated from.
 */
import type { Inventory } from '@lumen/inventory';
import { type RenderOptions, render } from './render.ts';
import type { Flow, PodSecurityLevel, Workload } from './types.ts';

export interface ModelComponent {
  name: string;
  namespace: string;
  podSecurity: PodSecurityLevel;
  wave: number;
  ownsNamespace: boolean;
  providesCrds: string[];
  /** Pod label keys set at run time by a controller (see Component.runtimePodLabels). */
  runtimePodLabels: string[];
  /** Services created at run time by a controller (see Component.runtimeServices). */
  runtimeServices: Array<{ name: string; namespace: string; labels: Record<string, string> }>;
  usesCrds: string[];
  /** Pods created by the component's Helm chart or an operator (not present in deploy/ as objects). */
  chartWorkloads: Workload[];
  /** Every workload, lumen's own included. */
  workloads: Workload[];
  flows: Flow[];
  images: string[];
  helmChart?: string;
}

export interface PlatformModel {
  components: ModelComponent[];
}

/** The platform model of an inventory (renders in memory; writes nothing). */
export function platformModel(inv: Inventory, options: RenderOptions = {}): PlatformModel {
  return {
    components: render(inv, options).components.map((c) => ({
      name: c.name,
      namespace: c.namespace,
      podSecurity: c.podSecurity,
      wave: c.wave,
      ownsNamespace: c.ownsNamespace,
      providesCrds: c.providesCrds,
      runtimePodLabels: c.runtimePodLabels ?? [],
      runtimeServices: c.runtimeServices ?? [],
      usesCrds: c.usesCrds,
      chartWorkloads: c.workloads.filter((w) => w.source !== 'lumen'),
      workloads: c.workloads,
      flows: c.flows,
      images: c.images,
      ...(c.helm ? { helmChart: c.helm.chart } : {}),
    })),
  };
}
