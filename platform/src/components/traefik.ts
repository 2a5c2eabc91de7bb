/**
 * Traefik (seed: DaemonSet on both nodes, :80 → HTTPS redirect, :443 TLS termination with
 * cert-manager certificates, IngressRoutes by Host) behind a MetalLB LoadBalancer address.
 */

import { flow, tcp, toApiServer } from '../blocks/flows.ts';
import type { Context } from '../engine/context.ts';
import type { Component } from '../engine/types.ts';

const ns = 'traefik';
export const traefikPodLabels = {
  'app.kubernetes.io/name': 'traefik',
  'app.kubernetes.io/instance': 'traefik-traefik',
};

export function traefik(ctx: Context): Component {
  const p = ctx.imageParts('traefik');
  return {
    name: 'traefik',
    namespace: ns,
    podSecurity: 'restricted',
    summary: 'Traefik ingress: DaemonSet, LoadBalancer from MetalLB, HTTP→HTTPS redirect, TLS from cert-manager',
    helm: {
      chart: 'traefik',
      values: {
        // The chart splits image.tag at '@' for its version checks (proxy-min/max-version), so
        // `tag@digest` renders `<registry>/library/traefik:v3.7.9@sha256:…`. image.digest would
        // render `…@sha256:…` without a tag, which LumenImageTag refuses.
        image: { registry: p.registry, repository: p.repository, tag: p.tagAtDigest },
        deployment: { kind: 'DaemonSet', podLabels: { app: 'traefik', tier: 'edge' } },
        service: { spec: { type: 'LoadBalancer' } },
        // Chart 41 moved entry point options under `http` (the old `redirections`/`tls` keys fail its schema).
        ports: {
          web: { http: { redirections: { entryPoint: { to: 'websecure', scheme: 'https', permanent: true } } } },
          websecure: { http: { tls: { enabled: true } } },
        },
        providers: {
          // Routes to UIs in other namespaces (Argo CD, Grafana, Gitea) live in this namespace with their certificates.
          kubernetesCRD: { enabled: true, allowCrossNamespace: true },
          kubernetesIngress: { enabled: false },
        },
        // No Ingress provider, so no (default) IngressClass that nothing would serve.
        ingressClass: { enabled: false },
        ingressRoute: { dashboard: { enabled: false } },
        metrics: { prometheus: { entryPoint: 'metrics' } },
        log: { format: 'json' },
        accessLog: { enabled: true, format: 'json' },
        gateway: { enabled: false },
        // Airgap: no version check against the internet, no usage reporting.
        global: { checkNewVersion: false, sendAnonymousUsage: false },
      },
    },
    providesCrds: [
      'ingressroutes.traefik.io',
      'ingressroutetcps.traefik.io',
      'ingressrouteudps.traefik.io',
      'middlewares.traefik.io',
      'middlewaretcps.traefik.io',
      'serverstransports.traefik.io',
      'serverstransporttcps.traefik.io',
      'tlsoptions.traefik.io',
      'tlsstores.traefik.io',
      'traefikservices.traefik.io',
      // The chart's crds/ also holds the Traefik Hub CRDs; Argo CD applies the whole directory
      // (no value turns them off), so this component installs them too, unused.
      'accesscontrolpolicies.hub.traefik.io',
      'aiservices.hub.traefik.io',
      'apiauths.hub.traefik.io',
      'apibundles.hub.traefik.io',
      'apicatalogitems.hub.traefik.io',
      'apiplans.hub.traefik.io',
      'apiportalauths.hub.traefik.io',
      'apiportals.hub.traefik.io',
      'apiratelimits.hub.traefik.io',
      'apis.hub.traefik.io',
      'apiversions.hub.traefik.io',
      'contentitems.hub.traefik.io',
      'managedapplications.hub.traefik.io',
      'managedsubscriptions.hub.traefik.io',
      'uplinks.hub.traefik.io',
    ],
    objects: [],
    workloads: [
      {
        name: 'traefik',
        kind: 'DaemonSet',
        source: 'chart',
        podLabels: traefikPodLabels,
        ports: [
          { port: 8000, name: 'web' },
          { port: 8443, name: 'websecure' },
          { port: 9100, name: 'metrics' },
          { port: 8080, name: 'traefik' },
        ],
      },
    ],
    flows: [
      flow('@world', 'traefik/traefik', tcp(8000, 8443), 'clients reach the LoadBalancer address on :80/:443'),
      toApiServer('traefik/traefik', 'Traefik watches IngressRoutes, Services and Secrets'),
      flow('kube-prometheus-stack/prometheus', 'traefik/traefik', tcp(9100), 'Prometheus scrapes Traefik metrics'),
    ],
  };
}
