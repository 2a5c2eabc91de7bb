/**
 * HashiCorp Vault HA (seed: 3 pods, Raft, KV v2 `secret/` and PKI `pki/`). Unsealed by the Ansible
 * `unseal` playbook from keys kept outside the cluster: the unseal keys never land in a Secret.
 */
import type { Context } from '../context.ts';
import { flow, fromNodes, tcp, toApiServer } from '../flows.ts';
import type { Component } from '../types.ts';

const ns = 'vault';

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
    providesCrds: [],
    objects: [],
    workloads: [
      {
        name: 'vault',
        kind: 'StatefulSet',
        source: 'chart',
        podLabels: { 'app.kubernetes.io/name': 'vault', 'app.kubernetes.io/instance': 'vault', component: 'server' },
        ports: [{ port: 8200 }, { port: 8201 }],
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
