/**
 * The server stage against a real kube-apiserver v1.36.4 + etcd started by @lumen/testkit (from
 * the tool cache): each kind of bad manifest is rejected by the API server itself through
 * `lumen check --server` / `--kubeconfig`, with the server's message; the fixture platform and a
 * good manifest are accepted; the CLI's exit codes for a bad kubeconfig, an unreachable server
 * and a missing engine.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '@lumen/testkit';
import { type KubeApiserver, startKubeApiserver } from '@lumen/testkit/kube-apiserver';
import { runLumenSync } from '@lumen/testkit/lumen';
import { stringify } from 'yaml';
import { runCheck } from '../src/check.ts';
import { findEngine } from '../src/engines.ts';
import { formatViolation } from '../src/report.ts';
import { fixtureOptions, fixtures, makeFixturePlatform, registry } from './fixture-platform.ts';

let server: KubeApiserver;
let platform: ReturnType<typeof makeFixturePlatform>;
const scratch = mkdtempSync(join(tmpdir(), 'lumen-server-stage-'));

before(async () => {
  platform = makeFixturePlatform();
  server = await startKubeApiserver({ apiserverBin: findEngine('kube-apiserver'), etcdBin: findEngine('etcd') });
});
after(async () => {
  await server?.close();
  platform?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

const image = `${registry}/lumen/lumen-api:1.0.0@sha256:${'a'.repeat(64)}`;
const resources = { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } };
/** A container that meets `restricted` and every lumen constraint. */
const container = {
  name: 'main',
  image,
  resources,
  securityContext: {
    allowPrivilegeEscalation: false,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  },
};
const labels = { app: 'probe', tier: 'backend' };
/** Privileged (the API server's own validation refuses privileged with allowPrivilegeEscalation: false). */
const { allowPrivilegeEscalation: _, ...restricted } = container.securityContext;
const privileged = { ...container, securityContext: { ...restricted, privileged: true } };

function deployment(spec: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'probe', namespace: 'lumen', labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [container], ...spec } },
      ...extra,
    },
  };
}

function manifest(name: string, obj: object): string {
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(file, stringify(obj));
  return file;
}

async function onServer(file: string) {
  return runCheck({ ...fixtureOptions(platform.dir), paths: [file], server: { kubeconfig: server.kubeconfig } });
}

/** The violations the API server gave (the offline models' are replaced for what it judged). */
async function serverVerdicts(file: string) {
  const result = await onServer(file);
  return result.violations.filter((v) => v.reason.startsWith('API server: '));
}

describe('the API server rejects', () => {
  test('an unknown field (fieldValidation=Strict)', async () => {
    const v = await serverVerdicts(manifest('unknown-field', deployment({ terminationGracePeriod: 5 })));
    assert.equal(v.length, 1, JSON.stringify(v));
    assert.equal(v[0]?.rule, 'schema');
    assert.match(v[0]?.reason ?? '', /\.spec\.template\.spec\.terminationGracePeriod: field not declared in schema/);
  });
  test('a wrong type', async () => {
    const v = await serverVerdicts(manifest('wrong-type', deployment({}, { replicas: 'two' })));
    assert.equal(v.length, 1, JSON.stringify(v));
    assert.equal(v[0]?.rule, 'schema');
    assert.match(v[0]?.reason ?? '', /replicas/);
  });
  test('an invalid label value', async () => {
    const bad = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'probe', namespace: 'lumen', labels: { app: 'not valid!' } },
    };
    const result = await onServer(manifest('bad-label', bad));
    const v = result.violations.filter((x) => x.reason.startsWith('API server: '));
    assert.equal(v.length, 1, JSON.stringify(result.violations));
    assert.match(v[0]?.reason ?? '', /metadata\.labels: Invalid value: "not valid!"/);
    // The offline label check said the same thing; the server's verdict replaces it.
    assert.deepEqual(
      result.violations.filter((x) => !x.reason.startsWith('API server: ')),
      [],
    );
  });
  test('an unknown kind (no CRD defines it)', async () => {
    const widget = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'lumen' } };
    const v = await serverVerdicts(manifest('unknown-kind', widget));
    assert.deepEqual(
      v.map((x) => x.reason),
      ['API server: the server serves no example.com/v1 Widget, and no CRD among the objects defines it'],
    );
  });
  test('a privileged pod in the restricted namespace lumen', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'probe', namespace: 'lumen', labels },
      spec: { containers: [privileged] },
    };
    const v = await serverVerdicts(manifest('privileged-pod', pod));
    assert.equal(v.length, 1, JSON.stringify(v));
    assert.equal(v[0]?.rule, 'pod-security');
    assert.match(v[0]?.reason ?? '', /violates PodSecurity "restricted:latest": privileged/);
  });
  test('a Deployment whose pods Pod Security would refuse (the server warns; lumen fails it)', async () => {
    const v = await serverVerdicts(manifest('privileged-deployment', deployment({ containers: [privileged] })));
    assert.equal(v.length, 1, JSON.stringify(v));
    assert.equal(v[0]?.rule, 'pod-security');
    assert.match(v[0]?.reason ?? '', /would violate PodSecurity "restricted:latest": privileged/);
  });
});

describe('the API server accepts', () => {
  test('the fixture platform, every object judged', async () => {
    const result = await runCheck({ ...fixtureOptions(platform.dir), server: { kubeconfig: server.kubeconfig } });
    assert.deepEqual(result.violations.map(formatViolation), []);
    assert.ok(result.server, 'the server stage ran');
    assert.match(result.server.server, /^kube-apiserver v1\.36\.4 at https:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(result.server.judged > 20, `only ${result.server.judged} judged`);
  });
  test('a compliant Deployment and the good fixtures', async () => {
    assert.deepEqual((await onServer(manifest('good', deployment({})))).violations.map(formatViolation), []);
    const good = await onServer(join(fixtures, 'good', 'job-and-policy.yaml'));
    assert.deepEqual(good.violations.map(formatViolation), []);
    assert.ok((good.server?.judged ?? 0) > 0);
  });
});

function lumen(args: string[], env: Record<string, string | undefined> = {}) {
  return runLumenSync(['check', '--deploy', join(platform.dir, 'deploy'), ...args], { env });
}

describe('lumen check --server / --kubeconfig at the CLI edge', () => {
  test('--server on the committed deploy/: starts its own API server, every judged object accepted', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const r = runLumenSync(['check', '--server'], { cwd: root });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^server: kube-apiserver v1\.36\.4 \(started for this run\), started in \d+ ms: \d+ objects judged in dry run in \d+ ms, \d+ not applied$/m,
    );
  });
  test('--kubeconfig: a rejected manifest is exit 1 with the server message', () => {
    const kubeconfig = join(scratch, 'kubeconfig');
    writeFileSync(kubeconfig, server.kubeconfig);
    const r = lumen([
      '--kubeconfig',
      kubeconfig,
      manifest('cli-unknown-field', deployment({ terminationGracePeriod: 5 })),
    ]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /Deployment\/lumen\/probe: schema: API server: .*field not declared in schema/);
  });
  test('an unreadable kubeconfig: exit 2; both --server and --kubeconfig: exit 2', () => {
    const r = lumen(['--kubeconfig', join(scratch, 'nope')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--kubeconfig .*nope: ENOENT/);
    assert.equal(lumen(['--server', '--kubeconfig', join(scratch, 'nope')]).status, 2);
  });
  test('an unreachable API server: exit 3, one line', async () => {
    const kubeconfig = join(scratch, 'closed-kubeconfig');
    writeFileSync(kubeconfig, server.kubeconfig.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${await freePort()}`));
    const r = lumen(['--kubeconfig', kubeconfig]);
    assert.equal(r.status, 3, r.stdout + r.stderr);
    assert.match(r.stderr, /cannot reach the API server https:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });
  test('kube-apiserver missing: exit 5 naming the variable', () => {
    const r = lumen(['--server'], { LUMEN_KUBE_APISERVER: join(scratch, 'no-such-binary') });
    assert.equal(r.status, 5, r.stdout + r.stderr);
    assert.match(r.stderr, /LUMEN_KUBE_APISERVER=.*is not an executable file/);
  });
});
