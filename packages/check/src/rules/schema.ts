/**
 * Schema proof: every object validates against its kind's OpenAPI schema — kubernetes-models
 * for Kubernetes and the CRDs that have a models package, local schemas (local-schemas.ts)
 * for the others. Those validators ignore unknown fields, so known-fields.ts adds the check
 * that a misspelt field in lumen's own objects is an error.
 */
import { kubernetesModelGroups } from '../api-groups.ts';
import { unknownFields } from '../known-fields.ts';
import { localSchemas, validateLocal } from '../local-schemas.ts';
import { apiGroup, objectId, servedCrdVersions } from '../manifests.ts';
import { importModel } from '../models.ts';
import { imageSyntaxErrors, syntaxErrors } from '../syntax.ts';
import type { K8sObject, SourcedObject, Violation } from '../types.ts';

/** Which models package serves which API group (core groups are in kubernetes-models). */
const modelPackages: Record<string, string[]> = {
  'argoproj.io': ['@kubernetes-models/argo-rollouts', '@kubernetes-models/argo-cd'],
  'monitoring.coreos.com': ['@kubernetes-models/prometheus-operator'],
  'cert-manager.io': ['@kubernetes-models/cert-manager'],
  'acme.cert-manager.io': ['@kubernetes-models/cert-manager'],
  'traefik.io': ['@kubernetes-models/traefik'],
  'traefik.containo.us': ['@kubernetes-models/traefik'],
};

type Validate = (obj: K8sObject) => string[];

/** A kind's validator: model module specifier (for known-fields) and the check itself. */
export interface KindSchema {
  validate: Validate;
  /** The kubernetes-models module of the kind, when it has one. */
  module?: string;
}

const cache = new Map<string, KindSchema | null>();

/**
 * Schema violations the API server does not judge (image-reference syntax: the kubelet refuses
 * it at pull time; duplicate objects): kept when the server stage replaces the offline verdicts.
 */
export const beyondServer = new WeakSet<Violation>();

function key(obj: K8sObject): string {
  return `${obj.apiVersion}/${obj.kind}`;
}

async function loadModel(specifier: string, kind: string): Promise<KindSchema | null> {
  try {
    const mod = (await importModel(specifier)) as Record<string, new (data: unknown) => { validate(): void }>;
    const Model = mod[kind];
    if (!Model) return null;
    return {
      module: specifier,
      validate: (obj) => {
        try {
          new Model(obj).validate();
          return [];
        } catch (err) {
          return [(err as Error).message.replaceAll('data/', '.').replaceAll('data ', '. ')];
        }
      },
    };
  } catch {
    return null;
  }
}

/** Finds (and caches) the schema of an object's kind; null when none is known. */
async function resolve(obj: K8sObject): Promise<KindSchema | null> {
  const k = key(obj);
  if (cache.has(k)) return cache.get(k) ?? null;
  const group = apiGroup(obj.apiVersion);
  const kind = obj.kind ?? '';
  let found: KindSchema | null = null;
  const local =
    localSchemas[k] ?? (group === 'constraints.gatekeeper.sh' ? localSchemas[`${obj.apiVersion}/*`] : undefined);
  if (local) {
    found = { validate: (o) => validateLocal(local, o) };
  } else if (/^[A-Za-z0-9]+$/.test(kind) && typeof obj.apiVersion === 'string') {
    const packages = kubernetesModelGroups.has(group) ? ['kubernetes-models'] : (modelPackages[group] ?? []);
    for (const pkg of packages) {
      found = await loadModel(`${pkg}/${obj.apiVersion}/${kind}`, kind);
      if (found) break;
    }
  }
  cache.set(k, found);
  return found;
}

/** Loads the validators of every kind present; must run before {@link checkSchema}. */
export async function prepareSchemas(objects: readonly SourcedObject[]): Promise<void> {
  const kinds = new Map<string, K8sObject>();
  for (const src of objects) if (!kinds.has(key(src.obj))) kinds.set(key(src.obj), src.obj);
  await Promise.all([...kinds.values()].map((obj) => resolve(obj)));
}

/**
 * Validates every object; {@link prepareSchemas} must have run on the same objects. A custom
 * resource of a CRD rendered from a chart has no schema here: its CRD is among the objects, and
 * the kind is known to exist (the schema inside the CRD is the API server's to apply).
 */
export function checkSchema(objects: readonly SourcedObject[]): Violation[] {
  const out: Violation[] = [];
  const rendered = new Set(servedCrdVersions(objects).map((c) => `${c.group}/${c.version}/${c.kind}`));
  for (const src of objects) {
    const { obj } = src;
    const id = { file: src.file, ...objectId(obj), rule: 'schema' as const };
    if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') {
      out.push({ ...id, reason: 'apiVersion and kind are required' });
      continue;
    }
    if (typeof obj.metadata?.name !== 'string' || obj.metadata.name === '') {
      out.push({ ...id, reason: 'metadata.name is required' });
      continue;
    }
    for (const reason of syntaxErrors(obj)) out.push({ ...id, reason });
    for (const reason of imageSyntaxErrors(obj)) {
      const v = { ...id, reason };
      beyondServer.add(v);
      out.push(v);
    }
    const schema = cache.get(key(obj));
    if (!schema) {
      if (!rendered.has(key(obj))) out.push({ ...id, reason: `no schema is known for ${obj.apiVersion} ${obj.kind}` });
      continue;
    }
    for (const reason of schema.validate(obj)) out.push({ ...id, reason });
    // Misspelt fields are lumen's own mistakes; a chart's fields are the chart's (and newer than the models).
    if (schema.module && !src.chart)
      for (const reason of unknownFields(schema.module, obj)) out.push({ ...id, reason });
  }
  return out;
}
