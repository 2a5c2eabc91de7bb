/**
 * Bad input fails loudly: lumen's strictness catches what the kubernetes-models schemas let through
 * (unknown fields), flows that name a missing workload or port or open egress to anywhere are render
 * errors, and the CLI answers a missing inventory with exit 2 and an unwritable output with exit 4.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadInventory } from '@lumen/inventory';
import { runLumenSync } from '@lumen/testkit/lumen';
import {
  type Component,
  flowPolicies,
  type KubeObject,
  PlatformError,
  platformModel,
  problemsOf,
  readCosignPublicKey,
  validateObjects,
} from '../src/index.ts';
import { fixtureInventory, repoRoot } from './fixture-inventory.ts';

const fixture = fixtureInventory();
const scratch = mkdtempSync(join(tmpdir(), 'lumen-bad-'));
after(() => {
  fixture.remove();
  rmSync(scratch, { recursive: true, force: true });
});
const lumen = (args: string[]) => runLumenSync(args, { cwd: repoRoot });

const deployment = (container: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'x', namespace: 'lumen' },
  spec: {
    selector: { matchLabels: { app: 'x' } },
    template: {
      metadata: { labels: { app: 'x' } },
      spec: { containers: [{ name: 'x', image: 'r/x:1', ...container }] },
    },
    ...extra,
  },
});

describe('object validation beyond the schemas', () => {
  it('accepts a well-formed object', () => {
    assert.deepEqual(problemsOf(deployment({})), []);
  });

  it('refuses a misspelt container field the schema would let through (livenessprobe)', () => {
    const problems = problemsOf(deployment({ livenessprobe: { httpGet: { path: '/livez', port: 8080 } } }));
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /container x: unknown fields livenessprobe/);
  });

  it('refuses wrong types, unknown top-level/metadata fields, bad names, unknown custom spec fields and unknown kinds', () => {
    assert.match(
      problemsOf({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'x' },
        spec: { ports: [{ port: 'http' }] },
      })[0] ?? '',
      /port must be integer/,
    );
    assert.match(problemsOf({ ...deployment({}), status: {} })[0] ?? '', /unknown top-level fields status/);
    assert.match(
      problemsOf({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'x', uid: '1' } as KubeObject['metadata'],
      })[0] ?? '',
      /unknown metadata fields uid/,
    );
    assert.match(
      problemsOf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_Valid' } })[0] ?? '',
      /not a DNS subdomain/,
    );
    assert.match(
      problemsOf({
        apiVersion: 'metallb.io/v1beta1',
        kind: 'IPAddressPool',
        metadata: { name: 'p' },
        spec: { adresses: [] },
      })[0] ?? '',
      /unknown spec fields adresses/,
    );
    assert.match(
      problemsOf({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })[0] ?? '',
      /no schema known/,
    );
    assert.throws(
      () => validateObjects([deployment({ imagePulPolicy: 'Always' })]),
      (e) => e instanceof PlatformError && e.code === 'PLATFORM_INVALID_OBJECT' && e.exitCode === 70,
    );
  });
});

describe('flow declarations', () => {
  const site = loadInventory(fixture.dir).site;
  const comp = (flows: Component['flows']): Component => ({
    name: 'a',
    namespace: 'a',
    podSecurity: 'restricted',
    summary: '',
    providesCrds: [],
    objects: [],
    workloads: [
      { name: 'web', kind: 'Deployment', source: 'lumen', podLabels: { app: 'web' }, ports: [{ port: 8080 }] },
    ],
    flows,
  });
  const conflict = (e: unknown) => e instanceof PlatformError && e.code === 'PLATFORM_CONFLICT';

  it('refuses a flow to a workload that does not exist, to a port the target does not listen on, and egress to @world', () => {
    assert.throws(
      () => flowPolicies([comp([{ from: 'a/web', to: 'a/db', ports: [{ port: 5432 }], why: '' }])], site),
      conflict,
    );
    assert.throws(
      () => flowPolicies([comp([{ from: '@nodes', to: 'a/web', ports: [{ port: 9090 }], why: '' }])], site),
      conflict,
    );
    assert.throws(
      () => flowPolicies([comp([{ from: 'a/web', to: '@world', ports: [{ port: 443 }], why: '' }])], site),
      conflict,
    );
  });

  it('turns one flow into an egress rule at the source and an ingress rule at the target', () => {
    const policies = flowPolicies(
      [comp([{ from: 'a/web', to: 'a/web', ports: [{ port: 8080 }], why: 'peers' }])],
      site,
    );
    assert.deepEqual(
      policies.map((p) => [p.object.metadata.name, (p.object.spec as { policyTypes: string[] }).policyTypes]),
      [
        ['egress-web-to-a-web', ['Egress']],
        ['ingress-web-from-a-web', ['Ingress']],
      ],
    );
  });
});

describe('inputs from the site', () => {
  it('refuses a private key where the cosign public key belongs', () => {
    const dir = mkdtempSync(join(scratch, 'inv-'));
    writeFileSync(join(dir, 'cosign.pub'), `-----BEGIN ${'PRIVATE'} KEY-----\nAAAA\n-----END ${'PRIVATE'} KEY-----\n`);
    assert.throws(
      () => readCosignPublicKey({ ...loadInventory(fixture.dir), dir }),
      (e) => e instanceof PlatformError && e.exitCode === 2 && /not a PEM public key/.test(e.message),
    );
  });

  it('platformModel describes every component with its chart workloads, for lumen check', () => {
    const model = platformModel(loadInventory(fixture.dir));
    const traefik = model.components.find((c) => c.name === 'traefik');
    assert.equal(traefik?.helmChart, 'traefik');
    assert.deepEqual(
      traefik?.chartWorkloads.map((w) => w.name),
      ['traefik'],
    );
    assert.ok(traefik?.providesCrds.includes('ingressroutes.traefik.io'));
    assert.ok(model.components.every((c) => Number.isInteger(c.wave) && c.namespace && c.podSecurity));
  });
});

describe('lumen render CLI on bad input', () => {
  it('exits 2 on a missing inventory directory', () => {
    const r = lumen(['render', '--inventory', join(scratch, 'nope'), '--out', join(scratch, 'out')]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^lumen: /m);
  });

  it('exits 4 when the output cannot be written', () => {
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'not a directory');
    const r = lumen(['render', '--inventory', fixture.dir, '--out', join(file, 'deploy')]);
    assert.equal(r.status, 4, r.stderr);
    assert.match(r.stderr, /^lumen: cannot write/m);
  });
});
