/**
 * How a namespace reads secrets from Vault through the Vault Secrets Operator: a VaultConnection
 * and a VaultAuth (Kubernetes auth as one service account, bound to one Vault role) in that
 * namespace, and VaultStaticSecrets naming that VaultAuth. Vault's policies grant each role only
 * its own paths (set up by the Ansible vault role), so a namespace cannot read another's secrets.
 */
import { vaultAuth, vaultConnection } from '../engine/crd-types.ts';
import type { KubeObject } from '../engine/types.ts';

/** Vault inside the cluster (the chart's active-node Service; TLS is terminated inside the cluster network). */
export const vaultAddress = 'http://vault-active.vault.svc.cluster.local:8200';
/** KV v2 mount holding the platform's static secrets. */
export const kvMount = 'secret';
/** VSO's own namespace; its pods fetch the secrets on behalf of the VaultAuth service accounts. */
export const vsoNamespace = 'vault-secrets-operator';

/** VaultConnection `vault-<role>` + VaultAuth `<role>` in `namespace`, authenticating as `serviceAccount`. */
export function vaultAccess(namespace: string, role: string, serviceAccount: string): KubeObject[] {
  return [
    vaultConnection({ name: `vault-${role}`, namespace }, { address: vaultAddress, skipTLSVerify: false }),
    vaultAuth(
      { name: role, namespace },
      {
        vaultConnectionRef: `vault-${role}`,
        method: 'kubernetes',
        mount: 'kubernetes',
        kubernetes: { role, serviceAccount, audiences: ['vault'] },
      },
    ),
  ];
}
