/**
 * The syntax the API server and the kubelet enforce on names, labels and image references, which
 * the OpenAPI schemas do not express: a chart that builds `app.kubernetes.io/version` from an image
 * tag holding `@sha256:…`, or appends `-rootless` after a digest, renders YAML that is refused at
 * apply time (labels) or at pull time (image). Rules from apimachinery's validation and the
 * distribution reference grammar.
 */
import { parseReference } from '@lumen/oci';
import { podOf } from './pod-spec.ts';
import type { K8sObject } from './types.ts';

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const qualifiedName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

function subdomainError(value: string): string | undefined {
  if (value.length > 253) return 'is longer than 253 characters';
  if (!dns1123Subdomain.test(value)) return 'is not a DNS-1123 subdomain (lower case a-z, 0-9, - and .)';
  return undefined;
}

/** Why a label or annotation key is invalid, or undefined. */
export function labelKeyError(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined) {
    const e = subdomainError(prefix);
    if (e) return `prefix ${e}`;
  }
  if (name.length === 0 || name.length > 63) return 'name must be 1 to 63 characters';
  if (!qualifiedName.test(name)) return 'name must be alphanumerics with -, _ or . inside';
  return undefined;
}

/** Why a label value is invalid, or undefined. */
export function labelValueError(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'is not a string';
  const problems: string[] = [];
  if (value.length > 63) problems.push('is longer than 63 characters');
  if (value !== '' && !qualifiedName.test(value)) problems.push('holds more than alphanumerics with -, _ or . inside');
  return problems.length > 0 ? problems.join(' and ') : undefined;
}

/** Why an image reference does not parse (the one reference grammar, `@lumen/oci`), or undefined. */
export function imageReferenceError(ref: string): string | undefined {
  const at = ref.indexOf('@');
  const trailing = at < 0 ? '' : ref.slice(at + 1).replace(/^[a-z0-9]+:[0-9a-fA-F]*/, '');
  if (trailing !== '') return `has text after its digest (${trailing})`;
  try {
    parseReference(ref);
    return undefined;
  } catch (err) {
    return `is not a valid image reference: ${(err as Error).message.replace(/^invalid image reference '[^']*': /, '')}`;
  }
}

/** Names of kinds that must be DNS-1123 labels (Namespace) or DNS-1035 labels (Service). */
const labelNamed: Record<string, RegExp> = { Namespace: dns1123Label, Service: dns1035Label };
/** Kinds whose names are DNS-1123 subdomains (RBAC kinds allow more, so only these are checked). */
const subdomainNamed = new Set([
  'ConfigMap',
  'Secret',
  'ServiceAccount',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'CronJob',
  'Pod',
  'PersistentVolumeClaim',
  'Ingress',
  'NetworkPolicy',
  'PodDisruptionBudget',
  'HorizontalPodAutoscaler',
]);

function labelMapErrors(labels: unknown, at: string, out: string[]): void {
  if (labels === null || typeof labels !== 'object') return;
  for (const [key, value] of Object.entries(labels as Record<string, unknown>)) {
    const k = labelKeyError(key);
    if (k) out.push(`${at} key ${JSON.stringify(key)}: ${k}`);
    const v = labelValueError(value);
    if (v) out.push(`${at}[${key}] value ${JSON.stringify(value)} ${v}`);
  }
}

/** Every syntax error of an object's name, labels and selectors, as reasons (the API server refuses them). */
export function syntaxErrors(obj: K8sObject): string[] {
  const out: string[] = [];
  const name = obj.metadata?.name;
  if (typeof name === 'string') {
    const label = labelNamed[obj.kind ?? ''];
    if (label && (name.length > 63 || !label.test(name)))
      out.push(`metadata.name ${JSON.stringify(name)} is not a DNS-${label === dns1035Label ? '1035' : '1123'} label`);
    if (subdomainNamed.has(obj.kind ?? '')) {
      const e = subdomainError(name);
      if (e) out.push(`metadata.name ${JSON.stringify(name)} ${e}`);
    }
  }
  labelMapErrors(obj.metadata?.labels, 'metadata.labels', out);
  for (const key of Object.keys(obj.metadata?.annotations ?? {})) {
    const k = labelKeyError(key);
    if (k) out.push(`metadata.annotations key ${JSON.stringify(key)}: ${k}`);
  }
  const spec = obj.spec as
    | { selector?: { matchLabels?: unknown } | Record<string, unknown>; template?: { metadata?: { labels?: unknown } } }
    | undefined;
  if (obj.kind === 'Service') labelMapErrors(spec?.selector, 'spec.selector', out);
  else
    labelMapErrors(
      (spec?.selector as { matchLabels?: unknown } | undefined)?.matchLabels,
      'spec.selector.matchLabels',
      out,
    );
  const pod = podOf(obj);
  if (pod && obj.kind !== 'Pod') labelMapErrors(pod.labels, 'pod template labels', out);
  return out;
}

/** Every image reference of an object's pod spec that the kubelet could not pull, as reasons. */
export function imageSyntaxErrors(obj: K8sObject): string[] {
  const out: string[] = [];
  const pod = podOf(obj);
  for (const list of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    for (const c of pod?.spec[list] ?? []) {
      if (typeof c.image !== 'string') continue;
      const e = imageReferenceError(c.image);
      if (e) out.push(`${list}[${c.name ?? '?'}] image ${c.image} ${e}`);
    }
  }
  return out;
}
