/**
 * Kyverno (seed: layer 5, image signatures): the controllers. The policy that verifies lumen-api's
 * cosign signature is kyverno-policies, in a later wave.
 */
import type { Context } from '../context.ts';
import { fromNodes, tcp, toApiServer, toRegistry } from '../flows.ts';
import type { Component } from '../types.ts';

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
        // The hooks and cleanup CronJobs run kubectl images that are not carried across the gap.
        webhooksCleanup: { enabled: false },
        policyReportsCleanup: { enabled: false },
        crds: { migration: { enabled: false } },
        cleanupJobs: {
          admissionReports: { enabled: false },
          clusterAdmissionReports: { enabled: false },
          updateRequests: { enabled: false },
          ephemeralReports: { enabled: false },
          clusterEphemeralReports: { enabled: false },
        },
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
      toRegistry(
        'kyverno/kyverno-admission-controller',
        ctx.site.registry,
        'verifyImages reads signatures (sha256-<digest>.sig) from the airgap registry',
      ),
    ],
  };
}
