/**
 * Gitea (seed: the airgap git server Argo CD pulls from) and its act_runner. The runner's
 * registration token comes from Vault through a VaultStaticSecret — never committed (the public
 * implementation committed it in plain text).
 */
import { Deployment } from 'kubernetes-models/apps/v1';
import { ServiceAccount } from 'kubernetes-models/v1';
import { flow, tcp, toRegistry } from '../blocks/flows.ts';
import { selectorLabels, workloadLabels } from '../blocks/pods.ts';
import { kvMount, vaultAccess } from '../blocks/vault-access.ts';
import type { Context } from '../engine/context.ts';
import { vaultStaticSecret } from '../engine/crd-types.ts';
import { plain } from '../engine/serialize.ts';
import type { Component } from '../engine/types.ts';

const ns = 'gitea';
export const giteaPodLabels = { 'app.kubernetes.io/name': 'gitea', 'app.kubernetes.io/instance': 'gitea' };

export function gitea(ctx: Context): Component {
  const p = ctx.imageParts('gitea');
  const runner = actRunner(ctx);
  return {
    name: 'gitea',
    namespace: ns,
    // The runner's rootless buildkitd needs seccomp/AppArmor unconfined, which "baseline" refuses.
    // Gitea's own pod still runs the rootless image with a restricted securityContext (set below).
    podSecurity: 'privileged',
    summary:
      'Gitea (rootless, SQLite on a PVC, Actions on) and its runner with rootless BuildKit; token synced from Vault',
    helm: {
      chart: 'gitea',
      values: {
        // The chart builds `<registry>/<repository>:<tag>-rootless@<digest>` and puts `tag` into the
        // `version` labels: the tag goes without the suffix and without the digest (which has its own key).
        image: {
          registry: p.registry,
          repository: p.repository,
          tag: rootlessBase(p.tag),
          rootless: true,
          digest: p.digest,
        },
        // One pod on a ReadWriteOnce volume holding SQLite and the level queue: the old pod must stop
        // before the new one opens them (the chart's default RollingUpdate surges a second pod).
        strategy: { type: 'Recreate' },
        podSecurityContext: { fsGroup: 1000, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        // Init containers and Gitea alike (the rootless image runs as uid 1000; /tmp and /data are volumes).
        containerSecurityContext: {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          runAsUser: 1000,
          runAsGroup: 1000,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
        initContainers: {
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
        },
        // Gitea never calls the Kubernetes API: its own service account, without a token (else the namespace's default one is mounted).
        serviceAccount: { create: true, automountServiceAccountToken: false },
        // The chart's helm-test Pod runs busybox:latest, which is not carried (and Argo CD never runs test hooks).
        test: { enabled: false },
        // The chart's bundled PostgreSQL/Valkey run images not carried across the gap; SQLite suffices for one node.
        postgresql: { enabled: false },
        'postgresql-ha': { enabled: false },
        'valkey-cluster': { enabled: false },
        valkey: { enabled: false },
        persistence: { enabled: true, size: '10Gi' },
        gitea: {
          // No admin from the chart: its default is gitea_admin with a password published in the chart's
          // values.yaml. The bootstrap creates the administrator; registration stays closed until then
          // (Gitea makes the first user to sign up an administrator).
          admin: { username: '', password: '' },
          config: {
            service: { DISABLE_REGISTRATION: true },
            server: { ROOT_URL: `https://${ctx.host('gitea')}/`, DOMAIN: ctx.host('gitea') },
            database: { DB_TYPE: 'sqlite3' },
            session: { PROVIDER: 'db' },
            cache: { ADAPTER: 'memory' },
            queue: { TYPE: 'level' },
            actions: { ENABLED: true },
          },
        },
        // The chart has no podLabels: deployment.labels go on the Deployment and its pods (which already carry app: gitea).
        deployment: { labels: { tier: 'gitops' } },
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
        // Services gitea-http (headless, 3000) and gitea-ssh (headless, 22 -> 2222).
        ports: [
          { port: 3000, protocol: 'TCP', name: 'http' },
          { port: 2222, protocol: 'TCP', name: 'ssh' },
        ],
      },
      ...runner.workloads,
    ],
    flows: runner.flows,
  };
}

/** `1.27.3-rootless` -> `1.27.3`: the chart appends `-rootless` itself when `image.rootless` is set. */
function rootlessBase(tag: string): string {
  if (!tag.endsWith('-rootless')) throw new Error(`gitea: image tag ${tag} is not a -rootless tag`);
  return tag.slice(0, -'-rootless'.length);
}

/**
 * The runner as lumen's own Deployment rather than the `actions` chart (inventory `gitea-actions`,
 * 0.1.2, which no Application installs): that chart always adds a privileged Docker-in-Docker sidecar
 * (docker:29.5.2-dind, privileged even when rootless) and a busybox "reach-gitea" init container,
 * neither of whose images is carried, and its runner config requires Docker. Its token Secret would have
 * been the VaultStaticSecret below.
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
