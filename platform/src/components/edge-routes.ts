/**
 * The routes to the platform UIs (seed: argocd-tls, grafana-tls, …): one Certificate from the Vault
 * issuer and one IngressRoute per UI, in the traefik namespace (Traefik allows cross-namespace
 * services), behind a shared security-headers middleware. lumen-api's own route lives with lumen-api.
 */
import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import { IngressRoute, Middleware } from '@kubernetes-models/traefik/traefik.io/v1alpha1';
import { flow, tcp } from '../blocks/flows.ts';
import type { Context } from '../engine/context.ts';
import { plain } from '../engine/serialize.ts';
import type { Component } from '../engine/types.ts';
import { clusterIssuerName } from './pki.ts';

const ns = 'traefik';

/** UI host prefix → backend Service (namespace, name, port) and the flow target it needs. */
export const uiRoutes = [
  {
    host: 'argocd',
    namespace: 'argocd',
    service: 'argocd-server',
    port: 80,
    target: 'argocd/argocd-server',
    targetPort: 8080,
  },
  {
    host: 'grafana',
    namespace: 'monitoring',
    service: 'kube-prometheus-stack-grafana',
    port: 80,
    target: 'kube-prometheus-stack/grafana',
    targetPort: 3000,
  },
  { host: 'gitea', namespace: 'gitea', service: 'gitea-http', port: 3000, target: 'gitea/gitea', targetPort: 3000 },
  { host: 'vault', namespace: 'vault', service: 'vault-ui', port: 8200, target: 'vault/vault', targetPort: 8200 },
  {
    host: 'chaos',
    namespace: 'chaos-mesh',
    service: 'chaos-dashboard',
    port: 2333,
    target: 'chaos-mesh/chaos-dashboard',
    targetPort: 2333,
  },
] as const;

export function edgeRoutes(ctx: Context): Component {
  const labels = { app: 'traefik', tier: 'edge' };
  const objects = [
    new Middleware({
      metadata: { name: 'secure-headers', namespace: ns, labels },
      spec: {
        headers: { stsSeconds: 31536000, frameDeny: true, contentTypeNosniff: true, referrerPolicy: 'no-referrer' },
      },
    }),
    ...uiRoutes.flatMap((r) => [
      new Certificate({
        metadata: { name: `${r.host}-tls`, namespace: ns, labels },
        spec: {
          secretName: `${r.host}-tls`,
          dnsNames: [ctx.host(r.host)],
          issuerRef: { kind: 'ClusterIssuer', name: clusterIssuerName, group: 'cert-manager.io' },
          duration: '2160h',
          renewBefore: '720h',
          privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        },
      }),
      new IngressRoute({
        metadata: { name: r.host, namespace: ns, labels },
        spec: {
          entryPoints: ['websecure'],
          routes: [
            {
              kind: 'Rule',
              match: `Host(\`${ctx.host(r.host)}\`)`,
              middlewares: [{ name: 'secure-headers' }],
              services: [{ name: r.service, namespace: r.namespace, port: r.port }],
            },
          ],
          tls: { secretName: `${r.host}-tls` },
        },
      }),
    ]),
  ].map(plain);
  return {
    name: 'edge-routes',
    namespace: ns,
    podSecurity: 'restricted',
    summary: 'IngressRoutes + Certificates for the Argo CD, Grafana, Gitea, Vault and Chaos Mesh UIs',
    providesCrds: [],
    objects,
    workloads: [],
    flows: uiRoutes.map((r) =>
      flow('traefik/traefik', r.target, tcp(r.targetPort), `Traefik routes ${r.host}.<domain>`),
    ),
  };
}
