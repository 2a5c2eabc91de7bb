/**
 * Consistency: selectors that select something real (ServiceMonitor exactly one Service),
 * plaintext secrets in every place they hide, inventory images pinned by digest, and sync
 * waves that put every CRD before its custom resources.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseReference } from '@lumen/oci';
import { buildCluster } from '../src/cluster.ts';
import { checkImages } from '../src/rules/image-pinned.ts';
import { checkSecrets } from '../src/rules/plaintext-secret.ts';
import { checkSelectors } from '../src/rules/selector.ts';
import { checkSyncWaves } from '../src/rules/sync-wave.ts';
import type { K8sObject, PlatformFacts } from '../src/types.ts';

function cluster(objs: object[], facts: PlatformFacts = { components: [] }, file = 'deploy/app/x.yaml') {
  return buildCluster(
    objs.map((obj, index) => ({ file, index, obj: obj as K8sObject, underTest: true })),
    facts,
  );
}

const deployment = (name: string, labels: Record<string, string>, env: object[] = [], image = 'x') => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'app' },
  spec: {
    selector: { matchLabels: labels },
    template: { metadata: { labels }, spec: { containers: [{ name: 'c', image, env }] } },
  },
});
const service = (name: string, selector: Record<string, string>, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'app', labels },
  spec: { selector },
});

describe('selectors', () => {
  test('a ServiceMonitor must select exactly one Service (three means every pod scraped three times)', () => {
    const sm = {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'api', namespace: 'app' },
      spec: { selector: { matchLabels: { app: 'api' } }, endpoints: [{ port: 'admin' }] },
    };
    const w = deployment('api', { app: 'api' });
    const one = checkSelectors(cluster([w, sm, service('api', { app: 'api' }, { app: 'api' })]));
    assert.deepEqual(one, []);
    const three = checkSelectors(
      cluster([w, sm, ...['a', 'b', 'c'].map((n) => service(n, { app: 'api' }, { app: 'api' }))]),
    );
    assert.equal(three.length, 1);
    assert.match(three[0]?.reason ?? '', /selects 3/);
    assert.match(checkSelectors(cluster([w, sm]))[0]?.reason ?? '', /selects 0/);
  });
  test('an HPA must target a workload of its namespace', () => {
    const hpa = (name: string) => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'h', namespace: 'app' },
      spec: { scaleTargetRef: { kind: 'Deployment', name }, maxReplicas: 2 },
    });
    assert.deepEqual(checkSelectors(cluster([deployment('api', { app: 'api' }), hpa('api')])), []);
    assert.equal(checkSelectors(cluster([deployment('api', { app: 'api' }), hpa('apx')])).length, 1);
  });
  test('a PDB and a NetworkPolicy must select pods; chart workloads from the facts count', () => {
    const pdb = {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'p', namespace: 'app' },
      spec: { selector: { matchLabels: { app: 'chart' } } },
    };
    assert.equal(checkSelectors(cluster([pdb])).length, 1);
    const facts: PlatformFacts = {
      components: [
        {
          name: 'c',
          namespace: 'app',
          wave: 0,
          workloads: [{ name: 'chart', namespace: 'app', podLabels: { app: 'chart' }, ports: [] }],
        },
      ],
    };
    assert.deepEqual(checkSelectors(cluster([pdb], facts)), []);
  });
  test('a chaos experiment without namespaces targets its own namespace', () => {
    const chaos = {
      apiVersion: 'chaos-mesh.org/v1alpha1',
      kind: 'NetworkChaos',
      metadata: { name: 'lat', namespace: 'chaos' },
      spec: { action: 'delay', mode: 'all', selector: { labelSelectors: { app: 'api' } } },
    };
    assert.equal(checkSelectors(cluster([deployment('api', { app: 'api' }), chaos])).length, 1);
    const targeted = {
      ...chaos,
      spec: { ...chaos.spec, selector: { namespaces: ['app'], labelSelectors: { app: 'api' } } },
    };
    assert.deepEqual(checkSelectors(cluster([deployment('api', { app: 'api' }), targeted])), []);
  });
});

describe('plaintext secrets', () => {
  const reasons = (objs: object[]) => checkSecrets(cluster(objs)).map((v) => v.reason);
  test('secret-named env values must come from valueFrom', () => {
    assert.equal(reasons([deployment('a', { app: 'a' }, [{ name: 'REDIS_PASSWORD', value: 'hunter2' }])]).length, 1);
    assert.deepEqual(
      reasons([
        deployment('a', { app: 'a' }, [
          { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        ]),
      ]),
      [],
    );
    assert.deepEqual(reasons([deployment('a', { app: 'a' }, [{ name: 'PORT', value: '8080' }])]), []);
  });
  test('a DSN with a password is a plaintext secret whatever the variable is called', () => {
    const r = reasons([
      deployment('a', { app: 'a' }, [{ name: 'PG_RW_DSN', value: 'postgres://app:s3cret@db:5432/app' }]),
    ]);
    assert.match(r[0] ?? '', /URL with a password/);
  });
  test('Helm values of an Argo CD Application are searched (values text and valuesObject)', () => {
    const app = (helm: object) => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'gitea', namespace: 'argocd' },
      spec: { source: { helm } },
    });
    assert.match(reasons([app({ values: 'runner:\n  token: abc123\n' })])[0] ?? '', /runner\.token/);
    assert.match(reasons([app({ valuesObject: { admin: { password: 'x' } } })])[0] ?? '', /admin\.password/);
    assert.deepEqual(reasons([app({ valuesObject: { admin: { existingSecret: 'gitea-admin', password: '' } } })]), []);
  });
  test('a private key in a ConfigMap is found', () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'app' },
      data: { 'k.pem': `-----BEGIN EC ${'PRIVATE'} KEY-----\nMHc=` },
    };
    assert.match(reasons([cm])[0] ?? '', /private key/);
  });
  test('an Argo CD repository declaration without credentials is not a secret; with a password it is', () => {
    const repo = (data: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'repo', namespace: 'argocd', labels: { 'argocd.argoproj.io/secret-type': 'repository' } },
      stringData: data,
    });
    assert.deepEqual(reasons([repo({ url: 'r:5000/charts', type: 'helm', enableOCI: 'true' })]), []);
    assert.equal(reasons([repo({ url: 'r:5000/charts', password: 'x' })]).length, 1);
  });
  test('a Secret without data (filled by Vault Secrets Operator) is fine', () => {
    assert.deepEqual(reasons([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'app' } }]), []);
  });
});

describe('images', () => {
  const digest = `sha256:${'d'.repeat(64)}`;
  const inventory = {
    site: { registry: 'r:5000' },
    images: [{ name: 'redis', source: 'docker.io/library/redis', tag: '7', digest }],
  };
  const reasons = (image: string) =>
    checkImages(cluster([deployment('a', { app: 'a' }, [], image)]), inventory).map((v) => v.reason);
  test('an inventory image pinned by its locked digest passes', () =>
    assert.deepEqual(reasons(`r:5000/library/redis:7@${digest}`), []));
  test('a tag without digest is not pinned', () =>
    assert.match(reasons('r:5000/library/redis:7')[0] ?? '', /not pinned/));
  test('an image the inventory does not hold is refused', () =>
    assert.match(reasons(`r:5000/library/nginx:1@${digest}`)[0] ?? '', /not in the inventory/));
  test('a digest the lock does not hold is refused', () =>
    assert.match(reasons(`r:5000/library/redis:7@sha256:${'e'.repeat(64)}`)[0] ?? '', /does not hold/));
  test('images set in Helm values are inventory images from the airgap registry, pinned', () => {
    const app = (image: Record<string, string>) => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'cache', namespace: 'argocd' },
      spec: { sources: [{ chart: 'redis', helm: { valuesObject: { master: { image } } } }] },
    });
    const check = (image: Record<string, string>) => checkImages(cluster([app(image)]), inventory).map((x) => x.reason);
    assert.deepEqual(check({ registry: 'r:5000', repository: 'library/redis', tag: `7@${digest}` }), []);
    assert.deepEqual(check({ repository: 'r:5000/library/redis', tag: '7', digest }), []);
    assert.match(check({ repository: 'library/redis', tag: `7@${digest}` })[0] ?? '', /names no registry/);
    assert.match(
      check({ registry: 'docker.io', repository: 'library/redis', tag: '7' })[0] ?? '',
      /not in the airgap registry/,
    );
    assert.match(check({ registry: 'r:5000', repository: 'library/redis', tag: '7' })[0] ?? '', /not pinned/);
  });
  test('charts come from the airgap registry at an inventory version', () => {
    const withCharts = { ...inventory, charts: [{ chart: 'metallb', version: '0.15.2' }] };
    const app = (repoURL: string, targetRevision: string) => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'metallb', namespace: 'argocd' },
      spec: { sources: [{ chart: 'metallb', repoURL, targetRevision }] },
    });
    const check = (repoURL: string, rev: string) =>
      checkImages(cluster([app(repoURL, rev)]), withCharts).map((x) => x.reason);
    assert.deepEqual(check('r:5000/charts', '0.15.2'), []);
    assert.deepEqual(check('oci://r:5000/charts', '0.15.2'), []);
    assert.match(check('https://metallb.github.io/metallb', '0.15.2')[0] ?? '', /not from the airgap registry/);
    assert.match(check('r:5000/charts', '0.15.3')[0] ?? '', /not a chart version of the inventory/);
  });
  test('references parse with a host:port registry (the one parser, @lumen/oci, that the rule uses)', () => {
    assert.deepEqual(parseReference(`192.168.2.2:5000/library/redis:7@${digest}`), {
      registry: '192.168.2.2:5000',
      repository: 'library/redis',
      tag: '7',
      digest,
    });
    assert.deepEqual(parseReference('192.168.2.2:5000/library/redis'), {
      registry: '192.168.2.2:5000',
      repository: 'library/redis',
    });
  });
});

describe('sync waves', () => {
  const facts: PlatformFacts = {
    components: [
      { name: 'rollouts', namespace: 'argo-rollouts', wave: 2, providesCrds: ['rollouts.argoproj.io'] },
      { name: 'app', namespace: 'app', wave: 3, path: 'deploy/app' },
      { name: 'early', namespace: 'app', wave: 1, path: 'deploy/early' },
    ],
  };
  const rollout = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'r', namespace: 'app' },
    spec: {},
  };
  test('a custom resource in a later wave than its CRD provider passes', () => {
    assert.deepEqual(checkSyncWaves(cluster([rollout], facts, 'deploy/app/r.yaml')), []);
  });
  test('a component synced before the CRD provider fails', () => {
    const v = checkSyncWaves(cluster([rollout], facts, 'deploy/early/r.yaml'));
    assert.match(v[0]?.reason ?? '', /wave 1 .* wave 2/);
  });
  test('a CRD nobody provides fails', () => {
    const odd = { apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't', namespace: 'app' } };
    assert.match(checkSyncWaves(cluster([odd], facts))[0]?.reason ?? '', /no component provides/);
  });
  test('Constraints need their ConstraintTemplate in an earlier resource wave of the same component', () => {
    const gk: PlatformFacts = {
      components: [
        { name: 'gatekeeper', namespace: 'gk', wave: 0, providesCrds: ['constrainttemplates.templates.gatekeeper.sh'] },
        { name: 'policies', namespace: 'gk', wave: 1, path: 'deploy/app' },
      ],
    };
    const tmpl = (wave: string) => ({
      apiVersion: 'templates.gatekeeper.sh/v1',
      kind: 'ConstraintTemplate',
      metadata: { name: 'k', annotations: { 'argocd.argoproj.io/sync-wave': wave } },
      spec: { crd: { spec: { names: { kind: 'K' } } } },
    });
    const c = {
      apiVersion: 'constraints.gatekeeper.sh/v1beta1',
      kind: 'K',
      metadata: { name: 'c', annotations: { 'argocd.argoproj.io/sync-wave': '1' } },
    };
    assert.deepEqual(checkSyncWaves(cluster([tmpl('0'), c], gk)), []);
    assert.equal(checkSyncWaves(cluster([tmpl('1'), c], gk)).length, 1);
  });
});
