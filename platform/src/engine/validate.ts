/**
 * Validation of every rendered object: the `kubernetes-models` schema of its kind (types and
 * required fields), plus lumen's own strictness where those schemas are lax — they accept unknown
 * fields (measured on these machines), and a misspelt field is silently dropped by the API server.
 */

import * as argoCd from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1';
import * as rollouts from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1';
import * as cmV1 from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import * as monitoring from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as traefik from '@kubernetes-models/traefik/traefik.io/v1alpha1';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as core from 'kubernetes-models/v1';
import { specFields } from './crd-types.ts';
import { PlatformError, PlatformErrorCode } from './errors.ts';
import type { KubeObject } from './types.ts';

interface ModelClass {
  apiVersion: string;
  kind: string;
  new (data: unknown): { validate(): void };
}

const models = new Map<string, ModelClass>();
for (const mod of [core, apps, autoscaling, networking, policy, rbac, cmV1, argoCd, rollouts, monitoring, traefik]) {
  for (const value of Object.values(mod as Record<string, unknown>)) {
    const m = value as Partial<ModelClass>;
    if (typeof value === 'function' && typeof m.apiVersion === 'string' && typeof m.kind === 'string')
      models.set(`${m.apiVersion}/${m.kind}`, value as ModelClass);
  }
}

/** Top-level fields an object of any kind may carry. */
const topLevel = new Set([
  'apiVersion',
  'kind',
  'metadata',
  'spec',
  'data',
  'stringData',
  'type',
  'rules',
  'roleRef',
  'subjects',
  'immutable',
  'automountServiceAccountToken',
]);

/**
 * Schema messages that are wrong for the versions lumen deploys: the model packages lag the CRDs.
 * Each entry names the model message it forgives and why.
 */
const modelLags: Array<{ kind: string; message: string; why: string }> = [
  {
    kind: 'ClusterIssuer',
    message: 'data/spec/vault/auth/kubernetes must have required property secretRef',
    // @kubernetes-models/cert-manager 4.4 predates serviceAccountRef (cert-manager ≥ 1.12), which replaces the
    // long-lived token Secret that secretRef would need.
    why: 'serviceAccountRef',
  },
];
const metadataFields = new Set(['name', 'namespace', 'labels', 'annotations', 'finalizers']);

/** Fields of a container lumen may write (a subset of core/v1 Container: what lumen uses). */
const containerFields = new Set([
  'name',
  'image',
  'imagePullPolicy',
  'command',
  'args',
  'env',
  'envFrom',
  'ports',
  'resources',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
  'securityContext',
  'volumeMounts',
  'workingDir',
]);
const podSpecFields = new Set([
  'containers',
  'initContainers',
  'volumes',
  'securityContext',
  'serviceAccountName',
  'automountServiceAccountToken',
  'terminationGracePeriodSeconds',
  'affinity',
  'topologySpreadConstraints',
  'enableServiceLinks',
  'priorityClassName',
]);

function unknownKeys(value: unknown, allowed: Set<string> | readonly string[]): string[] {
  if (value === null || typeof value !== 'object') return [];
  const set = allowed instanceof Set ? allowed : new Set(allowed);
  return Object.keys(value).filter((k) => !set.has(k));
}

function podSpecOf(obj: KubeObject): Record<string, unknown> | undefined {
  const spec = obj.spec as { template?: { spec?: Record<string, unknown> } } | undefined;
  return spec?.template?.spec;
}

/** Problems with one object, empty when it is valid. */
export function problemsOf(obj: KubeObject): string[] {
  const id = `${obj.apiVersion} ${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}`;
  const problems: string[] = [];
  const extra = unknownKeys(obj, topLevel);
  if (extra.length) problems.push(`${id}: unknown top-level fields ${extra.join(', ')}`);
  const meta = unknownKeys(obj.metadata, metadataFields);
  if (meta.length) problems.push(`${id}: unknown metadata fields ${meta.join(', ')}`);
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(obj.metadata?.name ?? '') || (obj.metadata?.name.length ?? 0) > 253)
    problems.push(`${id}: name is not a DNS subdomain`);

  const key = `${obj.apiVersion}/${obj.kind}`;
  const model = models.get(key);
  if (model) {
    try {
      new model(obj).validate();
    } catch (err) {
      const message = (err as Error).message;
      const remaining = message
        .split(', ')
        .filter((m) => !modelLags.some((l) => l.kind === obj.kind && m.trim() === l.message));
      if (remaining.length) problems.push(`${id}: ${remaining.join(', ')}`);
    }
  } else if (specFields[key]) {
    const bad = unknownKeys(obj.spec, specFields[key]);
    if (bad.length) problems.push(`${id}: unknown spec fields ${bad.join(', ')}`);
    if (typeof obj.spec !== 'object' || obj.spec === null) problems.push(`${id}: spec is required`);
  } else if (
    !obj.apiVersion.startsWith('templates.gatekeeper.sh/') &&
    !obj.apiVersion.startsWith('constraints.gatekeeper.sh/')
  ) {
    problems.push(`${id}: no schema known for ${key}`);
  }

  const podSpec = podSpecOf(obj);
  if (podSpec) {
    const bad = unknownKeys(podSpec, podSpecFields);
    if (bad.length) problems.push(`${id}: unknown pod spec fields ${bad.join(', ')}`);
    for (const list of ['containers', 'initContainers'] as const) {
      for (const c of (podSpec[list] as Array<Record<string, unknown>> | undefined) ?? []) {
        const badC = unknownKeys(c, containerFields);
        if (badC.length) problems.push(`${id}: container ${String(c.name)}: unknown fields ${badC.join(', ')}`);
      }
    }
  }
  return problems;
}

/**
 * Validates objects; throws one error listing every problem.
 *
 * @throws {PlatformError} `PLATFORM_INVALID_OBJECT`.
 */
export function validateObjects(objects: KubeObject[]): void {
  const problems = objects.flatMap(problemsOf);
  if (problems.length) throw new PlatformError(PlatformErrorCode.invalidObject, problems.join('; '));
}
