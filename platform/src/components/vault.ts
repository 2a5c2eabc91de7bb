/**
 * HashiCorp Vault HA (seed: 3 pods, Raft, KV v2 `secret/` and PKI `pki/`). Unsealed by the Ansible
 * `unseal` playbook from keys kept outside the cluster: the unseal keys never land in a Secret.
 */

import { flow, fromNodes, tcp, toApiServer } from '../blocks/flows.ts';
import type { Context } from '../engine/context.ts';
import type { Component } from '../engine/types.ts';

const ns = 'vault';
/** The chart's selector labels of the server pods. */
const serverLabels = { 'app.kubernetes.io/name': 'vault', 'app.kubernetes.io/instance': 'vault', component: 'server' };

export function vault(ctx: Context): Component {
  const server = ctx.imageParts('vault');
  return {
    name: 'vault',
    namespace: ns,
    podSecurity: 'baseline',
    summary: 'Vault HA (Raft, 3 replicas); KV v2 and PKI engines; secrets reach pods through VSO',
    helm: {
      chart: 'vault',
      values: {
        global: { tlsDisable: true },
        // VSO syncs secrets into Kubernetes Secrets; the agent injector is not needed.
        injector: { enabled: false },
        server: {
          image: { repository: server.repositoryWithRegistry, tag: server.tagAtDigest },
          extraLabels: { app: 'vault', tier: 'security' },
          // The chart's default is a REQUIRED anti-affinity on the hostname: with 3 replicas on the site's 2 nodes
          // vault-2 would stay Pending forever (and the StatefulSet never healthy). Preferred spreads them all
          // the same, and Raft keeps quorum (2 of 3) when the node holding one of them is lost.
          // A string like the chart's default (a map over its string default makes helm warn while coalescing).
          affinity: [
            'podAntiAffinity:',
            '  preferredDuringSchedulingIgnoredDuringExecution:',
            '    - weight: 100',
            '      podAffinityTerm:',
            '        labelSelector:',
            '          matchLabels:',
            ...Object.entries(serverLabels).map(([k, v]) => `            ${k}: ${v}`),
            '        topologyKey: kubernetes.io/hostname',
            '',
          ].join('\n'),
          dataStorage: { enabled: true, size: '2Gi' },
          ha: {
            enabled: true,
            replicas: 3,
            raft: {
              enabled: true,
              setNodeId: true,
              config: [
                'ui = true',
                'listener "tcp" {',
                '  tls_disable = 1',
                '  address = "[::]:8200"',
                '  cluster_address = "[::]:8201"',
                '}',
                'storage "raft" {',
                '  path = "/vault/data"',
                ...[0, 1, 2].flatMap((i) => [
                  '  retry_join {',
                  `    leader_api_addr = "http://vault-${i}.vault-internal:8200"`,
                  '  }',
                ]),
                '}',
                'service_registration "kubernetes" {}',
                '',
              ].join('\n'),
            },
          },
        },
        ui: { enabled: true },
      },
    },
    // Vault's Kubernetes service registration labels each server pod vault-active/vault-sealed/… as it changes
    // role; the chart's vault-active and vault-standby Services select on it.
    runtimePodLabels: ['vault-active', 'vault-initialized', 'vault-perf-standby', 'vault-sealed', 'vault-version'],
    providesCrds: [],
    objects: [],
    workloads: [
      {
        name: 'vault',
        kind: 'StatefulSet',
        source: 'chart',
        podLabels: serverLabels,
        ports: [
          { port: 8200, name: 'http' },
          { port: 8201, name: 'https-internal' }, // Raft and request forwarding (cluster_address)
          { port: 8202, name: 'http-rep' }, // declared by the chart; replication is Enterprise-only, unused
        ],
      },
    ],
    flows: [
      flow('vault/vault', 'vault/vault', tcp(8200, 8201), 'Raft replication and request forwarding between Vault pods'),
      toApiServer(
        'vault/vault',
        'Kubernetes auth reviews service account tokens; service registration labels the active pod',
      ),
      fromNodes(
        'vault/vault',
        tcp(8200),
        'the unseal playbook reaches Vault through kubectl port-forward, which arrives from the node',
      ),
    ],
  };
}
