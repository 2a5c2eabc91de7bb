/**
 * Argo CD (seed: polls Gitea every 3 min, ServerSideApply, selfHeal, prune; never pulls from
 * GitHub). Installed first by the Ansible argocd role from the airgap registry, then adopted by
 * this Application so its configuration is also in Git.
 */

import { flow, tcp, toApiServer, toRegistry } from '../blocks/flows.ts';
import type { Context } from '../engine/context.ts';
import type { Component } from '../engine/types.ts';

const ns = 'argocd';
const label = (name: string) => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': 'argocd' });

/**
 * Argo CD has no health check for Applications by default (since 1.8), so app-of-apps sync waves
 * would not wait for a component to be healthy; this restores it (Argo CD docs, "Sync Waves").
 */
const applicationHealth = `hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
`;

export function argocd(ctx: Context): Component {
  const p = ctx.imageParts('argocd');
  const redis = ctx.imageParts('redis');
  return {
    name: 'argocd',
    namespace: ns,
    podSecurity: 'baseline',
    summary: 'Argo CD: syncs deploy/ from the in-cluster Gitea (app-of-apps, computed sync waves)',
    helm: {
      chart: 'argo-cd',
      values: {
        global: {
          // Every Argo CD container (server, repo-server + copyutil, controller, applicationset,
          // redis-secret-init hook) is `repository:tag` from here (no digest key), so `tag@digest`
          // pins them all. Side effect: the chart derives `app.kubernetes.io/version` from this tag
          // (`v3.4.4-sha256-2fb3…`, sanitised, cut at 63): a valid but odd label value.
          image: { repository: p.repositoryWithRegistry, tag: p.tagAtDigest },
          podLabels: { app: 'argocd', tier: 'gitops' },
        },
        redis: { image: { repository: redis.repositoryWithRegistry, tag: redis.tagAtDigest } },
        dex: { enabled: false },
        notifications: { enabled: false },
        configs: {
          // TLS ends at Traefik (argocd.<domain>).
          params: { 'server.insecure': true },
          cm: {
            url: `https://${ctx.host('argocd')}`,
            // Seed: Argo CD polls Gitea every 3 minutes.
            'timeout.reconciliation': '180s',
            'resource.customizations.health.argoproj.io_Application': applicationHealth,
          },
        },
      },
    },
    providesCrds: ['applications.argoproj.io', 'applicationsets.argoproj.io', 'appprojects.argoproj.io'],
    objects: [],
    workloads: [
      {
        name: 'argocd-server',
        kind: 'Deployment',
        source: 'chart',
        podLabels: label('argocd-server'),
        ports: [
          { port: 8080, name: 'server' },
          { port: 8083, name: 'metrics' },
        ],
      },
      {
        name: 'argocd-repo-server',
        kind: 'Deployment',
        source: 'chart',
        podLabels: label('argocd-repo-server'),
        ports: [
          { port: 8081, name: 'repo-server' },
          { port: 8084, name: 'metrics' },
        ],
      },
      {
        name: 'argocd-application-controller',
        kind: 'StatefulSet',
        source: 'chart',
        podLabels: label('argocd-application-controller'),
        ports: [{ port: 8082, name: 'metrics' }],
      },
      {
        name: 'argocd-applicationset-controller',
        kind: 'Deployment',
        source: 'chart',
        podLabels: label('argocd-applicationset-controller'),
        ports: [
          { port: 7000, name: 'webhook' },
          { port: 8080, name: 'metrics' },
          { port: 8081, name: 'probe' },
        ],
      },
      {
        name: 'argocd-redis',
        kind: 'Deployment',
        source: 'chart',
        podLabels: label('argocd-redis'),
        ports: [{ port: 6379, name: 'redis' }],
      },
      {
        name: 'argocd-redis-secret-init',
        kind: 'Job',
        source: 'chart',
        podLabels: label('argocd-redis-secret-init'),
        ports: [],
      },
    ],
    flows: [
      toApiServer('argocd/argocd-server', 'the UI/API reads and writes Applications'),
      toApiServer('argocd/argocd-application-controller', 'the controller applies every manifest'),
      toApiServer('argocd/argocd-applicationset-controller', 'ApplicationSets generate Applications'),
      toApiServer('argocd/argocd-redis-secret-init', 'the init job writes the Redis password Secret'),
      flow(
        'argocd/argocd-server',
        'argocd/argocd-repo-server',
        tcp(8081),
        'the server asks the repo server for manifests',
      ),
      flow(
        'argocd/argocd-application-controller',
        'argocd/argocd-repo-server',
        tcp(8081),
        'the controller gets rendered manifests',
      ),
      flow(
        'argocd/argocd-applicationset-controller',
        'argocd/argocd-repo-server',
        tcp(8081),
        'generators read the repository',
      ),
      flow('argocd/argocd-server', 'argocd/argocd-redis', tcp(6379), 'cache'),
      flow('argocd/argocd-application-controller', 'argocd/argocd-redis', tcp(6379), 'cache'),
      flow('argocd/argocd-repo-server', 'argocd/argocd-redis', tcp(6379), 'cache'),
      flow('argocd/argocd-repo-server', 'gitea/gitea', tcp(3000), 'Argo CD clones deploy/ from Gitea (never GitHub)'),
      toRegistry(
        'argocd/argocd-repo-server',
        ctx.site.registry,
        'Helm charts come from the airgap registry as OCI artifacts',
      ),
      flow(
        'kube-prometheus-stack/prometheus',
        'argocd/argocd-application-controller',
        tcp(8082),
        'Prometheus scrapes Argo CD metrics',
      ),
    ],
  };
}
