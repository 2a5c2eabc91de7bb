/**
 * The fixtures suite: each manifest in fixtures/bad breaks exactly ONE rule (named in its
 * `# expect:` header) and an admission dry run on top of the fixture platform rejects it with
 * that rule and no other; the platform itself and the manifests in fixtures/good pass.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCheck } from '../src/check.ts';
import { formatViolation } from '../src/report.ts';
import { fixtureOptions, fixtures, makeFixturePlatform } from './fixture-platform.ts';

let platform: ReturnType<typeof makeFixturePlatform>;
before(() => {
  platform = makeFixturePlatform();
});
after(() => platform.cleanup());

function expected(file: string): string {
  const header = /^# expect: (\S+)/m.exec(readFileSync(file, 'utf8'));
  assert.ok(header, `${file} has no '# expect: <rule>' header`);
  return header[1] as string;
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
  for (const name of files) {
    test(name, async () => {
      const file = join(dir, name);
      const rule = expected(file);
      const result = await runCheck({ ...fixtureOptions(platform.dir), paths: [file] });
      const lines = result.violations.map(formatViolation);
      assert.ok(result.violations.length > 0, `${name} was accepted`);
      for (const v of result.violations) assert.equal(v.rule, rule, `unexpected rule in: ${formatViolation(v)}`);
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
