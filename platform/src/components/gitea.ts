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
    // Gitea's pod (the rootless image, securityContext below) and the runner alike meet restricted: the runner needs
    // no container engine, since `lumen image build` assembles images without one (docs/image.md).
    podSecurity: 'restricted',
    summary:
      'Gitea (rootless, SQLite on a PVC, Actions on) and its runner (host mode, Node.js, no container engine); token synced from Vault',
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
  // Restricted Pod Security for every container: non-root, no privilege escalation, no capabilities, the runtime's
  // seccomp profile.
  const restricted = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'] },
    runAsNonRoot: true,
    runAsUser: 1000,
    runAsGroup: 1000,
    seccompProfile: { type: 'RuntimeDefault' as const },
  };
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
            securityContext: { fsGroup: 1000, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
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
                  // Jobs run in the runner's own container (host mode): there is no container engine in the
                  // cluster, and none is needed (.gitea/workflows: npm scripts and lumen commands only).
                  { name: 'GITEA_RUNNER_LABELS', value: 'lumen:host' },
                  { name: 'HOME', value: '/data' },
                  // Node.js and npm for the jobs, copied from the carried node image by the init container.
                  { name: 'PATH', value: '/opt/node/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
                  { name: 'LD_LIBRARY_PATH', value: '/opt/node/libs' },
                ],
                resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '2', memory: '4Gi' } },
                securityContext: restricted,
                volumeMounts: [
                  { name: 'data', mountPath: '/data' },
                  { name: 'node', mountPath: '/opt/node', readOnly: true },
                ],
              },
            ],
            initContainers: [
              {
                // The node image and the runner image are both Alpine (musl): its Node.js, npm and the C++ runtime
                // they link run in the runner as they do in the node image.
                name: 'node',
                image: ctx.image('node'),
                command: [
                  'sh',
                  '-c',
                  'cp -a /usr/local/bin /usr/local/lib /opt/node/ && mkdir -p /opt/node/libs && cp -L /usr/lib/libstdc++.so.6 /usr/lib/libgcc_s.so.1 /opt/node/libs/',
                ],
                resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
                securityContext: restricted,
                volumeMounts: [{ name: 'node', mountPath: '/opt/node' }],
              },
            ],
            volumes: [
              { name: 'data', emptyDir: {} },
              { name: 'node', emptyDir: {} },
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
