/**
 * Gitea (seed: the airgap git server Argo CD pulls from) and its act_runner. The runner's
 * registration token comes from Vault through a VaultStaticSecret — never committed (the public
 * implementation committed it in plain text).
 */
import { Deployment } from 'kubernetes-models/apps/v1';
import { ServiceAccount } from 'kubernetes-models/v1';
import type { Context } from '../context.ts';
import { vaultStaticSecret } from '../crd-types.ts';
import { flow, tcp, toRegistry } from '../flows.ts';
import { selectorLabels, workloadLabels } from '../pods.ts';
import { plain } from '../serialize.ts';
import type { Component } from '../types.ts';
import { kvMount, vaultAccess } from '../vault-access.ts';

const ns = 'gitea';
export const giteaPodLabels = { 'app.kubernetes.io/name': 'gitea', 'app.kubernetes.io/instance': 'gitea' };

export function gitea(ctx: Context): Component {
  const p = ctx.imageParts('gitea');
  const runner = actRunner(ctx);
  return {
    name: 'gitea',
    namespace: ns,
    // The runner's rootless buildkitd needs seccomp/AppArmor unconfined, which "baseline" refuses.
    // Gitea's own pod still runs the rootless image with the chart's restricted securityContext.
    podSecurity: 'privileged',
    summary:
      'Gitea (rootless, SQLite on a PVC, Actions on) and its runner with rootless BuildKit; token synced from Vault',
    helm: {
      chart: 'gitea',
      values: {
        image: { registry: p.registry, repository: p.repository, tag: p.tagAtDigest, rootless: true },
        // The chart's bundled PostgreSQL/Valkey run images not carried across the gap; SQLite suffices for one node.
        postgresql: { enabled: false },
        'postgresql-ha': { enabled: false },
        'valkey-cluster': { enabled: false },
        valkey: { enabled: false },
        persistence: { enabled: true, size: '10Gi' },
        gitea: {
          config: {
            server: { ROOT_URL: `https://${ctx.host('gitea')}/`, DOMAIN: ctx.host('gitea') },
            database: { DB_TYPE: 'sqlite3' },
            session: { PROVIDER: 'db' },
            cache: { ADAPTER: 'memory' },
            queue: { TYPE: 'level' },
            actions: { ENABLED: true },
          },
        },
        podLabels: { app: 'gitea', tier: 'gitops' },
      },
    },
    providesCrds: [],
    objects: runner.objects,
    workloads: [
      {
        name: 'gitea',
        kind: 'Deployment',
        source: 'chart',
        podLabels: giteaPodLabels,
        ports: [{ port: 3000 }, { port: 2222 }],
      },
      ...runner.workloads,
    ],
    flows: runner.flows,
  };
}

/**
 * The runner as lumen's own Deployment rather than the `actions` chart: that chart adds a
 * privileged Docker-in-Docker sidecar whose image is not carried, and takes its token from a Secret
 * it expects to exist, which is exactly what the VaultStaticSecret below provides.
 */
function actRunner(ctx: Context): Pick<Component, 'objects' | 'workloads' | 'flows'> {
  const name = 'act-runner';
  const labels = workloadLabels(name, 'ci');
  const buildkit = ctx.image('buildkit');
  const objects = [
    new ServiceAccount({ metadata: { name, namespace: ns, labels }, automountServiceAccountToken: false }),
    new Deployment({
      metadata: { name, namespace: ns, labels },
      spec: {
        replicas: 1,
        // One registration per runner directory: never two pods at once.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: selectorLabels(name) },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: false,
            containers: [
              {
                name,
                image: ctx.image('act-runner'),
                env: [
                  { name: 'GITEA_INSTANCE_URL', value: `http://gitea-http.${ns}.svc.cluster.local:3000` },
                  {
                    name: 'GITEA_RUNNER_REGISTRATION_TOKEN',
                    valueFrom: { secretKeyRef: { name: 'act-runner-token', key: 'token' } },
                  },
                  { name: 'GITEA_RUNNER_NAME', value: 'lumen-runner' },
                  // Jobs run in the runner's own container: there is no Docker daemon in the cluster.
                  { name: 'GITEA_RUNNER_LABELS', value: 'lumen:host' },
                  // Jobs build images with buildctl against the rootless buildkitd sidecar.
                  { name: 'BUILDKIT_HOST', value: 'unix:///run/buildkit/buildkitd.sock' },
                  {
                    name: 'PATH',
                    value: '/opt/buildkit/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
                  },
                ],
                resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '2', memory: '2Gi' } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ['ALL'] },
                  seccompProfile: { type: 'RuntimeDefault' },
                },
                volumeMounts: [
                  { name: 'data', mountPath: '/data' },
                  { name: 'buildkit-socket', mountPath: '/run/buildkit' },
                  { name: 'buildkit-tools', mountPath: '/opt/buildkit/bin', readOnly: true },
                ],
              },
              {
                // Rootless, daemonless-for-the-node image builder: no Docker daemon anywhere.
                name: 'buildkitd',
                image: buildkit,
                args: ['--addr', 'unix:///run/buildkit/buildkitd.sock', '--oci-worker-no-process-sandbox'],
                resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '2', memory: '4Gi' } },
                // Rootless BuildKit creates user namespaces: it needs seccomp and AppArmor unconfined
                // (BuildKit docs, "Rootless mode: Kubernetes"), which is why this namespace is privileged.
                securityContext: {
                  runAsUser: 1000,
                  runAsGroup: 1000,
                  seccompProfile: { type: 'Unconfined' },
                  appArmorProfile: { type: 'Unconfined' },
                },
                volumeMounts: [
                  { name: 'buildkit-socket', mountPath: '/run/buildkit' },
                  { name: 'buildkit-state', mountPath: '/home/user/.local/share/buildkit' },
                ],
              },
            ],
            initContainers: [
              {
                name: 'buildctl',
                image: buildkit,
                command: ['cp', '/usr/bin/buildctl', '/tools/buildctl'],
                resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
                volumeMounts: [{ name: 'buildkit-tools', mountPath: '/tools' }],
              },
            ],
            volumes: [
              { name: 'data', emptyDir: {} },
              { name: 'buildkit-socket', emptyDir: {} },
              { name: 'buildkit-state', emptyDir: {} },
              { name: 'buildkit-tools', emptyDir: {} },
            ],
          },
        },
      },
    }),
  ].map(plain);
  objects.push(
    ...vaultAccess(ns, name, name),
    vaultStaticSecret(
      { name: 'act-runner-token', namespace: ns, labels },
      {
        vaultAuthRef: name,
        mount: kvMount,
        type: 'kv-v2',
        path: 'gitea/runner',
        refreshAfter: '60s',
        rolloutRestartTargets: [{ kind: 'Deployment', name }],
        destination: { name: 'act-runner-token', create: true, type: 'Opaque' },
      },
    ),
  );
  return {
    objects,
    workloads: [{ name, kind: 'Deployment', source: 'lumen', podLabels: selectorLabels(name), ports: [] }],
    flows: [
      flow(`gitea/${name}`, 'gitea/gitea', tcp(3000), 'the runner registers and polls for jobs'),
      toRegistry(`gitea/${name}`, ctx.site.registry, 'CI pushes and signs lumen-api images'),
    ],
  };
}
