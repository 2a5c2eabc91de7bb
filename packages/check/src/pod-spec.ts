/**
 * Where the pod spec lives in each kind that makes pods. Every rule on pods (admission,
 * Pod Security, images, network) reads pods through here, so adding a kind covers them all —
 * the public implementation forgot Rollouts, init and ephemeral containers.
 */
import type { K8sObject } from './types.ts';

/** Kinds whose objects carry a pod spec, with the path to it. */
export const podSpecPaths: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  Rollout: ['spec', 'template', 'spec'],
};

export interface Container {
  name?: string;
  image?: string;
  ports?: Array<{ name?: string; containerPort?: number; protocol?: string; hostPort?: number }>;
  env?: Array<{ name?: string; value?: unknown; valueFrom?: unknown }>;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Array<Record<string, unknown>>;
  securityContext?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Which list a container came from, for messages. */
export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';

export interface PodView {
  spec: PodSpec;
  /** Labels the pods will carry (the template's, or the Pod's own). */
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

function dig(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** The pod spec and pod labels of an object, or undefined for kinds that make no pods. */
export function podOf(obj: K8sObject): PodView | undefined {
  const path = typeof obj.kind === 'string' ? podSpecPaths[obj.kind] : undefined;
  if (!path) return undefined;
  const spec = dig(obj, path);
  if (spec === null || typeof spec !== 'object') return undefined;
  const metaPath = obj.kind === 'Pod' ? ['metadata'] : [...path.slice(0, -1), 'metadata'];
  const meta = (dig(obj, metaPath) ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string> };
  return { spec: spec as PodSpec, labels: meta.labels ?? {}, annotations: meta.annotations ?? {} };
}

/** Every container of a pod spec with the list it belongs to. */
export function allContainers(spec: PodSpec): Array<{ list: ContainerList; container: Container }> {
  const out: Array<{ list: ContainerList; container: Container }> = [];
  for (const list of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    const items = spec[list];
    if (Array.isArray(items)) for (const container of items) out.push({ list, container });
  }
  return out;
}
