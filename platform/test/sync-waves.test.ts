/**
 * Sync waves are computed from CRD providers: every component syncs after the components whose CRDs
 * its objects (or its chart) use, and after the owner of its namespace.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadInventory } from '@lumen/inventory';
import { computeWaves, crdOf, PlatformError, render } from '../src/index.ts';
import { fixtureInventory } from './fixture-inventory.ts';

const fixture = fixtureInventory();
after(() => fixture.remove());
const { components } = render(loadInventory(fixture.dir));
const byName = new Map(components.map((c) => [c.name, c]));
const provider = new Map(components.flatMap((c) => c.providesCrds.map((crd) => [crd, c] as const)));

describe('sync waves respect CRD providers', () => {
  it('every custom resource lumen renders has its CRD provided by a component in an earlier wave', () => {
    let checked = 0;
    for (const c of components) {
      for (const o of c.manifests) {
        const crd = crdOf(o);
        if (!crd) continue;
        const p = provider.get(crd);
        assert.ok(p, `${c.name}: ${o.kind} ${o.metadata.name} needs ${crd}, which no component provides`);
        assert.ok(p.wave < c.wave, `${c.name} (wave ${c.wave}) uses ${crd} from ${p.name} (wave ${p.wave})`);
        checked++;
      }
    }
    assert.ok(checked > 40, `only ${checked} custom resources checked`);
  });

  it('the wave is the annotation Argo CD reads on each Application', () => {
    for (const c of components)
      assert.equal(c.application.metadata.annotations?.['argocd.argoproj.io/sync-wave'], String(c.wave), c.name);
  });

  it('components sharing a namespace sync after its owner, which renders the Namespace with Pod Security labels', () => {
    for (const c of components) {
      const owner = components.find((o) => o.namespace === c.namespace && o.ownsNamespace);
      assert.ok(owner, c.namespace);
      const ns = owner.manifests.find((o) => o.kind === 'Namespace');
      assert.equal(ns?.metadata.labels?.['pod-security.kubernetes.io/enforce'], c.podSecurity);
      if (owner !== c) assert.ok(owner.wave < c.wave, `${c.name} vs owner ${owner.name}`);
    }
  });

  it('orders the chain ConstraintTemplate → constraint CRDs → Constraints, and lumen-api after Rollouts, Traefik, cert-manager, VSO, Prometheus', () => {
    const w = (n: string) => byName.get(n)?.wave ?? Number.NaN;
    assert.ok(w('gatekeeper') < w('gatekeeper-templates') && w('gatekeeper-templates') < w('gatekeeper-constraints'));
    for (const dep of [
      'argo-rollouts',
      'traefik',
      'cert-manager',
      'vault-secrets-operator',
      'kube-prometheus-stack',
      'redis',
    ])
      assert.ok(w(dep) < w('lumen-api'), dep);
    assert.ok(w('metallb') < w('metallb-config'));
    assert.ok(w('cloudnative-pg') < w('lumen-db'));
  });

  it('computeWaves rejects a cycle, a self-provided CRD and a CRD nobody provides', () => {
    const crd = (err: unknown) => err instanceof PlatformError && err.code === 'PLATFORM_CRD';
    assert.throws(
      () =>
        computeWaves([
          { name: 'a', providesCrds: ['x.example.com'], usesCrds: ['y.example.com'], after: [] },
          { name: 'b', providesCrds: ['y.example.com'], usesCrds: ['x.example.com'], after: [] },
        ]),
      (e) => crd(e) && /cycle/.test((e as Error).message),
    );
    assert.throws(
      () => computeWaves([{ name: 'a', providesCrds: ['x.example.com'], usesCrds: ['x.example.com'], after: [] }]),
      (e) => crd(e) && /split it/.test((e as Error).message),
    );
    assert.throws(
      () => computeWaves([{ name: 'a', providesCrds: [], usesCrds: ['x.example.com'], after: [] }]),
      (e) => crd(e) && /no component provides/.test((e as Error).message),
    );
    assert.deepEqual(
      Object.fromEntries(
        computeWaves([
          { name: 'c', providesCrds: [], usesCrds: ['y.example.com'], after: [] },
          { name: 'b', providesCrds: ['y.example.com'], usesCrds: ['x.example.com'], after: [] },
          { name: 'a', providesCrds: ['x.example.com'], usesCrds: [], after: [] },
        ]),
      ),
      { a: 0, b: 1, c: 2 },
    );
  });

  it('crdOf refuses a custom kind it does not know instead of guessing its provider', () => {
    assert.throws(() => crdOf({ apiVersion: 'example.com/v1', kind: 'Widget' }), /no CRD known/);
    assert.equal(crdOf({ apiVersion: 'apps/v1', kind: 'Deployment' }), undefined);
    assert.equal(crdOf({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout' }), 'rollouts.argoproj.io');
  });
});
