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

/** The slice of the inventory the matrix needs: the site's addresses and whether lumen-api is released. */
export interface MatrixSite {
  site: { registry: string; nodes: ReadonlyArray<{ name: string; ip: string; role: string }> };
  images: ReadonlyArray<{ name: string; digest?: string | undefined }>;
}

/** Workloads as `namespace/name` (the names `lumen check` sees in deploy/ and the platform model). */
export const workloads = {
  lumenApi: 'lumen/lumen-api',
  redis: 'lumen/redis',
  sentinel: 'lumen/redis-sentinel',
  lumenDb: 'cnpg-system/lumen-db',
  cnpgOperator: 'cnpg-system/cloudnative-pg',
  traefik: 'traefik/traefik',
  prometheus: 'monitoring/prometheus',
  alloy: 'alloy/alloy',
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

const dnsPorts = [
  { port: 53, protocol: 'UDP' },
  { port: 53, protocol: 'TCP' },
];

/** `from` resolves names through CoreDNS (UDP and TCP 53). */
const dns = (from: string) => dnsPorts.map((p) => ({ from, to: workloads.coredns, ...p }));

/** K3s defaults: the `kubernetes` Service address, and the API server port on server nodes. */
const apiServerServiceIp = '10.43.0.1';
const apiServerPort = 6443;

/** The matrix for a site (its registry and server node addresses are external peers). */
export function networkMatrix(inv: MatrixSite): NetworkMatrix {
  const registryHost = inv.site.registry.replace(/:\d+$/, '');
  const registryPort = Number(/:(\d+)$/.exec(inv.site.registry)?.[1] ?? 443);
  const server = inv.site.nodes.find((n) => n.role === 'server')?.ip ?? registryHost;
  const w = workloads;
  // lumen-api is rendered from its first release on (its image has a digest only once CI pushed
  // it: platform/src/render.ts); before that its flows cannot exist and are not expected.
  const released = inv.images.some((i) => i.name === 'lumen-api' && i.digest !== undefined);
  const lumenApi = new Set<string>([w.lumenApi]);
  const matrix: NetworkMatrix = {
    externals: {
      // A public resolver and web: the seed's "lumen-api → 8.8.8.8 ✗ (DROP)".
      internet: { ip: '8.8.8.8', ports: [...dnsPorts, { port: 443 }, { port: 80 }] },
      'airgap-registry': { ip: registryHost, ports: [{ port: registryPort }] },
      'kube-apiserver-service': { ip: apiServerServiceIp, ports: [{ port: 443 }] },
      'kube-apiserver': { ip: server, ports: [{ port: apiServerPort }] },
      // Node addresses as sources: kubelet, the API server calling webhooks, host-network pods.
      ...Object.fromEntries(inv.site.nodes.map((n) => [`node:${n.name}`, { ip: n.ip, ports: [] }])),
    },
    // Every flow into or out of these is listed below; anything else the policies allow fails.
    exact: [w.lumenApi, w.redis, w.sentinel, w.lumenDb],
    allow: [
      // lumen-api (seed LAYER 3): only Traefik in, only Prometheus on the admin port.
      { from: w.traefik, to: w.lumenApi, port: 8080 },
      { from: w.prometheus, to: w.lumenApi, port: 9090 },
      { from: w.lumenApi, to: w.redis, port: 6379 },
      { from: w.lumenApi, to: w.sentinel, port: 26379 },
      { from: w.lumenApi, to: w.lumenDb, port: 5432 },
      { from: w.lumenApi, to: w.alloy, port: 4318 },
      ...dns(w.lumenApi),
      // Redis replication and Sentinel gossip, inside the namespace only.
      { from: w.redis, to: w.redis, port: 6379 },
      { from: w.redis, to: w.sentinel, port: 26379 },
      { from: w.sentinel, to: w.redis, port: 6379 },
      { from: w.sentinel, to: w.sentinel, port: 26379 },
      ...dns(w.redis),
      ...dns(w.sentinel),
      // The database: streaming replication and the instance manager among its own pods, the
      // operator on the status port, Prometheus on the exporter, the API server — nothing else out.
      { from: w.lumenDb, to: w.lumenDb, port: 5432 },
      { from: w.lumenDb, to: w.lumenDb, port: 8000 },
      { from: w.cnpgOperator, to: w.lumenDb, port: 8000 },
      { from: w.prometheus, to: w.lumenDb, port: 9187 },
      { from: w.lumenDb, to: 'kube-apiserver-service', port: 443 },
      { from: w.lumenDb, to: 'kube-apiserver', port: apiServerPort },
      ...dns(w.lumenDb),
    ],
  };
  if (released) return matrix;
  return {
    ...matrix,
    exact: matrix.exact.filter((x) => !lumenApi.has(x)),
    allow: matrix.allow.filter((f) => !lumenApi.has(f.from) && !lumenApi.has(f.to)),
  };
}
