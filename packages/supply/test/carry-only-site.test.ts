/**
 * The supply chain reads only the site settings it uses (docs/inventory.md): an inventory with no site.yaml locks,
 * bundles and verifies; `bundle push` then needs `--registry` and says so (exit 2) without it, as `mirror-config`
 * does for the registry its mirrors point at; a site.yaml with only `registry:` serves both; a given field is still
 * validated. The platform's load still requires every setting.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadInventory } from '@lumen/inventory';
import { oneImageCarry } from './support/one-image.ts';
import { lumen } from './support/run.ts';

const fx = oneImageCarry('lumen-carry-site-', null);

test('without site.yaml: lock, create and verify work; push needs --registry, mirror-config a registry', async () => {
  const { invDir, bundle, upstream, airgap } = fx;
  const plain = ['--inventory', invDir, '--plain-http-registry', upstream.host];
  const lock = await lumen(['inventory', 'lock', ...plain]);
  assert.equal(lock.code, 0, lock.stderr);
  const create = await lumen(['bundle', 'create', '--out', bundle, ...plain]);
  assert.equal(create.code, 0, create.stderr);
  assert.equal((await lumen(['bundle', 'verify', bundle, '--inventory', invDir])).code, 0);

  const noTarget = await lumen(['bundle', 'push', bundle, '--inventory', invDir]);
  assert.equal(noTarget.code, 2, noTarget.stderr);
  assert.match(
    noTarget.stderr,
    /^lumen: bundle push: no --registry given, and the inventory's site\.yaml names no registry/m,
  );
  const push = await lumen(['bundle', 'push', bundle, '--registry', airgap.host, '--plain-http']);
  assert.equal(push.code, 0, push.stderr);

  const mirrors = await lumen(['mirror-config', '--inventory', invDir]);
  assert.equal(mirrors.code, 2, mirrors.stderr);
  assert.match(mirrors.stderr, /mirror-config: .*site\.yaml names no registry/);
});

test('a site.yaml with only registry serves push and mirror-config; a bad field is still refused', async () => {
  const { invDir, bundle, airgap } = fx;
  writeFileSync(join(invDir, 'site.yaml'), `registry: ${airgap.host}\nplainHttp: true\n`);
  const push = await lumen(['bundle', 'push', bundle, '--inventory', invDir]);
  assert.equal(push.code, 0, push.stderr);
  const mirrors = await lumen(['mirror-config', '--inventory', invDir]);
  assert.equal(mirrors.code, 0, mirrors.stderr);
  assert.match(mirrors.stdout, new RegExp(`endpoint:\\n\\s+- http://${airgap.host.replace('.', '\\.')}`));

  writeFileSync(join(invDir, 'site.yaml'), 'registry: http://not-a-host\n');
  const bad = await lumen(['bundle', 'push', bundle, '--inventory', invDir]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /site\.yaml:1: registry: must be host\[:port\], without scheme or path/);
  // The platform's load still needs every site setting.
  assert.throws(() => loadInventory(invDir), /site\.yaml/);
});
