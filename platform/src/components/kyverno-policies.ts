/**
 * Kyverno image-signature verification (seed: layer 5, cosign with an ECDSA P-256 key, no
 * transparency log). The ClusterPolicy embeds the site's cosign PUBLIC key (inventory/cosign.pub);
 * the private key never leaves the CI signing step.
 */
import { findImage } from '@lumen/inventory';
import type { Context } from '../engine/context.ts';
import { kyvernoClusterPolicy } from '../engine/crd-types.ts';
import type { Component } from '../engine/types.ts';

const ns = 'kyverno';

/** Repository pattern of the images lumen's CI signs (lumen-api). */
export function signedImagePattern(ctx: Context): string {
  // By repository, not by digest: the policy must also admit the next release, whose digest CI pins later.
  return `${ctx.site.registry}/${findImage(ctx.inv, 'lumen-api').airgapPath}*`;
}

export function kyvernoPolicies(ctx: Context): Component {
  return {
    name: 'kyverno-policies',
    namespace: ns,
    podSecurity: 'restricted',
    summary: 'Kyverno ClusterPolicy: lumen-api images must carry a cosign signature by the site key',
    providesCrds: [],
    objects: [
      kyvernoClusterPolicy(
        { name: 'verify-lumen-api-signature', labels: { app: 'kyverno', tier: 'security' } },
        {
          validationFailureAction: 'Enforce',
          background: false,
          webhookTimeoutSeconds: 30,
          rules: [
            {
              name: 'cosign-signature',
              match: { any: [{ resources: { kinds: ['Pod'] } }] },
              verifyImages: [
                {
                  imageReferences: [signedImagePattern(ctx)],
                  // No Rekor in the airgap (seed: --tlog-upload=false).
                  attestors: [
                    {
                      entries: [
                        {
                          keys: {
                            publicKeys: ctx.cosignPublicKey,
                            rekor: { ignoreTlog: true },
                            ctlog: { ignoreSCT: true },
                          },
                        },
                      ],
                    },
                  ],
                  mutateDigest: false,
                  verifyDigest: true,
                  required: true,
                },
              ],
            },
          ],
        },
      ),
    ],
    workloads: [],
    flows: [],
  };
}
