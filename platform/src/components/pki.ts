/**
 * The Vault ClusterIssuer (seed: "ClusterIssuer vault-issuer", Vault PKI issuing *.<domain>).
 * cert-manager authenticates to Vault as the `vault-issuer` service account with a short-lived
 * token it requests itself (serviceAccountRef), so no long-lived token Secret exists.
 */
import { ClusterIssuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ServiceAccount } from 'kubernetes-models/v1';
import { vaultAddress } from '../blocks/vault-access.ts';
import type { Context } from '../engine/context.ts';
import { plain } from '../engine/serialize.ts';
import type { Component } from '../engine/types.ts';

type VaultKubernetesAuth = NonNullable<
  NonNullable<
    NonNullable<NonNullable<ConstructorParameters<typeof ClusterIssuer>[0]>['spec']['vault']>['auth']
  >['kubernetes']
>;

/** Name of the ClusterIssuer every Certificate uses. */
export const clusterIssuerName = 'vault-issuer';
const ns = 'cert-manager';

export function pki(ctx: Context): Component {
  const labels = { app: 'vault-issuer', tier: 'security' };
  const objects = [
    new ServiceAccount({ metadata: { name: 'vault-issuer', namespace: ns, labels } }),
    new Role({
      metadata: { name: 'vault-issuer-token', namespace: ns, labels },
      rules: [
        { apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: ['vault-issuer'], verbs: ['create'] },
      ],
    }),
    new RoleBinding({
      metadata: { name: 'vault-issuer-token', namespace: ns, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'vault-issuer-token' },
      subjects: [{ kind: 'ServiceAccount', name: 'cert-manager', namespace: ns }],
    }),
    new ClusterIssuer({
      metadata: { name: clusterIssuerName, labels },
      spec: {
        vault: {
          server: vaultAddress,
          // Vault PKI role issuing certificates for *.<domain> (created by the Ansible vault role).
          path: `pki/sign/${ctx.site.domain.replaceAll('.', '-')}`,
          // serviceAccountRef (cert-manager ≥ 1.12) is newer than the model, which still demands secretRef.
          auth: {
            kubernetes: {
              role: 'cert-manager',
              mountPath: '/v1/auth/kubernetes',
              serviceAccountRef: { name: 'vault-issuer' },
            } as unknown as VaultKubernetesAuth,
          },
        },
      },
    }),
  ].map(plain);
  return {
    name: 'pki',
    namespace: ns,
    podSecurity: 'restricted',
    summary: 'cert-manager ClusterIssuer backed by Vault PKI (pki/sign/<domain>)',
    providesCrds: [],
    objects,
    workloads: [],
    flows: [],
  };
}
