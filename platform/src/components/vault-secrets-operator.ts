/** Vault Secrets Operator (seed: VaultStaticSecret → Kubernetes Secret, synced every 60 s). */

import { flow, tcp, toApiServer } from '../blocks/flows.ts';
import { vsoNamespace } from '../blocks/vault-access.ts';
import type { Context } from '../engine/context.ts';
import type { Component } from '../engine/types.ts';

export function vaultSecretsOperator(ctx: Context): Component {
  const p = ctx.imageParts('vault-secrets-operator');
  // The chart always runs a kube-rbac-proxy sidecar in front of the manager's metrics endpoint; no value turns it
  // off, so the inventory carries it (the chart's own default tag, v0.18.1).
  const proxy = ctx.imageParts('kube-rbac-proxy');
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
          // The chart templates `repository:tag` and parses the tag nowhere: tag@digest pins the digest. The same
          // image runs the pre-delete cleanup Job.
          manager: { image: { repository: p.repositoryWithRegistry, tag: p.tagAtDigest } },
          // Templated as `repository:tag` too, and its tag is parsed nowhere either.
          kubeRbacProxy: { image: { repository: proxy.repositoryWithRegistry, tag: proxy.tagAtDigest } },
          extraLabels: { app: 'vault-secrets-operator', tier: 'security' },
        },
        defaultVaultConnection: { enabled: false },
        defaultAuthMethod: { enabled: false },
        // Argo CD applies the chart's crds/ on every sync; the pre-upgrade CRD Job (a PreSync hook under Argo CD,
        // so run on every sync) would only be a second writer of the same CRDs.
        hooks: { upgradeCRDs: { enabled: false } },
        // The helm test Pod renders the image without tag or digest; Argo CD never runs test hooks anyway.
        tests: { enabled: false },
      },
    },
    providesCrds: [
      'csisecrets.secrets.hashicorp.com',
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
        ports: [
          { port: 8443, name: 'https' }, // kube-rbac-proxy → manager metrics on 127.0.0.1:8080
          { port: 8081 }, // manager health probes (kubelet), no named container port
        ],
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
