/**
 * Which CRD each custom resource kind lumen renders belongs to. Sync waves are computed from
 * this: an object of kind K needs the CRD `crdOf(K)`, and so the component that provides it.
 * Objects of the core API groups need no CRD.
 */
import { PlatformError, PlatformErrorCode } from './errors.ts';
import type { KubeObject } from './types.ts';

/** API groups served by Kubernetes itself (no CRD needed). */
const coreGroups = new Set([
  '',
  'apps',
  'batch',
  'policy',
  'autoscaling',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
  'coordination.k8s.io',
]);

/** `<group>/<Kind>` → CRD name `<plural>.<group>`, for every custom kind lumen renders. */
const plurals: Record<string, string> = {
  'argoproj.io/Application': 'applications',
  'argoproj.io/AppProject': 'appprojects',
  'argoproj.io/Rollout': 'rollouts',
  'argoproj.io/AnalysisTemplate': 'analysistemplates',
  'cert-manager.io/Certificate': 'certificates',
  'cert-manager.io/ClusterIssuer': 'clusterissuers',
  'cert-manager.io/Issuer': 'issuers',
  'monitoring.coreos.com/ServiceMonitor': 'servicemonitors',
  'monitoring.coreos.com/PodMonitor': 'podmonitors',
  'monitoring.coreos.com/PrometheusRule': 'prometheusrules',
  'traefik.io/IngressRoute': 'ingressroutes',
  'traefik.io/Middleware': 'middlewares',
  'traefik.io/TraefikService': 'traefikservices',
  'traefik.io/ServersTransport': 'serverstransports',
  'traefik.io/TLSOption': 'tlsoptions',
  'metallb.io/IPAddressPool': 'ipaddresspools',
  'metallb.io/L2Advertisement': 'l2advertisements',
  'secrets.hashicorp.com/VaultConnection': 'vaultconnections',
  'secrets.hashicorp.com/VaultAuth': 'vaultauths',
  'secrets.hashicorp.com/VaultStaticSecret': 'vaultstaticsecrets',
  'postgresql.cnpg.io/Cluster': 'clusters',
  'kyverno.io/ClusterPolicy': 'clusterpolicies',
  'chaos-mesh.org/PodChaos': 'podchaos',
  'chaos-mesh.org/NetworkChaos': 'networkchaos',
  'templates.gatekeeper.sh/ConstraintTemplate': 'constrainttemplates',
};

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/**
 * The CRD an object needs, or undefined for core kinds. Gatekeeper constraints
 * (`constraints.gatekeeper.sh`) get their CRD from their ConstraintTemplate: plural = lowercase kind.
 *
 * @throws {PlatformError} `PLATFORM_CRD` for a custom kind missing from the table above.
 */
export function crdOf(obj: Pick<KubeObject, 'apiVersion' | 'kind'>): string | undefined {
  const group = groupOf(obj.apiVersion);
  if (coreGroups.has(group)) return undefined;
  if (group === 'constraints.gatekeeper.sh') return `${obj.kind.toLowerCase()}.${group}`;
  const plural = plurals[`${group}/${obj.kind}`];
  if (!plural)
    throw new PlatformError(
      PlatformErrorCode.crd,
      `no CRD known for ${obj.apiVersion} ${obj.kind} (add it to crds.ts)`,
    );
  return `${plural}.${group}`;
}

/** The CRDs a Gatekeeper ConstraintTemplate creates (`<lowercase kind>.constraints.gatekeeper.sh`). */
export function crdsOfConstraintTemplates(objects: KubeObject[]): string[] {
  return objects
    .filter((o) => o.kind === 'ConstraintTemplate')
    .map((o) => {
      const kind = (o.spec as { crd?: { spec?: { names?: { kind?: string } } } } | undefined)?.crd?.spec?.names?.kind;
      if (!kind) throw new PlatformError(PlatformErrorCode.crd, `ConstraintTemplate ${o.metadata.name} names no kind`);
      return `${kind.toLowerCase()}.constraints.gatekeeper.sh`;
    });
}
