// biome-ignore-all lint/suspicious/noExplicitAny: these tests walk rendered objects, whose shape the assertions check
/**
 * The security layers in the rendered objects: no plaintext secret anywhere (credentials come from
 * Vault through VaultStaticSecrets, the Gitea runner token included), Kyverno verifies lumen-api
 * with the site's cosign PUBLIC key, Falco runs modern_ebpf with rules for the seed's four alerts,
 * Gatekeeper renders the check helper's CEL templates, and the chaos experiments select pods that exist.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadInventory } from '@lumen/inventory';
import { parse } from 'yaml';
import { render } from '../src/index.ts';
import { constraintTemplates } from '../src/policy/admission.ts';
import { fixtureInventory } from './fixture-inventory.ts';

const fixture = fixtureInventory();
after(() => fixture.remove());
const { components } = render(loadInventory(fixture.dir));
const byName = (n: string) => {
  const c = components.find((x) => x.name === n);
  assert.ok(c, n);
  return c;
};
const all = components.flatMap((c) => [...c.manifests, c.application, ...(c.experiments ?? [])]);

describe('security objects', () => {
  it('no object carries secret data; every credential is a VaultStaticSecret', () => {
    for (const o of all) {
      if (o.kind === 'Secret') assert.fail(`${o.metadata.name}: a Secret in a component`);
      assert.doesNotMatch(
        JSON.stringify(o),
        /PRIVATE KEY|password["']?\s*[:=]\s*["'][^"'$]/i,
        `${o.kind} ${o.metadata.name}`,
      );
    }
    const vss = all
      .filter((o) => o.kind === 'VaultStaticSecret')
      .map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
    assert.deepEqual(vss.sort(), [
      'cnpg-system/lumen-db-app',
      'gitea/act-runner-token',
      'lumen/lumen-api-db',
      'lumen/lumen-api-redis',
      'lumen/redis-auth',
      'monitoring/grafana-admin',
    ]);
  });

  it('the Gitea runner reads its registration token from the synced Secret, never a literal', () => {
    const runner = byName('gitea').manifests.find((o) => o.kind === 'Deployment' && o.metadata.name === 'act-runner');
    const env = ((runner ?? { spec: {} }).spec as any).template.spec.containers[0].env;
    const token = env.find((e: any) => e.name === 'GITEA_RUNNER_REGISTRATION_TOKEN');
    assert.deepEqual(token, {
      name: 'GITEA_RUNNER_REGISTRATION_TOKEN',
      valueFrom: { secretKeyRef: { name: 'act-runner-token', key: 'token' } },
    });
  });

  it('Kyverno verifies lumen-api images with the cosign public key from the inventory directory, without Rekor', () => {
    const policy = byName('kyverno-policies').manifests.find((o) => o.kind === 'ClusterPolicy');
    const verify = ((policy ?? { spec: {} }).spec as any).rules[0].verifyImages[0];
    const key = readFileSync(join(fixture.dir, 'cosign.pub'), 'utf8');
    assert.equal(verify.attestors[0].entries[0].keys.publicKeys, key);
    assert.match(key, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(verify.attestors[0].entries[0].keys.rekor.ignoreTlog, true);
    assert.deepEqual(verify.imageReferences, ['192.168.2.2:5000/lumen/lumen-api*']);
    assert.equal(((policy ?? { spec: {} }).spec as any).validationFailureAction, 'Enforce');
  });

  it('Falco uses modern_ebpf, downloads nothing, and has a rule per seed alert', () => {
    const values = byName('falco').helm?.values as any;
    assert.equal(values.driver.kind, 'modern_ebpf');
    assert.equal(values.falcoctl.artifact.install.enabled, false);
    const rules = parse(values.customRules['lumen-rules.yaml']) as Array<{ rule?: string; condition?: string }>;
    const names = rules.filter((r) => r.rule).map((r) => r.rule);
    assert.deepEqual(names, [
      'Lumen Contact K8S API Server From Container',
      'Lumen Shell Spawned In Container',
      'Lumen Write Below Etc In Container',
      'Lumen Unexpected Outbound Connection',
    ]);
    assert.match(values.customRules['lumen-rules.yaml'], /192\.168\.2\.0\/24/);
  });

  it('Gatekeeper renders exactly the check helper’s ConstraintTemplates, then their Constraints in a later wave', () => {
    const templates = byName('gatekeeper-templates').manifests.filter((o) => o.kind === 'ConstraintTemplate');
    assert.deepEqual(
      templates.map((t) => t.metadata.name),
      constraintTemplates.map((t) => t.metadata.name),
    );
    const constraints = byName('gatekeeper-constraints').manifests.filter((o) =>
      o.apiVersion.startsWith('constraints.gatekeeper.sh/'),
    );
    assert.equal(constraints.length, templates.length);
  });

  it('every chaos experiment selects a workload that runs in the namespace it names', () => {
    const experiments = components.flatMap((c) => c.experiments ?? []);
    assert.deepEqual(experiments.map((e) => e.kind).sort(), ['NetworkChaos', 'NetworkChaos', 'PodChaos']);
    for (const e of experiments) {
      const sel = (e.spec as any).selector as { namespaces: string[]; labelSelectors: Record<string, string> };
      const hit = components.some(
        (c) =>
          sel.namespaces.includes(c.namespace) &&
          c.workloads.some((w) => Object.entries(sel.labelSelectors).every(([k, v]) => w.podLabels[k] === v)),
      );
      assert.ok(hit, `${e.metadata.name} selects nothing`);
    }
  });
});
