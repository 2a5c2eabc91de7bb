/** Tempo (seed: namespace tempo): traces from Alloy over OTLP, queried by Grafana. */
import type { Context } from '../context.ts';
import { flow, tcp } from '../flows.ts';
import type { Component } from '../types.ts';

export function tempo(ctx: Context): Component {
  const p = ctx.imageParts('tempo');
  return {
    name: 'tempo',
    namespace: 'tempo',
    // baseline: the chart does not promise a seccomp profile or a non-root user (restricted would refuse the pod).
    podSecurity: 'baseline',
    summary: 'Tempo single binary: OTLP traces from Alloy',
    helm: {
      chart: 'tempo',
      values: {
        tempo: {
          // registry and repository apart: the chart joins them (older charts without `registry` would
          // fall back to docker.io, which the K3s mirror config rewrites to the airgap registry anyway).
          registry: p.registry,
          repository: p.repository,
          tag: p.tagAtDigest,
          receivers: {
            otlp: { protocols: { grpc: { endpoint: '0.0.0.0:4317' }, http: { endpoint: '0.0.0.0:4318' } } },
          },
          retention: '72h',
        },
        podLabels: { app: 'tempo', tier: 'observability' },
        tempoQuery: { enabled: false },
        persistence: { enabled: true, size: '10Gi' },
      },
    },
    providesCrds: [],
    objects: [],
    workloads: [
      {
        name: 'tempo',
        kind: 'StatefulSet',
        source: 'chart',
        podLabels: { 'app.kubernetes.io/name': 'tempo', 'app.kubernetes.io/instance': 'tempo' },
        ports: [{ port: 3100 }, { port: 4317 }, { port: 4318 }],
      },
    ],
    flows: [flow('kube-prometheus-stack/prometheus', 'tempo/tempo', tcp(3100), 'Prometheus scrapes Tempo')],
  };
}
