/**
 * Kyverno (seed: layer 5, image signatures): the controllers. The policy that verifies lumen-api's
 * cosign signature is kyverno-policies, in a later wave.
 */

import { fromNodes, tcp, toApiServer, toRegistry } from '../blocks/flows.ts';
import type { Context } from '../engine/context.ts';
import type { Component } from '../engine/types.ts';

const ns = 'kyverno';
// The chart's selector labels (its Services select on all three).
const label = (component: string) => ({
  'app.kubernetes.io/component': component,
  'app.kubernetes.io/instance': 'kyverno',
  'app.kubernetes.io/part-of': 'kyverno',
});

export function kyverno(ctx: Context): Component {
  // The chart renders `<registry>/<repository>:<tag>` and has no digest key; no template parses the tag
  // (app.kubernetes.io/version is the chart version), so `tag: <tag>@<digest>` pins the digest and keeps the tag.
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
        // The airgap registry speaks plain HTTP; signatures are fetched from it. This is the chart's own
        // --allowInsecureRegistry flag (admission and reports controllers); an extraArgs entry would only repeat it.
        features: { registryClient: { allowInsecure: true } },
        admissionController: {
          initContainer: { image: img('kyvernopre') },
          container: { image: img('kyverno') },
          podLabels: { app: 'kyverno', tier: 'security' },
        },
        backgroundController: { image: img('kyverno-background-controller') },
        cleanupController: { image: img('kyverno-cleanup-controller') },
        reportsController: { image: img('kyverno-reports-controller') },
        // Hooks whose images are not carried across the gap: the pre-delete webhook cleanup (readiness-checker)
        // and the post-upgrade CRD migration (kyverno-cli; Argo CD would run it as a PostSync hook).
        // Chart 3.8.2 has no cleanup CronJobs and no switch for its helm-test Pods (readiness-checker:latest);
        // Argo CD never runs `helm.sh/hook: test` objects.
        webhooksCleanup: { enabled: false },
        crds: { migration: { enabled: false } },
      },
    },
    // The 22 CRDs chart 3.8.2 installs (crds subchart and kyverno-api 0.0.1-alpha.2).
    providesCrds: [
      'clusterpolicies.kyverno.io',
      'policies.kyverno.io',
      'policyexceptions.kyverno.io',
      'cleanuppolicies.kyverno.io',
      'clustercleanuppolicies.kyverno.io',
      'updaterequests.kyverno.io',
      'globalcontextentries.kyverno.io',
      'ephemeralreports.reports.kyverno.io',
      'clusterephemeralreports.reports.kyverno.io',
      'policyreports.wgpolicyk8s.io',
      'clusterpolicyreports.wgpolicyk8s.io',
      'validatingpolicies.policies.kyverno.io',
      'namespacedvalidatingpolicies.policies.kyverno.io',
      'imagevalidatingpolicies.policies.kyverno.io',
      'namespacedimagevalidatingpolicies.policies.kyverno.io',
      'mutatingpolicies.policies.kyverno.io',
      'namespacedmutatingpolicies.policies.kyverno.io',
      'generatingpolicies.policies.kyverno.io',
      'namespacedgeneratingpolicies.policies.kyverno.io',
      'deletingpolicies.policies.kyverno.io',
      'namespaceddeletingpolicies.policies.kyverno.io',
      'policyexceptions.policies.kyverno.io',
    ],
    objects: [],
    workloads: [
      {
        name: 'kyverno-admission-controller',
        kind: 'Deployment',
        source: 'chart',
        podLabels: label('admission-controller'),
        ports: [
          { port: 9443, name: 'https' },
          { port: 8000, name: 'metrics-port' },
        ],
      },
      {
        name: 'kyverno-background-controller',
        kind: 'Deployment',
        source: 'chart',
        podLabels: label('background-controller'),
        // 9443 is declared by the chart on every controller; only admission and cleanup serve webhooks there.
        ports: [
          { port: 9443, name: 'https' },
          { port: 8000, name: 'metrics' },
        ],
      },
      {
        name: 'kyverno-cleanup-controller',
        kind: 'Deployment',
        source: 'chart',
        podLabels: label('cleanup-controller'),
        ports: [
          { port: 9443, name: 'https' },
          { port: 8000, name: 'metrics' },
        ],
      },
      {
        name: 'kyverno-reports-controller',
        kind: 'Deployment',
        source: 'chart',
        podLabels: label('reports-controller'),
        ports: [
          { port: 9443, name: 'https' },
          { port: 8000, name: 'metrics' },
        ],
      },
    ],
    flows: [
      ...['admission-controller', 'background-controller', 'cleanup-controller', 'reports-controller'].map((c) =>
        toApiServer(`kyverno/kyverno-${c}`, `the ${c} watches policies and resources`),
      ),
      fromNodes('kyverno/kyverno-admission-controller', tcp(9443), 'the API server calls the admission webhooks'),
      fromNodes('kyverno/kyverno-cleanup-controller', tcp(9443), 'the API server calls the cleanup webhook'),
      toRegistry(
        'kyverno/kyverno-admission-controller',
        ctx.site.registry,
        'verifyImages reads signatures (sha256-<digest>.sig) from the airgap registry',
      ),
    ],
  };
}
