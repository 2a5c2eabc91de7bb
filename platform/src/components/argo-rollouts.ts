/** Argo Rollouts controller (seed: wave 2; canary with Traefik weights and Prometheus analysis). */

import { flow, tcp, toApiServer } from '../blocks/flows.ts';
import type { Context } from '../engine/context.ts';
import type { Component } from '../engine/types.ts';

const ns = 'argo-rollouts';

export function argoRollouts(ctx: Context): Component {
  const p = ctx.imageParts('argo-rollouts');
  return {
    name: 'argo-rollouts',
    namespace: ns,
    podSecurity: 'restricted',
    summary: 'Argo Rollouts controller (Traefik traffic routing on the traefik.io API group)',
    helm: {
      chart: 'argo-rollouts',
      values: {
        controller: {
          // Rendered `registry/repository:tag`; the chart strips `@sha256:…` from the tag for its
          // app.kubernetes.io/version label, so `tag@digest` is the supported way to pin.
          image: { registry: p.registry, repository: p.repository, tag: p.tagAtDigest },
          // Traefik v3 serves TraefikService under traefik.io; older Rollouts default to traefik.containo.us.
          extraArgs: ['--traefik-api-group=traefik.io', '--traefik-api-version=traefik.io/v1alpha1'],
          podLabels: { app: 'argo-rollouts', tier: 'delivery' },
          metrics: { enabled: true },
        },
        dashboard: { enabled: false },
        notifications: { secret: { create: false } },
      },
    },
    providesCrds: [
      'rollouts.argoproj.io',
      'analysistemplates.argoproj.io',
      'clusteranalysistemplates.argoproj.io',
      'analysisruns.argoproj.io',
      'experiments.argoproj.io',
    ],
    objects: [],
    workloads: [
      {
        name: 'argo-rollouts',
        kind: 'Deployment',
        source: 'chart',
        podLabels: { 'app.kubernetes.io/name': 'argo-rollouts', 'app.kubernetes.io/component': 'rollouts-controller' },
        ports: [
          { port: 8090, name: 'metrics' },
          { port: 8080, name: 'healthz' },
        ],
      },
    ],
    flows: [
      toApiServer(
        'argo-rollouts/argo-rollouts',
        'the controller manages ReplicaSets, Services and TraefikService weights',
      ),
      flow(
        'argo-rollouts/argo-rollouts',
        'kube-prometheus-stack/prometheus',
        tcp(9090),
        'AnalysisRuns query Prometheus',
      ),
      flow(
        'kube-prometheus-stack/prometheus',
        'argo-rollouts/argo-rollouts',
        tcp(8090),
        'Prometheus scrapes the controller',
      ),
    ],
  };
}
