/**
 * Where the kubernetes-models validators come from: `import()` of `<package>/<apiVersion>/<Kind>` from
 * node_modules. The single executable has no node_modules: its build (scripts/build-cli.ts) replaces this module
 * with a table of every model module of the packages below, bundled, behind the same function.
 */

/** The packages whose models the schema proof loads (rules/schema.ts maps API groups to them). */
export const MODEL_PACKAGES = [
  'kubernetes-models',
  '@kubernetes-models/argo-rollouts',
  '@kubernetes-models/argo-cd',
  '@kubernetes-models/prometheus-operator',
  '@kubernetes-models/cert-manager',
  '@kubernetes-models/traefik',
] as const;

/** Loads one model module; rejects when there is none. */
export function importModel(specifier: string): Promise<Record<string, unknown>> {
  return import(specifier);
}
