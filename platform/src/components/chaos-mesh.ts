/**
 * Chaos Mesh (seed: controller-manager, chaos-daemon per node on the K3s containerd socket,
 * dashboard behind Traefik) and the seed's three experiments. The experiments are rendered to
 * deploy/experiments/ and applied by hand (`kubectl apply -f`): synced by Argo CD they would run
 * on every sync. Each selects the namespace and labels where its pods really run (the public
 * implementation targeted a namespace where the pods did not run).
 */

import { flow, fromNodes, tcp, toApiServer } from '../blocks/flows.ts';
import { selectorLabels } from '../blocks/pods.ts';
import type { Context } from '../engine/context.ts';
import { networkChaos } from '../engine/crd-types.ts';
import type { Component } from '../engine/types.ts';
import { clusterName } from './lumen-db.ts';

const ns = 'chaos-mesh';
const label = (component: string) => ({
  'app.kubernetes.io/name': 'chaos-mesh',
  'app.kubernetes.io/component': component,
});

const rollme = '/spec/template/metadata/annotations/rollme';

export function chaosMesh(ctx: Context): Component {
  const img = (name: string) => {
    const p = ctx.imageParts(name);
    return { registry: p.registry, repository: p.repository, tag: p.tagAtDigest };
  };
  return {
    name: 'chaos-mesh',
    namespace: ns,
    // chaos-daemon enters other containers' namespaces: privileged by nature.
    podSecurity: 'privileged',
    summary: 'Chaos Mesh controller, daemon (K3s containerd) and dashboard; experiments in deploy/experiments/',
    helm: {
      chart: 'chaos-mesh',
      // Images are `registry/repository:tag` (no digest key; the version label is .Chart.AppVersion),
      // so `tag@digest` pins them.
      values: {
        images: { registry: ctx.site.registry },
        controllerManager: {
          image: img('chaos-mesh'),
          replicaCount: 1,
          // The chaosd client certificate (physical-machine chaos, unused) is made with genCA at
          // every render, outside the cert-manager switch: off.
          chaosdSecurityMode: false,
        },
        chaosDaemon: {
          image: img('chaos-daemon'),
          runtime: 'containerd',
          socketPath: '/run/k3s/containerd/containerd.sock',
        },
        dashboard: {
          image: img('chaos-dashboard'),
          securityMode: true,
          // Reached through Traefik (edge-routes), not on a NodePort of every node (chart default).
          service: { type: 'ClusterIP' },
        },
        dnsServer: { create: false },
        // Without cert-manager the chart makes a new CA, webhook and chaos-daemon mTLS certificates
        // with genCA on every render: Argo CD re-renders on every commit, so the Secrets and the
        // webhooks' caBundle would change under the running pods. cert-manager issues them once.
        webhook: { certManager: { enabled: true } },
        // pprof on the controller (:10081) and the daemon (--pprof): debugging only.
        enableProfiling: false,
      },
      // The chart stamps `rollme: {{ randAlphaNum 5 }}` on both pod templates (no value removes it): every render
      // would be a new template, so Argo CD would roll the controller and every daemon on each re-render.
      ignoreDifferences: [
        { group: 'apps', kind: 'Deployment', name: 'chaos-controller-manager', namespace: ns, jsonPointers: [rollme] },
        { group: 'apps', kind: 'DaemonSet', name: 'chaos-daemon', namespace: ns, jsonPointers: [rollme] },
      ],
    },
    providesCrds: [
      'podchaos.chaos-mesh.org',
      'networkchaos.chaos-mesh.org',
      'iochaos.chaos-mesh.org',
      'stresschaos.chaos-mesh.org',
      'timechaos.chaos-mesh.org',
      'kernelchaos.chaos-mesh.org',
      'dnschaos.chaos-mesh.org',
      'httpchaos.chaos-mesh.org',
      'jvmchaos.chaos-mesh.org',
      'blockchaos.chaos-mesh.org',
      'schedules.chaos-mesh.org',
      'workflows.chaos-mesh.org',
      'workflownodes.chaos-mesh.org',
      'statuschecks.chaos-mesh.org',
      'podnetworkchaos.chaos-mesh.org',
      'podiochaos.chaos-mesh.org',
      'podhttpchaos.chaos-mesh.org',
      'awschaos.chaos-mesh.org',
      'azurechaos.chaos-mesh.org',
      'gcpchaos.chaos-mesh.org',
      'physicalmachinechaos.chaos-mesh.org',
      'physicalmachines.chaos-mesh.org',
      'remoteclusters.chaos-mesh.org',
    ],
    // webhook.certManager: a self-signed Issuer, the CA and three Certificates in this namespace.
    chartUsesCrds: ['certificates.cert-manager.io', 'issuers.cert-manager.io'],
    objects: [],
    workloads: [
      {
        name: 'chaos-controller-manager',
        kind: 'Deployment',
        source: 'chart',
        podLabels: label('controller-manager'),
        ports: [
          { port: 10250, name: 'webhook' },
          { port: 10080, name: 'http' },
        ],
      },
      {
        name: 'chaos-daemon',
        kind: 'DaemonSet',
        source: 'chart',
        podLabels: label('chaos-daemon'),
        ports: [
          { port: 31767, name: 'grpc' },
          { port: 31766, name: 'http' },
        ],
      },
      {
        name: 'chaos-dashboard',
        kind: 'Deployment',
        source: 'chart',
        podLabels: label('chaos-dashboard'),
        ports: [
          { port: 2333, name: 'http' },
          { port: 2334, name: 'metric' },
        ],
      },
    ],
    flows: [
      toApiServer('chaos-mesh/chaos-controller-manager', 'the controller reconciles experiments'),
      toApiServer('chaos-mesh/chaos-dashboard', 'the dashboard lists and creates experiments'),
      toApiServer('chaos-mesh/chaos-daemon', 'the daemon resolves target pods'),
      fromNodes('chaos-mesh/chaos-controller-manager', tcp(10250), 'the API server calls the admission webhooks'),
      flow(
        'chaos-mesh/chaos-controller-manager',
        'chaos-mesh/chaos-daemon',
        tcp(31767),
        'the controller drives faults over gRPC (seed: :31767)',
      ),
    ],
    experiments: [
      // Seed 01 (kill 50% of lumen-api pods) lives with lumen-api (components/lumen-api.ts): it exists only once lumen-api does.
      // Seed 02: +100 ms on Redis for 5 min; p99 rises, no panic.
      networkChaos(
        { name: 'redis-latency', namespace: 'lumen', labels: { app: 'chaos', tier: 'experiment' } },
        {
          action: 'delay',
          mode: 'all',
          selector: { namespaces: ['lumen'], labelSelectors: selectorLabels('redis') },
          duration: '5m',
          delay: { latency: '100ms', jitter: '10ms', correlation: '25' },
          direction: 'to',
        },
      ),
      // Seed 03: +100 ms on PostgreSQL for 5 min; connection pool and statement timeouts hold.
      networkChaos(
        { name: 'lumen-db-latency', namespace: 'cnpg-system', labels: { app: 'chaos', tier: 'experiment' } },
        {
          action: 'delay',
          mode: 'all',
          selector: { namespaces: ['cnpg-system'], labelSelectors: { 'cnpg.io/cluster': clusterName } },
          duration: '5m',
          delay: { latency: '100ms', jitter: '10ms', correlation: '25' },
          direction: 'to',
        },
      ),
    ],
  };
}
