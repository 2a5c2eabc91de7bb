/**
 * Small local types for the custom resources that have no `@kubernetes-models` package
 * (Vault Secrets Operator, CloudNativePG, MetalLB, Kyverno, Chaos Mesh, Gatekeeper). Each
 * constructor fixes apiVersion/kind; `strict.ts` checks at render time that the spec holds only
 * the fields listed here, since a misspelt field would otherwise be silently ignored by the cluster.
 */
import type { KubeObject, ObjectMeta } from './types.ts';

/** Allowed top-level spec fields per custom kind (`<apiVersion>/<kind>`). */
export const specFields: Record<string, readonly string[]> = {
  'secrets.hashicorp.com/v1beta1/VaultConnection': [
    'address',
    'skipTLSVerify',
    'timeout',
    'headers',
    'caCertSecretRef',
  ],
  'secrets.hashicorp.com/v1beta1/VaultAuth': [
    'vaultConnectionRef',
    'method',
    'mount',
    'kubernetes',
    'allowedNamespaces',
  ],
  'secrets.hashicorp.com/v1beta1/VaultStaticSecret': [
    'vaultAuthRef',
    'mount',
    'type',
    'path',
    'version',
    'refreshAfter',
    'hmacSecretData',
    'rolloutRestartTargets',
    'destination',
  ],
  'postgresql.cnpg.io/v1/Cluster': [
    'instances',
    'imageName',
    'primaryUpdateStrategy',
    'postgresql',
    'bootstrap',
    'storage',
    'resources',
    'monitoring',
    'affinity',
    'enableSuperuserAccess',
    'inheritedMetadata',
    'minSyncReplicas',
    'maxSyncReplicas',
    'imagePullPolicy',
  ],
  'metallb.io/v1beta1/IPAddressPool': ['addresses', 'autoAssign', 'avoidBuggyIPs'],
  'metallb.io/v1beta1/L2Advertisement': ['ipAddressPools', 'interfaces', 'nodeSelectors'],
  'kyverno.io/v1/ClusterPolicy': [
    'validationFailureAction',
    'background',
    'webhookTimeoutSeconds',
    'failurePolicy',
    'rules',
  ],
  'chaos-mesh.org/v1alpha1/PodChaos': ['action', 'mode', 'value', 'selector', 'duration', 'gracePeriod'],
  'chaos-mesh.org/v1alpha1/NetworkChaos': [
    'action',
    'mode',
    'value',
    'selector',
    'duration',
    'delay',
    'direction',
    'target',
    'externalTargets',
  ],
};

type Spec = Record<string, unknown>;

function custom(apiVersion: string, kind: string, metadata: ObjectMeta, spec: Spec): KubeObject {
  return { apiVersion, kind, metadata, spec };
}

/** VSO: how to reach Vault. */
export function vaultConnection(metadata: ObjectMeta, spec: { address: string; skipTLSVerify?: boolean }): KubeObject {
  return custom('secrets.hashicorp.com/v1beta1', 'VaultConnection', metadata, spec);
}

/** VSO: Kubernetes auth of a namespace's service account against a Vault role. */
export function vaultAuth(
  metadata: ObjectMeta,
  spec: {
    vaultConnectionRef: string;
    method: 'kubernetes';
    mount: string;
    kubernetes: { role: string; serviceAccount: string; audiences?: string[] };
  },
): KubeObject {
  return custom('secrets.hashicorp.com/v1beta1', 'VaultAuth', metadata, spec);
}

/** VSO: a KV v2 secret synced into a Kubernetes Secret. */
export function vaultStaticSecret(
  metadata: ObjectMeta,
  spec: {
    vaultAuthRef: string;
    mount: string;
    type: 'kv-v2';
    path: string;
    refreshAfter: string;
    rolloutRestartTargets?: Array<{ kind: string; name: string }>;
    destination: {
      name: string;
      create: boolean;
      type?: string;
      labels?: Record<string, string>;
      transformation?: { excludeRaw?: boolean; excludes?: string[]; templates?: Record<string, { text: string }> };
    };
  },
): KubeObject {
  return custom('secrets.hashicorp.com/v1beta1', 'VaultStaticSecret', metadata, spec);
}

/** CloudNativePG PostgreSQL cluster. */
export function cnpgCluster(metadata: ObjectMeta, spec: Spec & { instances: number; imageName: string }): KubeObject {
  return custom('postgresql.cnpg.io/v1', 'Cluster', metadata, spec);
}

/** MetalLB address pool. */
export function ipAddressPool(metadata: ObjectMeta, spec: { addresses: string[]; autoAssign?: boolean }): KubeObject {
  return custom('metallb.io/v1beta1', 'IPAddressPool', metadata, spec);
}

/** MetalLB layer-2 announcement of pools. */
export function l2Advertisement(metadata: ObjectMeta, spec: { ipAddressPools: string[] }): KubeObject {
  return custom('metallb.io/v1beta1', 'L2Advertisement', metadata, spec);
}

/** Kyverno cluster-wide policy. */
export function kyvernoClusterPolicy(
  metadata: ObjectMeta,
  spec: {
    validationFailureAction?: 'Enforce' | 'Audit';
    background: boolean;
    webhookTimeoutSeconds: number;
    rules: Spec[];
  },
): KubeObject {
  return custom('kyverno.io/v1', 'ClusterPolicy', metadata, spec);
}

/** Chaos Mesh selector: namespaces + labels (where the target pods really run). */
export interface ChaosSelector {
  namespaces: string[];
  labelSelectors: Record<string, string>;
}

/** Chaos Mesh pod fault. */
export function podChaos(
  metadata: ObjectMeta,
  spec: {
    action: 'pod-kill' | 'pod-failure';
    mode: 'one' | 'all' | 'fixed' | 'fixed-percent';
    value?: string;
    selector: ChaosSelector;
    duration?: string;
  },
): KubeObject {
  return custom('chaos-mesh.org/v1alpha1', 'PodChaos', metadata, spec);
}

/** Chaos Mesh network fault. */
export function networkChaos(
  metadata: ObjectMeta,
  spec: {
    action: 'delay';
    mode: 'one' | 'all' | 'fixed' | 'fixed-percent';
    selector: ChaosSelector;
    duration: string;
    delay: { latency: string; jitter?: string; correlation?: string };
    direction: 'to' | 'from' | 'both';
  },
): KubeObject {
  return custom('chaos-mesh.org/v1alpha1', 'NetworkChaos', metadata, spec);
}
