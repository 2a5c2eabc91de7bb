/**
 * Admission: lumen's Gatekeeper ConstraintTemplates (as rendered into deploy/) judged by
 * Gatekeeper's own engine (gator, from the tool cache) against Pods and every pod-template kind, with containers, init containers and
 * ephemeral containers; Constraint match semantics; broken policies fail the proof.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildCluster } from '../src/cluster.ts';
import { checkAdmission, gatorBin } from '../src/rules/admission.ts';
import type { K8sObject, SourcedObject } from '../src/types.ts';
import { policies, registry } from './fixture-platform.ts';

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

async function admit(objs: K8sObject[], extraPolicies: object[] = policies()) {
  const cluster = buildCluster(sourced([...extraPolicies, ...objs]), { components: [] });
  return checkAdmission(cluster);
}

async function rulesByKind(objs: K8sObject[]) {
  const out = new Map<string, string[]>();
  for (const v of await admit(objs)) out.set(v.kind, [...(out.get(v.kind) ?? []), v.rule]);
  return out;
}

const everyKind = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Rollout'];

describe('policies cover Pods and every pod-template kind', () => {
  test('a compliant pod spec passes in every kind', async () => {
    assert.deepEqual(await admit(inEveryKind(podSpec({}))), []);
  });
  test('a list written as null (a chart template that always writes the key) is judged as the API server hands it on: absent', async () => {
    // falco 9.x renders `initContainers:` with nothing under it; the server decodes that to no list at all.
    assert.deepEqual(await admit(inEveryKind(podSpec({ initContainers: null, ephemeralContainers: null }))), []);
  });
  for (const [list, extra] of [
    ['containers', {}],
    ['initContainers', { initContainers: [{ name: 'init', image: 'docker.io/library/busybox:1.36', resources }] }],
    ['ephemeralContainers', { ephemeralContainers: [{ name: 'debug', image: 'docker.io/library/busybox:1.36' }] }],
  ] as const) {
    test(`an image from docker.io in ${list} is refused in every kind`, async () => {
      const spec =
        list === 'containers'
          ? { containers: [{ name: 'main', image: 'docker.io/library/busybox:1.36', resources }] }
          : podSpec(extra);
      const byKind = await rulesByKind(inEveryKind(spec));
      for (const kind of everyKind) assert.deepEqual(byKind.get(kind), ['admission/LumenAllowedRegistry'], kind);
    });
  }
  test('missing limits on an init container are refused in every kind', async () => {
    const byKind = await rulesByKind(
      inEveryKind(
        podSpec({ initContainers: [{ name: 'init', image: good, resources: { requests: resources.requests } }] }),
      ),
    );
    for (const kind of everyKind) assert.deepEqual(byKind.get(kind), ['admission/LumenContainerResources'], kind);
  });
  test('ephemeral containers need no resources (Kubernetes forbids them there)', async () => {
    assert.deepEqual(await admit(inEveryKind(podSpec({ ephemeralContainers: [{ name: 'debug', image: good }] }))), []);
  });
  test('pods without the tier label are refused in every kind', async () => {
    const objs = inEveryKind(podSpec({})).map((o) =>
      JSON.parse(JSON.stringify(o).replaceAll('"tier":"y"', '"other":"y"')),
    );
    const byKind = await rulesByKind(objs);
    for (const kind of everyKind) assert.deepEqual(byKind.get(kind), ['admission/LumenRequiredLabels'], kind);
  });
});

describe('image tags', () => {
  const verdict = async (image: string) =>
    (await admit(inEveryKind({ containers: [{ name: 'main', image, resources }] }).slice(0, 1))).map((v) => v.reason);
  test('a host:port registry is not a tag', async () => {
    const reasons = await verdict(`${registry}/library/redis`);
    assert.equal(reasons.length, 1);
    assert.match(reasons[0] as string, /must carry a tag/);
  });
  test('a digest alone is not a tag', async () => {
    assert.match(
      (await verdict(`${registry}/library/redis@sha256:${'b'.repeat(64)}`))[0] as string,
      /must carry a tag/,
    );
  });
  test(':latest is refused, with or without a digest', async () => {
    assert.match((await verdict(`${registry}/library/redis:latest`))[0] as string, /must not use :latest/);
    assert.match(
      (await verdict(`${registry}/library/redis:latest@sha256:${'b'.repeat(64)}`))[0] as string,
      /must not use :latest/,
    );
  });
  test('a tag after a host:port registry is accepted', async () => {
    assert.deepEqual(await verdict(`${registry}/library/redis:7.4.1`), []);
    assert.deepEqual(await verdict(`${registry}/library/redis:7.4.1@sha256:${'b'.repeat(64)}`), []);
  });
  test('a registry prefix that only starts like the airgap registry is refused', async () => {
    assert.match((await verdict(`${registry}0/library/redis:7.4.1`))[0] as string, /must come from/);
  });
});

describe('constraint matching', () => {
  test('excludedNamespaces: kube-system pods are not checked for the registry', async () => {
    const objs = inEveryKind(
      { containers: [{ name: 'c', image: 'docker.io/rancher/coredns:1.12.0', resources }] },
      'kube-system',
    );
    assert.deepEqual(await admit(objs), []);
  });
  test('namespaces: resources and labels apply to lumen only', async () => {
    const objs = inEveryKind({ containers: [{ name: 'c', image: good }] }, 'monitoring');
    assert.deepEqual(await admit(objs), []);
  });
  test('dryrun and warn constraints do not block', async () => {
    const relaxed = policies().map((p) =>
      p.kind === 'ConstraintTemplate' ? p : { ...p, spec: { ...(p.spec as object), enforcementAction: 'warn' } },
    );
    const objs = inEveryKind({ containers: [{ name: 'c', image: 'docker.io/x:latest' }] });
    assert.deepEqual(await admit(objs, relaxed), []);
  });
});

describe('the engine', () => {
  const template = (expression: string) => ({
    apiVersion: 'templates.gatekeeper.sh/v1',
    kind: 'ConstraintTemplate',
    metadata: { name: 'testmax' },
    spec: {
      crd: {
        spec: {
          names: { kind: 'TestMax' },
          validation: { openAPIV3Schema: { type: 'object', properties: { max: { type: 'integer' } } } },
        },
      },
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
  test('integers are CEL ints: int parameters compare with int fields and literals', async () => {
    const tmpl = template('object.spec.replicas <= variables.params.max && object.spec.replicas + 1 > 1');
    assert.deepEqual(await admit([deployment(3)], [tmpl, constraint]), []);
    assert.deepEqual(
      (await admit([deployment(4)], [tmpl, constraint])).map((v) => v.reason),
      ['max-3: too many'],
    );
  });
  test('a template whose CEL does not parse denies what it matches (fail closed)', async () => {
    const v = await admit([deployment(1)], [template('object.spec.replicas <='), constraint]);
    // Gatekeeper loads the template and fails closed on every object it matches, naming the error.
    assert.equal(v.length, 1);
    assert.equal(v[0]?.kind, 'Deployment');
    assert.match(v[0]?.reason ?? '', /^max-3: compilation error: .*Syntax error/s);
  });
  test('an evaluation error fails closed', async () => {
    const v = await admit([deployment(1)], [template('object.spec.nothere > 1'), constraint]);
    assert.equal(v.length, 1);
    assert.match(v[0]?.reason ?? '', /^max-3: expression 'object.spec.nothere > 1' resulted in error: no such key/);
  });
  test('a Constraint whose parameters break its template schema is refused by gator', async () => {
    const tmpl = template('object.spec.replicas <= variables.params.max');
    const v = await admit(
      [deployment(1)],
      [tmpl, { ...constraint, spec: { ...constraint.spec, parameters: { maks: 3 } } }],
    );
    assert.equal(v.length, 1);
    assert.equal(v[0]?.kind, 'TestMax');
    assert.match(v[0]?.reason ?? '', /^gator refuses the constraint: .*maks/);
  });
  test('the verdicts are gator’s: the binary found as LUMEN_GATOR is the one that runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lumen-gator-wrapper-'));
    try {
      const log = join(dir, 'calls');
      const wrapper = join(dir, 'gator');
      writeFileSync(wrapper, `#!/bin/sh\necho "$@" >>${log}\nexec ${gatorBin()} "$@"\n`, { mode: 0o755 });
      const cluster = buildCluster(
        sourced([template('object.spec.replicas <= variables.params.max'), constraint, deployment(4)]),
        {
          components: [],
        },
      );
      const v = await checkAdmission(cluster, wrapper);
      assert.deepEqual(
        v.map((x) => x.reason),
        ['max-3: too many'],
      );
      assert.match(readFileSync(log, 'utf8'), /^test --filename \S+ --output json$/m);
      const missing = await import('../src/engines.ts').then(
        (m) => () => m.findEngine('gator', { LUMEN_GATOR: join(dir, 'none') }),
      );
      assert.throws(
        missing,
        (err: Error & { exitCode?: number }) => err.exitCode === 5 && /LUMEN_GATOR=/.test(err.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('a Constraint without its template fails the proof', async () => {
    const v = await admit([deployment(1)], [constraint]);
    assert.match(v[0]?.reason ?? '', /no ConstraintTemplate defines kind TestMax/);
  });
});
