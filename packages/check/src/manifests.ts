/**
 * Reading manifests: files or folders of multi-document YAML, in a stable order, each object
 * remembering its file so that every violation can point at it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CheckError, CheckErrorCode } from './errors.ts';
import type { K8sObject, SourcedObject } from './types.ts';

const manifestFile = /\.(ya?ml|json)$/;

/** Every manifest file under `path` (itself when it is a file), sorted for stable output. */
export function manifestFiles(path: string): string[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch (err) {
    throw new CheckError(CheckErrorCode.unreadable, `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!stat.isDirectory()) return [path];
  const files: string[] = [];
  for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) files.push(...manifestFiles(full));
    else if (manifestFile.test(entry.name)) files.push(full);
  }
  return files;
}

/** Parses one file's text into Kubernetes objects; `List` kinds are flattened. */
export function parseManifests(text: string, file: string, underTest: boolean): SourcedObject[] {
  const out: SourcedObject[] = [];
  const docs = parseAllDocuments(text);
  // parseAllDocuments returns an EmptyStream (not an array) for an empty file.
  if (!Array.isArray(docs)) return out;
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      throw new CheckError(CheckErrorCode.badManifest, `${file}: document ${index + 1}: ${doc.errors[0]?.message}`);
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new CheckError(CheckErrorCode.badManifest, `${file}: document ${index + 1} is not a Kubernetes object`);
    }
    const obj = value as K8sObject;
    if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
      for (const item of obj.items as K8sObject[]) out.push({ file, index, obj: item, underTest });
    } else {
      out.push({ file, index, obj, underTest });
    }
  });
  return out;
}

/**
 * Loads every object under the given paths. File names in the result are relative to `cwd`
 * when they lie below it, so output reads `deploy/lumen/rollout.yaml: …`.
 */
export function loadManifests(paths: readonly string[], underTest: boolean, cwd = process.cwd()): SourcedObject[] {
  const out: SourcedObject[] = [];
  for (const path of paths) {
    for (const file of manifestFiles(path)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new CheckError(CheckErrorCode.unreadable, `cannot read ${file}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      const shown = relative(cwd, file);
      out.push(...parseManifests(text, shown.startsWith('..') ? file : shown, underTest));
    }
  }
  return out;
}

/** `kind/namespace/name` parts of an object for messages; cluster-scoped objects show `-`. */
export function objectId(obj: K8sObject): { kind: string; namespace: string; name: string } {
  return {
    kind: typeof obj.kind === 'string' ? obj.kind : '?',
    namespace: typeof obj.metadata?.namespace === 'string' ? obj.metadata.namespace : '-',
    name: typeof obj.metadata?.name === 'string' ? obj.metadata.name : '?',
  };
}

/** The API group of an apiVersion (`''` for core). */
export function apiGroup(apiVersion: string | undefined): string {
  if (!apiVersion) return '';
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** Group, served version and kind of every version the CRDs among `objects` serve. */
export function servedCrdVersions(
  objects: readonly SourcedObject[],
): Array<{ group: string; version: string; kind: string }> {
  const out: Array<{ group: string; version: string; kind: string }> = [];
  for (const { obj } of objects) {
    if (obj.kind !== 'CustomResourceDefinition') continue;
    const spec = (obj.spec ?? {}) as {
      group?: string;
      names?: { kind?: string };
      versions?: Array<{ name?: string; served?: boolean }>;
    };
    for (const v of spec.versions ?? []) {
      if (!spec.group || !v.name || !spec.names?.kind || v.served === false) continue;
      out.push({ group: spec.group, version: v.name, kind: spec.names.kind });
    }
  }
  return out;
}

/**
 * The object as the API server hands it to an admission webhook: fields written as `null` are gone. The server
 * decodes a manifest into typed structs, so `initContainers: null` (a chart template that always writes the key,
 * falco 9.x's with no init container) becomes an absent list; Gatekeeper never sees the null. gator reads the YAML
 * as it is, and its CEL cannot concatenate a null to a list (`no such overload`): it would deny a pod that a real
 * cluster admits.
 */
export function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutNulls) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== null) out[k] = withoutNulls(v);
  return out as T;
}
