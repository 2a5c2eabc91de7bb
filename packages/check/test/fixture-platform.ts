/**
 * The fixture platform the check tests run on: a small but complete deploy/ (namespaces,
 * lumen-api Rollout, Redis, CloudNativePG, NetworkPolicies, ServiceMonitor, PDB, HPA) plus the
 * Gatekeeper policies as the repository's deploy/ holds them (the rendered copies that are
 * deployed; @lumen/check never imports the platform that renders them) — and the inventory,
 * platform facts and matrix that go with it.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { InventoryView, NetworkMatrix, PlatformFacts } from '../src/types.ts';

export const fixtures = join(import.meta.dirname, 'fixtures');

const digest = (c: string) => `sha256:${c.repeat(64)}`;

/** The site registry of the repository's inventory, which deploy/'s Constraints name. */
export const registry = '192.168.2.2:5000';

const renderedPolicies = join(import.meta.dirname, '..', '..', '..', 'deploy', 'components');

/** lumen's ConstraintTemplates and Constraints, read from the committed deploy/ (templates first). */
export function policies(): Array<Record<string, unknown>> {
  return ['gatekeeper-templates', 'gatekeeper-constraints'].flatMap((dir) =>
    readdirSync(join(renderedPolicies, dir))
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .flatMap((f) =>
        parseAllDocuments(readFileSync(join(renderedPolicies, dir, f), 'utf8')).map(
          (d) => d.toJS() as Record<string, unknown>,
        ),
      ),
  );
}

export const inventory: InventoryView = {
  site: { registry },
  images: [
    { name: 'lumen-api', tag: '1.0.0', digest: digest('a'), airgapPath: 'lumen/lumen-api' },
    { name: 'redis', source: 'docker.io/library/redis', tag: '7.4.1', digest: digest('b') },
    { name: 'postgresql', source: 'ghcr.io/cloudnative-pg/postgresql', tag: '17.2', digest: digest('c') },
  ],
};

export const facts: PlatformFacts = {
  components: [
    { name: 'namespaces', namespace: 'default', wave: 0, path: 'deploy/namespaces' },
    {
      name: 'gatekeeper',
      namespace: 'gatekeeper-system',
      wave: 0,
      providesCrds: ['constrainttemplates.templates.gatekeeper.sh'],
    },
    { name: 'gatekeeper-policies', namespace: 'gatekeeper-system', wave: 1, path: 'deploy/gatekeeper' },
    {
      name: 'traefik',
      namespace: 'traefik',
      wave: 1,
      path: 'deploy/traefik',
      providesCrds: ['traefik.io/IngressRoute'],
      workloads: [
        {
          name: 'traefik',
          namespace: 'traefik',
          podLabels: { 'app.kubernetes.io/name': 'traefik' },
          ports: [
            { name: 'web', port: 8000, protocol: 'TCP' },
            { name: 'websecure', port: 8443, protocol: 'TCP' },
          ],
        },
      ],
    },
    {
      name: 'prometheus',
      namespace: 'monitoring',
      wave: 1,
      path: 'deploy/monitoring',
      providesCrds: ['servicemonitors.monitoring.coreos.com', 'monitoring.coreos.com/PodMonitor'],
      workloads: [
        {
          name: 'prometheus',
          namespace: 'monitoring',
          podLabels: { 'app.kubernetes.io/name': 'prometheus' },
          ports: [{ name: 'web', port: 9090, protocol: 'TCP' }],
        },
      ],
    },
    { name: 'cnpg', namespace: 'cnpg-system', wave: 1, providesCrds: ['clusters.postgresql.cnpg.io'] },
    { name: 'argo-rollouts', namespace: 'argo-rollouts', wave: 2, providesCrds: ['rollouts.argoproj.io'] },
    {
      name: 'chaos-mesh',
      namespace: 'chaos-mesh',
      wave: 2,
      providesCrds: ['podchaos.chaos-mesh.org', 'networkchaos.chaos-mesh.org'],
    },
    { name: 'lumen', namespace: 'lumen', wave: 3, path: 'deploy/lumen' },
    { name: 'lumen-db', namespace: 'lumen-db', wave: 3, path: 'deploy/lumen-db' },
  ],
  builtinWorkloads: [
    {
      name: 'coredns',
      namespace: 'kube-system',
      podLabels: { 'k8s-app': 'kube-dns' },
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
    },
  ],
};

const api = 'lumen/lumen-api';
export const matrix: NetworkMatrix = {
  externals: {
    internet: { ip: '8.8.8.8', ports: [{ port: 53, protocol: 'UDP' }, { port: 443 }] },
    'airgap-registry': { ip: '192.168.2.2', ports: [{ port: 5000 }] },
  },
  exact: [api],
  allow: [
    { from: 'traefik/traefik', to: api, port: 8080 },
    { from: 'monitoring/prometheus', to: api, port: 9090 },
    { from: api, to: 'lumen/redis', port: 6379 },
    { from: api, to: 'lumen/redis-sentinel', port: 26379 },
    { from: api, to: 'lumen-db/lumen-db', port: 5432 },
    { from: api, to: 'kube-system/coredns', port: 53, protocol: 'UDP' },
    { from: api, to: 'kube-system/coredns', port: 53, protocol: 'TCP' },
  ],
};

/** A temporary copy of the fixture platform as `<dir>/deploy`; call `cleanup()` in `after()`. */
export function makeFixturePlatform(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-check-'));
  const deploy = join(dir, 'deploy');
  cpSync(join(fixtures, 'platform'), deploy, { recursive: true });
  mkdirSync(join(deploy, 'gatekeeper'), { recursive: true });
  writeFileSync(
    join(deploy, 'gatekeeper', 'policies.yaml'),
    policies()
      .map((o) => stringify(o))
      .join('---\n'),
  );
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Options for runCheck on the fixture platform rooted at `dir`. */
export function fixtureOptions(dir: string) {
  return { cwd: dir, deployDir: 'deploy', inventory, facts, matrix, matrixFile: 'matrix' };
}
