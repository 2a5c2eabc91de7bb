/**
 * The expected reachability matrix of the platform, declared by hand and independently of the
 * flows the components declare (from which the NetworkPolicies are generated): `lumen check`
 * computes what the rendered policies allow and compares it with this, exactly, for the
 * workloads listed in `exact`. A policy that opens more — or less — than stated here fails.
 *
 * Seed, LAYER 3: lumen-api → redis:6379 ✓, lumen-api → cnpg:5432 ✓, traefik → lumen-api:8080 ✓,
 * prometheus → lumen-api:9090 ✓, lumen-api → 8.8.8.8 ✗. DESIGN known defects: any pod in any
 * namespace could reach the API; the database pods could open any outbound connection.
 */
import type { NetworkMatrix } from '@lumen/check';

/** The slice of the inventory the matrix needs: the site's addresses. */
export interface MatrixSite {
  site: { registry: string; nodes: ReadonlyArray<{ ip: string; role: string }> };
}

/** Workloads as `namespace/name` (the names `lumen check` sees in deploy/ and the platform model). */
export const workloads = {
  lumenApi: 'lumen/lumen-api',
  redis: 'lumen/redis',
  sentinel: 'lumen/redis-sentinel',
  traefik: 'traefik/traefik',
  prometheus: 'monitoring/prometheus',
  alloy: 'alloy/alloy',
  lumenDb: 'lumen-db/lumen-db',
  coredns: 'kube-system/coredns',
} as const;

/**
 * Pods K3s runs in every cluster (not rendered, not in the platform model): CoreDNS with the
 * upstream kube-dns labels.
 */
export const k3sBuiltinWorkloads = [
  {
    name: 'coredns',
    namespace: 'kube-system',
    podLabels: { 'k8s-app': 'kube-dns' },
    ports: [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      { name: 'metrics', port: 9153, protocol: 'TCP' },
    ],
  },
];

const dns = [
  { port: 53, protocol: 'UDP' },
  { port: 53, protocol: 'TCP' },
];

/** The matrix for a site (its registry and node addresses are external peers). */
export function networkMatrix(inv: MatrixSite): NetworkMatrix {
  const registryHost = inv.site.registry.replace(/:\d+$/, '');
  const registryPort = Number(/:(\d+)$/.exec(inv.site.registry)?.[1] ?? 443);
  const w = workloads;
  return {
    externals: {
      // A public resolver and web: the seed's "lumen-api → 8.8.8.8 ✗ (DROP)".
      internet: { ip: '8.8.8.8', ports: [...dns, { port: 443 }, { port: 80 }] },
      'airgap-registry': { ip: registryHost, ports: [{ port: registryPort }] },
    },
    exact: [w.lumenApi],
    allow: [
      { from: w.traefik, to: w.lumenApi, port: 8080 },
      { from: w.prometheus, to: w.lumenApi, port: 9090 },
      { from: w.lumenApi, to: w.redis, port: 6379 },
      { from: w.lumenApi, to: w.sentinel, port: 26379 },
      { from: w.lumenApi, to: w.lumenDb, port: 5432 },
      { from: w.lumenApi, to: w.alloy, port: 4318 },
      ...dns.map((p) => ({ from: w.lumenApi, to: w.coredns, ...p })),
    ],
  };
}
