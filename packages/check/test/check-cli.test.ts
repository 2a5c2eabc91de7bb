/**
 * `lumen check` through the real CLI: exit codes (0 clean, 1 violations, 2 bad input), one
 * line per violation in the `file: kind/namespace/name: rule: reason` format, the summary
 * line, and `--json`.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runLumenSync } from '@lumen/testkit/lumen';
import { fixtures, makeFixturePlatform } from './fixture-platform.ts';

let platform: ReturnType<typeof makeFixturePlatform>;
before(() => {
  platform = makeFixturePlatform();
});
after(() => platform.cleanup());

function lumen(...args: string[]) {
  return runLumenSync(['check', ...args], { timeout: 120_000 });
}

describe('lumen check at the CLI edge', () => {
  test('a manifest that adds a violation: exit 1, one line per violation, then the summary', () => {
    const file = join(fixtures, 'bad', 'secret-with-data.yaml');
    const r = lumen('--deploy', join(platform.dir, 'deploy'), file);
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 4, r.stdout);
    assert.equal(
      lines[0],
      `${relative(process.cwd(), file)}: Secret/lumen/lumen-api-redis: plaintext-secret: data holds password: secrets come from Vault (VaultStaticSecret), never from Git`,
    );
    assert.match(lines[1] as string, /^server stage not run /);
    assert.match(lines[2] as string, /^chart internals not rendered /);
    assert.match(lines[3] as string, /^lumen check: 1 violation\(s\): \d+ objects, \d+ rules, \d+ ms$/);
  });
  test('a harmless manifest: exit 0 and a one-line summary', () => {
    const file = join(platform.dir, 'harmless.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: lumen\ndata:\n  LOG_LEVEL: info\n',
    );
    const r = lumen('--deploy', join(platform.dir, 'deploy'), file);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout.trim(),
      /^server stage not run .*\nchart internals not rendered .*\nlumen check: ok: \d+ objects, \d+ rules, \d+ ms$/,
    );
  });
  test('--json prints the violations as data', () => {
    const file = join(fixtures, 'bad', 'service-selects-nothing.yaml');
    const r = lumen('--json', '--deploy', join(platform.dir, 'deploy'), file);
    assert.equal(r.status, 1);
    const doc = JSON.parse(r.stdout) as {
      ok: boolean;
      violations: Array<{ rule: string; kind: string; name: string }>;
    };
    assert.equal(doc.ok, false);
    assert.deepEqual(
      doc.violations.map((v) => [v.rule, v.kind, v.name]),
      [['selector', 'Service', 'lumen-api-typo']],
    );
  });
  test('an unreadable path: exit 2 and one line on stderr', () => {
    const r = lumen('--deploy', join(platform.dir, 'deploy'), join(platform.dir, 'no-such-file.yaml'));
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^lumen: cannot read .*no-such-file\.yaml/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
  test('a file that is not YAML: exit 2', () => {
    const file = join(platform.dir, 'broken.yaml');
    writeFileSync(file, 'kind: [unclosed\n');
    const r = lumen('--deploy', join(platform.dir, 'deploy'), file);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^lumen: .*broken\.yaml: document 1/);
  });
  test('an unknown flag: exit 2', () => {
    const r = lumen('--frobnicate');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown flag --frobnicate/);
  });
});
