/** Vault Secrets Operator (seed: VaultStaticSecret → Kubernetes Secret, synced every 60 s). */
import type { Context } from '../context.ts';
import { flow, tcp, toApiServer } from '../flows.ts';
import type { Component } from '../types.ts';
import { vsoNamespace } from '../vault-access.ts';

export function vaultSecretsOperator(ctx: Context): Component {
  const p = ctx.imageParts('vault-secrets-operator');
  return {
    name: 'vault-secrets-operator',
    namespace: vsoNamespace,
    // baseline: the chart does not promise a seccomp profile on every container (restricted would refuse the pod).
    podSecurity: 'baseline',
    summary: 'Vault Secrets Operator: VaultConnection/VaultAuth/VaultStaticSecret → Kubernetes Secrets',
    helm: {
      chart: 'vault-secrets-operator',
      values: {
        controller: {
          manager: { image: { repository: p.repositoryWithRegistry, tag: p.tagAtDigest } },
          extraLabels: { app: 'vault-secrets-operator', tier: 'security' },
        },
        defaultVaultConnection: { enabled: false },
        defaultAuthMethod: { enabled: false },
      },
    },
    providesCrds: [
      'vaultconnections.secrets.hashicorp.com',
      'vaultauths.secrets.hashicorp.com',
      'vaultauthglobals.secrets.hashicorp.com',
      'vaultstaticsecrets.secrets.hashicorp.com',
      'vaultdynamicsecrets.secrets.hashicorp.com',
      'vaultpkisecrets.secrets.hashicorp.com',
      'hcpauths.secrets.hashicorp.com',
      'hcpvaultsecretsapps.secrets.hashicorp.com',
      'secrettransformations.secrets.hashicorp.com',
    ],
    objects: [],
    workloads: [
      {
        name: 'vault-secrets-operator-controller-manager',
        kind: 'Deployment',
        source: 'chart',
        podLabels: { 'app.kubernetes.io/name': 'vault-secrets-operator', 'control-plane': 'controller-manager' },
        ports: [{ port: 8443 }],
      },
    ],
    flows: [
      toApiServer(
        'vault-secrets-operator/vault-secrets-operator-controller-manager',
        'VSO watches its CRs, requests service account tokens and writes Secrets',
      ),
      flow(
        'vault-secrets-operator/vault-secrets-operator-controller-manager',
        'vault/vault',
        tcp(8200),
        'VSO logs in to Vault and reads KV secrets',
      ),
    ],
  };
}
