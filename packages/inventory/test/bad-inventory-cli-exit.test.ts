/**
 * Through the real `lumen` CLI, an inventory error is one line on stderr (`lumen: <file>:<line>:
 * <field>: …`) and exit code 2, and a command that needs a fully locked inventory stops before it
 * writes anything. This is the contract between @lumen/inventory's errors and the CLI edge.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runLumenSync } from '@lumen/testkit/lumen';
import { copyInventory, type InventoryCopy } from './inventory-fixture.ts';

const copies: InventoryCopy[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'lumen-inventory-cli-'));
after(() => {
  for (const c of copies) c.remove();
  rmSync(scratch, { recursive: true, force: true });
});

function lumen(...args: string[]) {
  return runLumenSync(args, { timeout: 60_000 });
}

function copy(): InventoryCopy {
  const c = copyInventory();
  copies.push(c);
  return c;
}

describe('inventory errors at the CLI edge', () => {
  test('an unknown field: one line naming file, line and field, exit code 2', () => {
    const inv = copy();
    inv.edit('charts.yaml', '    chart: traefik\n', '    chart: traefik\n    verison: 41.1.0\n');
    const r = lumen('mirror-config', '--inventory', inv.dir);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] ?? '', /^lumen: .*charts\.yaml:\d+: charts\[\d+\]\.verison: unknown field$/);
  });

  test('a missing version: exit code 2 naming the field', () => {
    const inv = copy();
    inv.edit('images.yaml', / {4}tag: v3\.4\.4\n/, '');
    const r = lumen('mirror-config', '--inventory', inv.dir);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^lumen: .*images\.yaml:\d+: images\[\d+\]\.tag: required field is missing\n$/);
  });

  test('a tag without a digest where the lock is required: exit code 2, nothing written', () => {
    const inv = copy();
    inv.edit('images.yaml', 'tag: v3.7.9', 'tag: v3.7.10');
    const out = join(scratch, 'bundle');
    const r = lumen('bundle', 'create', '--out', out, '--inventory', inv.dir);
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /^lumen: .*lock\.yaml: images\.traefik: locked for tag v3\.7\.9 but the inventory says v3\.7\.10/,
    );
    assert.equal(existsSync(out), false, 'no bundle directory was created');
  });
});
