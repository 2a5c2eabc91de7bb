/**
 * The `lumen-db` PostgreSQL cluster (seed: CloudNativePG, 3 instances in cnpg-system, Services
 * lumen-db-rw / -ro / -r, credentials from Vault via VSO, never plaintext). Its pods get no
 * arbitrary egress: only each other, the API server and DNS (the public implementation let
 * them open any outbound connection).
 */

import { flow, tcp, toApiServer } from '../blocks/flows.ts';
import { kvMount, vaultAccess } from '../blocks/vault-access.ts';
import type { Context } from '../engine/context.ts';
import { cnpgCluster, vaultStaticSecret } from '../engine/crd-types.ts';
import type { Component } from '../engine/types.ts';

const ns = 'cnpg-system';
export const clusterName = 'lumen-db';

export function lumenDb(ctx: Context): Component {
  const labels = { app: clusterName, tier: 'database' };
  return {
    name: clusterName,
    namespace: ns,
    podSecurity: 'restricted',
    summary: 'PostgreSQL Cluster lumen-db: 3 instances (primary + 2 streaming replicas), app credentials from Vault',
    providesCrds: [],
    objects: [
      // VSO needs a service account of its own to authenticate as in this namespace.
      {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'lumen-db-vault', namespace: ns, labels },
        automountServiceAccountToken: false,
      },
      ...vaultAccess(ns, 'lumen-db', 'lumen-db-vault'),
      vaultStaticSecret(
        { name: 'lumen-db-app', namespace: ns, labels },
        {
          vaultAuthRef: 'lumen-db',
          mount: kvMount,
          type: 'kv-v2',
          // The same KV entry lumen-api's DSN is rendered from: one credential, one source.
          path: 'lumen/postgres',
          refreshAfter: '60s',
          destination: { name: 'lumen-db-app', create: true, type: 'kubernetes.io/basic-auth' },
        },
      ),
      cnpgCluster(
        { name: clusterName, namespace: ns, labels },
        {
          instances: 3,
          imageName: ctx.image('postgresql'),
          primaryUpdateStrategy: 'unsupervised',
          inheritedMetadata: { labels },
          enableSuperuserAccess: false,
          bootstrap: { initdb: { database: 'lumen', owner: 'lumen', secret: { name: 'lumen-db-app' } } },
          postgresql: { parameters: { max_connections: '200', statement_timeout: '30s' } },
          storage: { size: '5Gi' },
          resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
          monitoring: { enablePodMonitor: false },
        },
      ),
    ],
    workloads: [
      {
        name: clusterName,
        kind: 'Cluster',
        source: 'operator',
        podLabels: { 'cnpg.io/cluster': clusterName },
        ports: [{ port: 5432 }, { port: 8000 }, { port: 9187 }],
      },
    ],
    flows: [
      flow('lumen-db/lumen-db', 'lumen-db/lumen-db', tcp(5432), 'streaming replication between instances'),
      flow('lumen-db/lumen-db', 'lumen-db/lumen-db', tcp(8000), 'instance managers query each other during failover'),
      toApiServer('lumen-db/lumen-db', 'the instance manager reads its Cluster and updates its status'),
      flow('kube-prometheus-stack/prometheus', 'lumen-db/lumen-db', tcp(9187), 'Prometheus scrapes PostgreSQL metrics'),
    ],
  };
}
