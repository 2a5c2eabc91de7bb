/** Loki (seed: namespace loki, single binary mode), filesystem storage on a PVC. */

import { flow, tcp } from '../blocks/flows.ts';
import type { Context } from '../engine/context.ts';
import type { Component } from '../engine/types.ts';

export function loki(ctx: Context): Component {
  const p = ctx.imageParts('loki');
  return {
    name: 'loki',
    namespace: 'loki',
    // restricted: chart 18.7.1 renders the only pod (the single-binary StatefulSet) as non-root 10001 with
    // seccomp RuntimeDefault, no privilege escalation, all capabilities dropped, read-only root filesystem.
    podSecurity: 'restricted',
    summary: 'Loki single binary (logs from Alloy), filesystem storage',
    helm: {
      chart: 'loki',
      values: {
        deploymentMode: 'SingleBinary',
        loki: {
          // `tag: <tag>@<digest>` renders `<registry>/<repository>:<tag>@sha256:…`; the chart's `digest` key
          // would drop the tag (its loki.image helper uses digest INSTEAD of tag), which LumenImageTag refuses.
          // Side effect: the chart derives app.kubernetes.io/version from the tag ("3.7.4-sha256-…", 63 chars).
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
        // (chart 18.x has no monitoring.selfMonitoring: the self-monitoring stack was removed from the chart)
        monitoring: { serviceMonitor: { enabled: false } },
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
    flows: [
      flow('kube-prometheus-stack/prometheus', 'loki/loki', tcp(3100), 'Prometheus scrapes Loki'),
      flow(
        'loki/loki',
        'loki/loki',
        tcp(7946, 9095),
        'memberlist joins loki-memberlist (its own pod IP); the compactor gRPC address is the loki Service',
      ),
    ],
  };
}
