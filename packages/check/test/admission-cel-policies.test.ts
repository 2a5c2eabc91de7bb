/**
 * Admission: lumen's Gatekeeper ConstraintTemplates (platform/src/policies) evaluated by the
 * CEL engine against Pods and every pod-template kind, with containers, init containers and
 * ephemeral containers; Constraint match semantics; broken policies fail the proof.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { policies } from '../../../platform/src/policies/index.ts';
import { checkAdmission } from '../src/admission.ts';
import { buildCluster } from '../src/cluster.ts';
import type { K8sObject, SourcedObject } from '../src/types.ts';

const registry = '192.168.2.2:5000';
const good = `${registry}/lumen/lumen-api:1.0.0@sha256:${'a'.repeat(64)}`;
const resources = { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '1', memory: '64Mi' } };
const labels = { app: 'x', tier: 'y' };

function podSpec(containers: Record<string, unknown>) {
  return { containers: [{ name: 'main', image: good, resources }], ...containers };
}

/** The same pod spec in every kind the policies must cover. */
function inEveryKind(spec: Record<string, unknown>, namespace = 'lumen'): K8sObject[] {
  const template = { metadata: { labels }, spec };
  const meta = (kind: string) => ({ name: kind.toLowerCase(), namespace });
  return [
    { apiVersion: 'v1', kind: 'Pod', metadata: { ...meta('Pod'), labels }, spec },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('Deployment'), spec: { selector: {}, template } },
    { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta('StatefulSet'), spec: { selector: {}, template } },
    { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta('DaemonSet'), spec: { selector: {}, template } },
    { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta('ReplicaSet'), spec: { selector: {}, template } },
    { apiVersion: 'batch/v1', kind: 'Job', metadata: meta('Job'), spec: { template } },
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: meta('CronJob'),
      spec: { schedule: '* * * * *', jobTemplate: { spec: { template } } },
    },
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      metadata: meta('Rollout'),
      spec: { selector: {}, template },
    },
  ];
}

function sourced(objs: object[]): SourcedObject[] {
  return objs.map((obj, index) => ({ file: 'inline.yaml', index, obj: obj as K8sObject, underTest: true }));
}

function admit(objs: K8sObject[], extraPolicies: object[] = policies({ registry })) {
  const cluster = buildCluster(sourced([...extraPolicies, ...objs]), { components: [] });
  return checkAdmission(cluster);
}

function rulesByKind(objs: K8sObject[]) {
  const out = new Map<string, string[]>();
  for (const v of admit(objs)) out.set(v.kind, [...(out.get(v.kind) ?? []), v.rule]);
  return out;
}

const everyKind = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Rollout'];

describe('policies cover Pods and every pod-template kind', () => {
  test('a compliant pod spec passes in every kind', () => {
    assert.deepEqual(admit(inEveryKind(podSpec({}))), []);
  });
  for (const [list, extra] of [
    ['containers', {}],
    ['initContainers', { initContainers: [{ name: 'init', image: 'docker.io/library/busybox:1.36', resources }] }],
    ['ephemeralContainers', { ephemeralContainers: [{ name: 'debug', image: 'docker.io/library/busybox:1.36' }] }],
  ] as const) {
    test(`an image from docker.io in ${list} is refused in every kind`, () => {
      const spec =
        list === 'containers'
          ? { containers: [{ name: 'main', image: 'docker.io/library/busybox:1.36', resources }] }
          : podSpec(extra);
      const byKind = rulesByKind(inEveryKind(spec));
      for (const kind of everyKind) assert.deepEqual(byKind.get(kind), ['admission/LumenAllowedRegistry'], kind);
    });
  }
  test('missing limits on an init container are refused in every kind', () => {
    const byKind = rulesByKind(
      inEveryKind(
        podSpec({ initContainers: [{ name: 'init', image: good, resources: { requests: resources.requests } }] }),
      ),
    );
    for (const kind of everyKind) assert.deepEqual(byKind.get(kind), ['admission/LumenContainerResources'], kind);
  });
  test('ephemeral containers need no resources (Kubernetes forbids them there)', () => {
    assert.deepEqual(admit(inEveryKind(podSpec({ ephemeralContainers: [{ name: 'debug', image: good }] }))), []);
  });
  test('pods without the tier label are refused in every kind', () => {
    const objs = inEveryKind(podSpec({})).map((o) =>
      JSON.parse(JSON.stringify(o).replaceAll('"tier":"y"', '"other":"y"')),
    );
    const byKind = rulesByKind(objs);
    for (const kind of everyKind) assert.deepEqual(byKind.get(kind), ['admission/LumenRequiredLabels'], kind);
  });
});

describe('image tags', () => {
  const verdict = (image: string) =>
    admit(inEveryKind({ containers: [{ name: 'main', image, resources }] }).slice(0, 1)).map((v) => v.reason);
  test('a host:port registry is not a tag', () => {
    const reasons = verdict(`${registry}/library/redis`);
    assert.equal(reasons.length, 1);
    assert.match(reasons[0] as string, /must carry a tag/);
  });
  test('a digest alone is not a tag', () => {
    assert.match(verdict(`${registry}/library/redis@sha256:${'b'.repeat(64)}`)[0] as string, /must carry a tag/);
  });
  test(':latest is refused, with or without a digest', () => {
    assert.match(verdict(`${registry}/library/redis:latest`)[0] as string, /must not use :latest/);
    assert.match(
      verdict(`${registry}/library/redis:latest@sha256:${'b'.repeat(64)}`)[0] as string,
      /must not use :latest/,
    );
  });
  test('a tag after a host:port registry is accepted', () => {
    assert.deepEqual(verdict(`${registry}/library/redis:7.4.1`), []);
    assert.deepEqual(verdict(`${registry}/library/redis:7.4.1@sha256:${'b'.repeat(64)}`), []);
  });
  test('a registry prefix that only starts like the airgap registry is refused', () => {
    assert.match(verdict(`${registry}0/library/redis:7.4.1`)[0] as string, /must come from/);
  });
});

describe('constraint matching', () => {
  test('excludedNamespaces: kube-system pods are not checked for the registry', () => {
    const objs = inEveryKind(
      { containers: [{ name: 'c', image: 'docker.io/rancher/coredns:1.12.0', resources }] },
      'kube-system',
    );
    assert.deepEqual(admit(objs), []);
  });
  test('namespaces: resources and labels apply to lumen only', () => {
    const objs = inEveryKind({ containers: [{ name: 'c', image: good }] }, 'monitoring');
    assert.deepEqual(admit(objs), []);
  });
  test('dryrun and warn constraints do not block', () => {
    const relaxed = policies({ registry }).map((p) =>
      p.kind === 'ConstraintTemplate' ? p : { ...p, spec: { ...(p.spec as object), enforcementAction: 'warn' } },
    );
    const objs = inEveryKind({ containers: [{ name: 'c', image: 'docker.io/x:latest' }] });
    assert.deepEqual(admit(objs, relaxed), []);
  });
});

describe('the engine', () => {
  const template = (expression: string) => ({
    apiVersion: 'templates.gatekeeper.sh/v1',
    kind: 'ConstraintTemplate',
    metadata: { name: 'testmax' },
    spec: {
      crd: { spec: { names: { kind: 'TestMax' } } },
      targets: [
        {
          target: 'admission.k8s.gatekeeper.sh',
          code: [{ engine: 'K8sNativeValidation', source: { validations: [{ expression, message: 'too many' }] } }],
        },
      ],
    },
  });
  const constraint = {
    apiVersion: 'constraints.gatekeeper.sh/v1beta1',
    kind: 'TestMax',
    metadata: { name: 'max-3' },
    spec: { match: { kinds: [{ apiGroups: ['apps'], kinds: ['Deployment'] }] }, parameters: { max: 3 } },
  };
  const deployment = (replicas: number) =>
    ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'x' },
      spec: { replicas },
    }) as K8sObject;
  test('integers are CEL ints: int parameters compare with int fields and literals', () => {
    const tmpl = template('object.spec.replicas <= variables.params.max && object.spec.replicas + 1 > 1');
    assert.deepEqual(admit([deployment(3)], [tmpl, constraint]), []);
    assert.deepEqual(
      admit([deployment(4)], [tmpl, constraint]).map((v) => v.reason),
      ['max-3: too many'],
    );
  });
  test('a template whose CEL does not parse fails the proof', () => {
    const v = admit([deployment(1)], [template('object.spec.replicas <='), constraint]);
    assert.ok(v.some((x) => x.kind === 'ConstraintTemplate' && /does not compile/.test(x.reason)));
  });
  test('an evaluation error fails closed', () => {
    const v = admit([deployment(1)], [template('object.spec.nothere > 1'), constraint]);
    assert.equal(v.length, 1);
    assert.match(v[0]?.reason ?? '', /CEL error/);
  });
  test('a Constraint without its template fails the proof', () => {
    const v = admit([deployment(1)], [constraint]);
    assert.match(v[0]?.reason ?? '', /no ConstraintTemplate defines kind TestMax/);
  });
});
