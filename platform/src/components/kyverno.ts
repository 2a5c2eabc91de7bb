/**
 * Kyverno image-signature verification (seed: layer 5, cosign with an ECDSA P-256 key, no
 * transparency log). The ClusterPolicy embeds the cosign PUBLIC key; the private key never
 * leaves the CI signing step.
 */
import { findImage } from '@lumen/inventory';
import type { Context } from '../context.ts';
import { kyvernoClusterPolicy } from '../crd-types.ts';
import { flow, fromNodes, tcp, toApiServer } from '../flows.ts';
import type { Component } from '../types.ts';
import { registryPort } from './argocd.ts';

const ns = 'kyverno';
const label = (component: string) => ({
  'app.kubernetes.io/component': component,
  'app.kubernetes.io/instance': 'kyverno',
});

export function kyverno(ctx: Context): Component {
  const img = (name: string) => {
    const p = ctx.imageParts(name);
    return { registry: p.registry, repository: p.repository, tag: p.tagAtDigest };
  };
  return {
    name: 'kyverno',
    namespace: ns,
    podSecurity: 'restricted',
    summary: 'Kyverno admission, background, cleanup and reports controllers (image verification only)',
    helm: {
      chart: 'kyverno',
      values: {
        admissionController: {
          initContainer: { image: img('kyvernopre') },
          container: {
            image: img('kyverno'),
            // The airgap registry speaks plain HTTP; signatures are fetched from it.
            extraArgs: { allowInsecureRegistry: true },
          },
          podLabels: { app: 'kyverno', tier: 'security' },
        },
        backgroundController: { image: img('kyverno-background-controller') },
        cleanupController: { image: img('kyverno-cleanup-controller') },
        reportsController: { image: img('kyverno-reports-controller') },
        // The hooks run kubectl images that are not carried across the gap.
        webhooksCleanup: { enabled: false },
        policyReportsCleanup: { enabled: false },
        test: { enabled: false },
      },
    },
    providesCrds: [
      'clusterpolicies.kyverno.io',
      'policies.kyverno.io',
      'policyexceptions.kyverno.io',
      'cleanuppolicies.kyverno.io',
      'clustercleanuppolicies.kyverno.io',
      'updaterequests.kyverno.io',
      'globalcontextentries.kyverno.io',
      'policyreports.wgpolicyk8s.io',
      'clusterpolicyreports.wgpolicyk8s.io',
    ],
    objects: [],
    workloads: [
      {
        name: 'kyverno-admission-controller',
        kind: 'Deployment',
        source: 'chart',
        podLabels: label('admission-controller'),
        ports: [{ port: 9443 }, { port: 8000 }],
      },
      {
        name: 'kyverno-background-controller',
        kind: 'Deployment',
        source: 'chart',
        podLabels: label('background-controller'),
        ports: [{ port: 8000 }],
      },
      {
        name: 'kyverno-cleanup-controller',
        kind: 'Deployment',
        source: 'chart',
        podLabels: label('cleanup-controller'),
        ports: [{ port: 9443 }, { port: 8000 }],
      },
      {
        name: 'kyverno-reports-controller',
        kind: 'Deployment',
        source: 'chart',
        podLabels: label('reports-controller'),
        ports: [{ port: 8000 }],
      },
    ],
    flows: [
      ...['admission-controller', 'background-controller', 'cleanup-controller', 'reports-controller'].map((c) =>
        toApiServer(`kyverno/kyverno-${c}`, `the ${c} watches policies and resources`),
      ),
      fromNodes('kyverno/kyverno-admission-controller', tcp(9443), 'the API server calls the admission webhooks'),
      fromNodes('kyverno/kyverno-cleanup-controller', tcp(9443), 'the API server calls the cleanup webhook'),
      flow(
        'kyverno/kyverno-admission-controller',
        '@registry',
        tcp(registryPort(ctx.site.registry)),
        'verifyImages reads signatures (sha256-<digest>.sig) from the airgap registry',
      ),
    ],
  };
}

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
