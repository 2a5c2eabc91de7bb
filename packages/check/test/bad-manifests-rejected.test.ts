/**
 * The fixtures suite: each manifest in fixtures/bad breaks exactly ONE rule (named in its
 * `# expect:` header) and an admission dry run on top of the fixture platform rejects it with
 * that rule and no other — offline, and again with a real kube-apiserver (@lumen/testkit) judging
 * schema and Pod Security; the platform itself and the manifests in fixtures/good pass.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type KubeApiserver, startKubeApiserver } from '@lumen/testkit/kube-apiserver';
import { runCheck } from '../src/check.ts';
import { findEngine } from '../src/engines.ts';
import { formatViolation } from '../src/report.ts';
import { fixtureOptions, fixtures, makeFixturePlatform } from './fixture-platform.ts';

let platform: ReturnType<typeof makeFixturePlatform>;
let server: KubeApiserver;
before(async () => {
  platform = makeFixturePlatform();
  server = await startKubeApiserver({ apiserverBin: findEngine('kube-apiserver'), etcdBin: findEngine('etcd') });
});
after(async () => {
  await server?.close();
  platform.cleanup();
});

function expected(file: string): string {
  const header = /^# expect: (\S+)/m.exec(readFileSync(file, 'utf8'));
  assert.ok(header, `${file} has no '# expect: <rule>' header`);
  return header[1] as string;
}

/** A rule the real API server adds (`# on the server also: <rule> — why`): the model could not see it. */
function alsoOnServer(file: string): string | undefined {
  return /^# on the server also: (\S+)/m.exec(readFileSync(file, 'utf8'))?.[1];
}

describe('fixture platform', () => {
  test('the fixture platform itself passes every proof', async () => {
    const result = await runCheck(fixtureOptions(platform.dir));
    assert.deepEqual(result.violations.map(formatViolation), []);
    assert.ok(result.objects > 30, `only ${result.objects} objects`);
  });
});

describe('bad manifests are rejected with exactly their rule', () => {
  const dir = join(fixtures, 'bad');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  test('the suite holds every case the issue lists', () => {
    for (const name of [
      'rollout-latest',
      'untagged-host-port',
      'init-container-docker-io',
      'ephemeral-container',
      'cronjob-without-limits',
      'privileged-pod',
      'host-path-volume',
      'service-selects-nothing',
      'chaos-wrong-namespace',
      'secret-with-data',
      'network-policy-all-namespaces',
      'custom-resource-before-crd',
    ]) {
      assert.ok(files.includes(`${name}.yaml`), `missing fixture ${name}.yaml`);
    }
  });
  for (const [name, onServer] of files.flatMap((f) => [[f, false] as const, [f, true] as const])) {
    test(`${name}${onServer ? ' (with the API server as judge of schema and Pod Security)' : ''}`, async () => {
      const file = join(dir, name);
      const rule = expected(file);
      const server_ = onServer ? { server: { kubeconfig: server.kubeconfig } } : {};
      const result = await runCheck({ ...fixtureOptions(platform.dir), paths: [file], ...server_ });
      if (onServer) assert.ok(result.server, 'the server stage ran');
      const lines = result.violations.map(formatViolation);
      assert.ok(result.violations.length > 0, `${name} was accepted`);
      const allowed = new Set([rule, ...(onServer ? [alsoOnServer(file)] : [])]);
      assert.ok(
        result.violations.some((v) => v.rule === rule),
        `${name} was not rejected with ${rule}`,
      );
      for (const v of result.violations) assert.ok(allowed.has(v.rule), `unexpected rule in: ${formatViolation(v)}`);
      for (const line of lines) assert.ok(line.startsWith(`${file}: `), line);
    });
  }
});

describe('good manifests are admitted', () => {
  const dir = join(fixtures, 'good');
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    test(name, async () => {
      const result = await runCheck({ ...fixtureOptions(platform.dir), paths: [join(dir, name)] });
      assert.deepEqual(result.violations.map(formatViolation), []);
    });
  }
});
