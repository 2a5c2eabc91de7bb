/**
 * Schema: kubernetes-models validators for Kubernetes and the CRDs that have models, local
 * schemas for the others, unknown fields as errors, identities that collide.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { parseManifests } from '../src/manifests.ts';
import { checkSchema, prepareSchemas } from '../src/rules/schema.ts';

async function schema(...objs: object[]) {
  const sourced = parseManifests(objs.map((o) => stringify(o)).join('---\n'), 'm.yaml', true);
  await prepareSchemas(sourced);
  return checkSchema(sourced).map((v) => v.reason);
}

const deployment = (spec: object) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd', namespace: 'n' },
  spec,
});
const template = { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };

describe('kubernetes-models schemas', () => {
  test('a valid Deployment passes', async () => {
    assert.deepEqual(await schema(deployment({ selector: { matchLabels: { app: 'd' } }, template })), []);
  });
  test('a missing required field fails', async () => {
    const r = await schema(deployment({ template }));
    assert.equal(r.length, 1);
    assert.match(r[0] as string, /selector/);
  });
  test('a wrong type fails', async () => {
    const r = await schema(deployment({ selector: {}, template, replicas: 'two' }));
    assert.match(r.join(), /replicas/);
  });
  test('an unknown field fails, however deep', async () => {
    const bad = { ...template, spec: { containers: [{ name: 'c', image: 'i', resouces: { limits: { cpu: '1' } } }] } };
    assert.deepEqual(await schema(deployment({ selector: {}, template: bad })), [
      '.spec.template.spec.containers[0].resouces is not a known field',
    ]);
  });
  test('CRDs with a models package are validated too (Argo Rollout, ServiceMonitor)', async () => {
    const r = await schema(
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Rollout',
        metadata: { name: 'r' },
        spec: { template, strategy: { canary: { stepz: [] } } },
      },
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 's' },
        spec: { selector: {} },
      },
    );
    assert.ok(r.includes('.spec.strategy.canary.stepz is not a known field'), r.join('\n'));
    assert.ok(
      r.some((x) => /endpoints/.test(x)),
      r.join('\n'),
    );
  });
});

describe('local schemas', () => {
  test('a ConstraintTemplate with an unknown engine fails', async () => {
    const r = await schema({
      apiVersion: 'templates.gatekeeper.sh/v1',
      kind: 'ConstraintTemplate',
      metadata: { name: 'x' },
      spec: {
        crd: { spec: { names: { kind: 'X' } } },
        targets: [{ target: 't', code: [{ engine: 'CEL', source: {} }] }],
      },
    });
    assert.match(r[0] as string, /engine must be one of/);
  });
  test('every Constraint kind is checked by the shared Constraint schema', async () => {
    const r = await schema({
      apiVersion: 'constraints.gatekeeper.sh/v1beta1',
      kind: 'Anything',
      metadata: { name: 'x' },
      spec: { match: { kindz: [] } },
    });
    assert.deepEqual(r, ['.spec.match.kindz is not a known field']);
  });
  test('a CloudNativePG Cluster needs an integer instance count', async () => {
    const r = await schema({
      apiVersion: 'postgresql.cnpg.io/v1',
      kind: 'Cluster',
      metadata: { name: 'db' },
      spec: { instances: '3' },
    });
    assert.deepEqual(r, ['.spec.instances must be an integer']);
  });
  test('cert-manager issuers follow the shipped CRD (Vault serviceAccountRef), not the stale models package', async () => {
    const issuer = (kubernetes: object) => ({
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      metadata: { name: 'vault' },
      spec: { vault: { server: 'http://vault:8200', path: 'pki/sign/x', auth: { kubernetes } } },
    });
    assert.deepEqual(
      await schema(issuer({ role: 'r', mountPath: '/v1/auth/kubernetes', serviceAccountRef: { name: 'sa' } })),
      [],
    );
    assert.deepEqual(await schema(issuer({ role: 'r', serviceAcountRef: { name: 'sa' } })), [
      '.spec.vault.auth.kubernetes.serviceAcountRef is not a known field',
    ]);
  });
  test('a kind without any schema is an error, not a pass', async () => {
    const r = await schema({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } });
    assert.match(r[0] as string, /no schema is known/);
  });
});

describe('envelope', () => {
  test('metadata.name is required', async () => {
    assert.deepEqual(await schema({ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }), [
      'metadata.name is required',
    ]);
  });
  test('apiVersion and kind are required', async () => {
    assert.deepEqual(await schema({ metadata: { name: 'x' } }), ['apiVersion and kind are required']);
  });
});
