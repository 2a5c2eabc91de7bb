/**
 * Objects to YAML, deterministically: keys sorted at every level, no timestamps, one trailing
 * newline — two renders of the same inputs are byte-identical, so `git diff deploy/` shows only
 * real changes and CI can compare deploy/ with a fresh render.
 */
import { stringify } from 'yaml';
import type { KubeObject } from './types.ts';

/** A typed model instance (or any object) as plain JSON data, dropping undefined fields. */
export function plain(model: unknown): KubeObject {
  return JSON.parse(JSON.stringify(model)) as KubeObject;
}

/** Recursively sorts object keys (arrays keep their order: it is meaningful). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** YAML of one or more documents, keys sorted. */
export function toYaml(docs: unknown[]): string {
  return docs.map((d) => stringify(sortKeys(d), { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

/** JSON with sorted keys and two-space indent (for dashboards embedded in ConfigMaps). */
export function toJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}
