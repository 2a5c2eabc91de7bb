/**
 * Admission dry run semantics: manifests are applied on top of the platform — an object with the
 * identity of a platform object replaces it, others are added — and only the violations they add
 * are reported, including those they cause in platform objects.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

describe('admission dry run', () => {
  test('a second metrics Service is blamed on the platform ServiceMonitor it now doubles', async () => {
    const file = join(platform.dir, 'second-metrics.yaml');
    writeFileSync(
      file,
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: lumen-api-metrics-2\n  namespace: lumen\n  labels:\n    app: lumen-api\n    metrics: "true"\nspec:\n  selector:\n    app: lumen-api\n  ports:\n    - port: 9090\n',
    );
    const result = await runCheck({ ...fixtureOptions(platform.dir), paths: [file] });
    assert.deepEqual(result.violations.map(formatViolation), [
      'deploy/lumen/services.yaml: ServiceMonitor/lumen/lumen-api: selector: must select exactly one Service, selects 2 (lumen/lumen-api-metrics, lumen/lumen-api-metrics-2)',
    ]);
  });

  test('an object with the identity of a platform object replaces it instead of duplicating it', async () => {
    const before = await runCheck(fixtureOptions(platform.dir));
    const same = join(platform.dir, 'rollout-again.yaml');
    writeFileSync(same, readFileSync(join(fixtures, 'platform', 'lumen', 'rollout.yaml')));
    const result = await runCheck({ ...fixtureOptions(platform.dir), paths: [same] });
    assert.deepEqual(result.violations, []);
    assert.equal(result.objects, before.objects);
  });

  test('folders are read recursively and every document is proven', async () => {
    const dir = join(platform.dir, 'bundle', 'nested');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.yaml'), readFileSync(join(fixtures, 'bad', 'secret-with-data.yaml')));
    writeFileSync(join(dir, 'b.yml'), readFileSync(join(fixtures, 'bad', 'service-selects-nothing.yaml')));
    writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
    const result = await runCheck({ ...fixtureOptions(platform.dir), paths: [join(platform.dir, 'bundle')] });
    assert.deepEqual(
      result.violations.map((v) => v.rule),
      ['plaintext-secret', 'selector'],
    );
  });
});
