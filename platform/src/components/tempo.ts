/**
 * Tempo (seed: namespace tempo): traces from Alloy over OTLP, queried by Grafana.
 *
 * Chart: `tempo` 2.2.4 (grafana-community), the last published single-binary chart (a `tempo` 3.1.0 was never
 * published; 3.1.0 is tempo-distributed, which needs Kafka and object storage). Its image must be Tempo 2.10.x:
 * the chart always passes `-mem-ballast-size-mbs` and writes `compactor:`/`ingester:` config sections, which
 * Tempo 3.0 removed (unknown flag / strict config parse: the pod would crash-loop).
 */

import { flow, tcp } from '../blocks/flows.ts';
import type { Context } from '../engine/context.ts';
import type { Component } from '../engine/types.ts';

export function tempo(ctx: Context): Component {
  const p = ctx.imageParts('tempo');
  return {
    name: 'tempo',
    namespace: 'tempo',
    // baseline: chart 2.2.4 runs Tempo as non-root 10001 but sets no seccomp profile and no container
    // securityContext (no allowPrivilegeEscalation=false, no capability drop): restricted would refuse the pod.
    podSecurity: 'baseline',
    summary: 'Tempo single binary: OTLP traces from Alloy',
    helm: {
      chart: 'tempo',
      values: {
        tempo: {
          // The chart renders `<registry>/<repository>:<tag>` (no digest key); `tag: <tag>@<digest>` pins the digest
          // and keeps the tag. The version label strips `@sha…` itself (app.kubernetes.io/version: "<tag>").
          registry: p.registry,
          repository: p.repository,
          tag: p.tagAtDigest,
          // Airgap: no anonymous usage reports to stats.grafana.org (egress is denied anyway).
          reportingEnabled: false,
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
        // HTTP (query API, /metrics, /ready) is 3200 in this chart (Service port 3200 too), not 3100.
        // The chart's Jaeger/Zipkin receivers stay on (its Service template needs them) but no flow reaches them.
        ports: [{ port: 3200 }, { port: 4317 }, { port: 4318 }],
      },
    ],
    flows: [flow('kube-prometheus-stack/prometheus', 'tempo/tempo', tcp(3200), 'Prometheus scrapes Tempo')],
  };
}
