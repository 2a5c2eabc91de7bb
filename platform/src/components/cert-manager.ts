/** cert-manager (seed: wave 0, CRDs Certificate/ClusterIssuer; renews certificates 30 days before expiry). */
import type { Context } from '../context.ts';
import { flow, fromNodes, tcp, toApiServer } from '../flows.ts';
import type { Component } from '../types.ts';

const ns = 'cert-manager';
const chartLabels = (name: string, component: string) => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/instance': 'cert-manager',
  'app.kubernetes.io/component': component,
});

export function certManager(ctx: Context): Component {
  const img = (name: string) => {
    const p = ctx.imageParts(name);
    // With `digest` set the chart renders [registry/]repository@digest and ignores `tag`.
    return { registry: p.registry, repository: p.repository, digest: p.digest };
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
        // cert-manager ≥ 1.18 composes default image names from these; every image below is explicit anyway.
        imageRegistry: ctx.site.registry,
        image: img('cert-manager-controller'),
        webhook: { image: img('cert-manager-webhook') },
        cainjector: { image: img('cert-manager-cainjector') },
        // Its image is not carried across the gap; Argo CD's health checks tell when the webhook serves.
        startupapicheck: { enabled: false },
        podLabels: { app: 'cert-manager', tier: 'security' },
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
        ports: [{ port: 9402 }],
      },
      {
        name: 'cert-manager-webhook',
        kind: 'Deployment',
        source: 'chart',
        podLabels: chartLabels('webhook', 'webhook'),
        ports: [{ port: 10250 }],
      },
      {
        name: 'cert-manager-cainjector',
        kind: 'Deployment',
        source: 'chart',
        podLabels: chartLabels('cainjector', 'cainjector'),
        ports: [],
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
