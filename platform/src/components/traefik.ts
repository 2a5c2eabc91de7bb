/**
 * Traefik (seed: DaemonSet on both nodes, :80 → HTTPS redirect, :443 TLS termination with
 * cert-manager certificates, IngressRoutes by Host) behind a MetalLB LoadBalancer address.
 */
import type { Context } from '../context.ts';
import { flow, tcp, toApiServer } from '../flows.ts';
import type { Component } from '../types.ts';

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
        image: { registry: p.registry, repository: p.repository, tag: p.tagAtDigest },
        deployment: { kind: 'DaemonSet', podLabels: { app: 'traefik', tier: 'edge' } },
        service: { type: 'LoadBalancer' },
        ports: {
          web: { redirections: { entryPoint: { to: 'websecure', scheme: 'https', permanent: true } } },
          websecure: { tls: { enabled: true } },
        },
        providers: {
          // Routes to UIs in other namespaces (Argo CD, Grafana, Gitea) live in this namespace with their certificates.
          kubernetesCRD: { enabled: true, allowCrossNamespace: true },
          kubernetesIngress: { enabled: false },
        },
        ingressRoute: { dashboard: { enabled: false } },
        metrics: { prometheus: { entryPoint: 'metrics' } },
        logs: { general: { format: 'json' }, access: { enabled: true, format: 'json' } },
        gateway: { enabled: false },
        globalArguments: [],
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
    ],
    objects: [],
    workloads: [
      {
        name: 'traefik',
        kind: 'DaemonSet',
        source: 'chart',
        podLabels: traefikPodLabels,
        ports: [{ port: 8000 }, { port: 8443 }, { port: 9100 }, { port: 8080 }],
      },
    ],
    flows: [
      flow('@world', 'traefik/traefik', tcp(8000, 8443), 'clients reach the LoadBalancer address on :80/:443'),
      toApiServer('traefik/traefik', 'Traefik watches IngressRoutes, Services and Secrets'),
      flow('kube-prometheus-stack/prometheus', 'traefik/traefik', tcp(9100), 'Prometheus scrapes Traefik metrics'),
    ],
  };
}
