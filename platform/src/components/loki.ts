/** Loki (seed: namespace loki, single binary mode), filesystem storage on a PVC. */
import type { Context } from '../context.ts';
import { flow, tcp } from '../flows.ts';
import type { Component } from '../types.ts';

export function loki(ctx: Context): Component {
  const p = ctx.imageParts('loki');
  return {
    name: 'loki',
    namespace: 'loki',
    // baseline: the chart does not promise a seccomp profile on every container (restricted would refuse the pod).
    podSecurity: 'baseline',
    summary: 'Loki single binary (logs from Alloy), filesystem storage',
    helm: {
      chart: 'loki',
      values: {
        deploymentMode: 'SingleBinary',
        loki: {
          image: { registry: p.registry, repository: p.repository, tag: p.tagAtDigest },
          auth_enabled: false,
          commonConfig: { replication_factor: 1 },
          storage: { type: 'filesystem' },
          schemaConfig: {
            configs: [
              {
                from: '2024-01-01',
                store: 'tsdb',
                object_store: 'filesystem',
                schema: 'v13',
                index: { prefix: 'index_', period: '24h' },
              },
            ],
          },
          podLabels: { app: 'loki', tier: 'observability' },
        },
        singleBinary: { replicas: 1, persistence: { enabled: true, size: '10Gi' } },
        read: { replicas: 0 },
        write: { replicas: 0 },
        backend: { replicas: 0 },
        // Each of these runs another image that is not carried across the gap.
        gateway: { enabled: false },
        chunksCache: { enabled: false },
        resultsCache: { enabled: false },
        lokiCanary: { enabled: false },
        test: { enabled: false },
        minio: { enabled: false },
        sidecar: { rules: { enabled: false } },
        monitoring: { selfMonitoring: { enabled: false }, serviceMonitor: { enabled: false } },
      },
    },
    providesCrds: [],
    objects: [],
    workloads: [
      {
        name: 'loki',
        kind: 'StatefulSet',
        source: 'chart',
        podLabels: { 'app.kubernetes.io/name': 'loki', 'app.kubernetes.io/component': 'single-binary' },
        ports: [{ port: 3100 }, { port: 9095 }, { port: 7946 }],
      },
    ],
    flows: [flow('kube-prometheus-stack/prometheus', 'loki/loki', tcp(3100), 'Prometheus scrapes Loki')],
  };
}
