/**
 * The real platform: `lumen check` (the CLI) passes on the committed deploy/, which holds exactly
 * lumen's policies; and so does the platform as it renders after lumen-api's first release (the
 * same render with a digest for the lumen-api image), which brings in the Rollout, its Services,
 * policies and flows — the network matrix included.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '@lumen/inventory';
import { platformModel, render } from '@lumen/platform';
import { networkMatrix } from '../../../platform/src/network-matrix.ts';
import { constraints, constraintTemplates } from '../../../platform/src/policies/index.ts';
import { runCheck } from '../src/check.ts';
import { loadManifests } from '../src/manifests.ts';
import { factsFromModel } from '../src/platform-inputs.ts';
import { formatViolation } from '../src/report.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const main = join(root, 'packages/cli/src/main.ts');
const scratch = mkdtempSync(join(tmpdir(), 'lumen-check-release-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('the real platform', () => {
  test('lumen check passes on the committed deploy/', () => {
    const r = spawnSync(process.execPath, [main, 'check'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^lumen check: ok: \d+ objects, \d+ rules, \d+ ms\n$/);
  });

  test('deploy/ holds exactly the ConstraintTemplates and Constraints of platform/src/policies', () => {
    const deployed = loadManifests([join(root, 'deploy')], true, root).map((o) => o.obj);
    const templates = deployed.filter((o) => o.kind === 'ConstraintTemplate');
    const bound = deployed.filter((o) => o.apiVersion?.startsWith('constraints.gatekeeper.sh/'));
    const byName = (a: { metadata?: { name?: string } }, b: { metadata?: { name?: string } }) =>
      (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
    const plain = (x: unknown) => JSON.parse(JSON.stringify(x));
    const stripRendered = (o: Record<string, unknown>) => {
      const meta = { ...(o.metadata as Record<string, unknown>) };
      delete meta.labels;
      return { ...o, metadata: meta };
    };
    assert.deepEqual(templates.map(stripRendered).sort(byName), plain(constraintTemplates).sort(byName));
    assert.deepEqual(
      bound.map(stripRendered).sort(byName),
      plain(constraints({ registry: loadInventory().site.registry })).sort(byName),
    );
  });

  test('the platform rendered after the first lumen-api release passes every proof', async () => {
    const inv = loadInventory();
    const released: typeof inv = {
      ...inv,
      images: inv.images.map((i) => (i.name === 'lumen-api' ? { ...i, digest: `sha256:${'f'.repeat(64)}` } : i)),
    };
    const rendered = render(released);
    assert.deepEqual(
      rendered.skipped.map((s) => s.component).filter((c) => c === 'lumen-api'),
      [],
    );
    for (const [path, content] of rendered.files) {
      const file = join(scratch, 'deploy', path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
    const result = await runCheck({
      cwd: scratch,
      deployDir: 'deploy',
      inventory: released,
      facts: factsFromModel(platformModel(released)),
      matrix: networkMatrix(released),
    });
    assert.deepEqual(result.violations.map(formatViolation), []);
    assert.ok(
      result.objects > 0 && rendered.files.has('components/lumen-api/rollout-lumen-api.yaml'),
      'lumen-api is rendered',
    );
  });
});
