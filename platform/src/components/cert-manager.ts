/** cert-manager (seed: wave 0, CRDs Certificate/ClusterIssuer; renews certificates 30 days before expiry). */

import { flow, fromNodes, tcp, toApiServer } from '../blocks/flows.ts';
import type { Context } from '../engine/context.ts';
import type { Component } from '../engine/types.ts';

const ns = 'cert-manager';
const chartLabels = (name: string, component: string) => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/instance': 'cert-manager',
  'app.kubernetes.io/component': component,
});

export function certManager(ctx: Context): Component {
  const img = (name: string) => {
    const p = ctx.imageParts(name);
    // The chart renders `repository:tag@digest` when both are set (a digest alone renders `repository@digest`,
    // which the LumenImageTag constraint refuses). The registry goes into `repository`: `image.registry` is
    // deprecated (it prefixes whatever the chart composes, and NOTES warns about it). No template parses the tag.
    return { repository: p.repositoryWithRegistry, tag: p.tag, digest: p.digest };
  };
  return {
    name: 'cert-manager',
    namespace: ns,
    podSecurity: 'restricted',
    summary: 'cert-manager controller, webhook and cainjector (Certificates from the Vault ClusterIssuer)',
    helm: {
      chart: 'cert-manager',
      values: {
        crds: { enabled: true, keep: true },
        // Default image names are composed from these: the three images below are explicit, but the controller's
        // --acme-http01-solver-image (used only by ACME HTTP-01 Issuers, which lumen has none of) and the
        // disabled startupapicheck still resolve under the airgap registry, never quay.io.
        imageRegistry: ctx.site.registry,
        image: img('cert-manager-controller'),
        // The chart already labels every pod `app: <name>`; a second `app` in podLabels is a duplicate YAML key.
        podLabels: { tier: 'security' },
        webhook: { image: img('cert-manager-webhook'), podLabels: { tier: 'security' } },
        cainjector: { image: img('cert-manager-cainjector'), podLabels: { tier: 'security' } },
        // Its image is not carried across the gap; Argo CD's health checks tell when the webhook serves.
        startupapicheck: { enabled: false },
        // No ServiceMonitor: its CRD comes from kube-prometheus-stack, which itself waits for cert-manager's CRDs.
        // This only adds prometheus.io/* pod annotations, which lumen's Prometheus does not read.
        prometheus: { enabled: true, servicemonitor: { enabled: false } },
      },
    },
    providesCrds: [
      'certificates.cert-manager.io',
      'certificaterequests.cert-manager.io',
      'issuers.cert-manager.io',
      'clusterissuers.cert-manager.io',
      'orders.acme.cert-manager.io',
      'challenges.acme.cert-manager.io',
    ],
    objects: [],
    workloads: [
      {
        name: 'cert-manager',
        kind: 'Deployment',
        source: 'chart',
        podLabels: chartLabels('cert-manager', 'controller'),
        ports: [
          { port: 9402, name: 'http-metrics' },
          { port: 9403, name: 'http-healthz' }, // kubelet probes
        ],
      },
      {
        name: 'cert-manager-webhook',
        kind: 'Deployment',
        source: 'chart',
        podLabels: chartLabels('webhook', 'webhook'),
        ports: [
          { port: 10250, name: 'https' }, // Service cert-manager-webhook 443 → 10250
          { port: 6080, name: 'healthcheck' }, // kubelet probes
          { port: 9402, name: 'http-metrics' },
        ],
      },
      {
        name: 'cert-manager-cainjector',
        kind: 'Deployment',
        source: 'chart',
        podLabels: chartLabels('cainjector', 'cainjector'),
        ports: [{ port: 9402, name: 'http-metrics' }],
      },
    ],
    flows: [
      toApiServer('cert-manager/cert-manager', 'the controller watches Certificates and writes Secrets'),
      toApiServer('cert-manager/cert-manager-webhook', 'the webhook reads its serving certificate'),
      toApiServer('cert-manager/cert-manager-cainjector', 'cainjector patches webhook CA bundles'),
      fromNodes('cert-manager/cert-manager-webhook', tcp(10250), 'the API server calls the admission webhook'),
      flow(
        'cert-manager/cert-manager',
        'vault/vault',
        tcp(8200),
        'the Vault ClusterIssuer signs certificates with Vault PKI',
      ),
      flow(
        'kube-prometheus-stack/prometheus',
        'cert-manager/cert-manager',
        tcp(9402),
        'Prometheus scrapes certificate expiry metrics',
      ),
    ],
  };
}
