/**
 * `lumen release bump`: before the first release lumen-api is left out of the render (a build image
 * has no digest until CI pushed it); the bump pins tag and digest in the inventory and re-renders,
 * so the Rollout pulls exactly that digest. Bad digests and tags are refused with exit 2.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadInventory } from '@lumen/inventory';
import { runLumenSync } from '@lumen/testkit/lumen';
import { parse, stringify } from 'yaml';
import { bumpRelease, render } from '../src/index.ts';
import { fixtureInventory, repoRoot } from './fixture-inventory.ts';

const fixture = fixtureInventory();
after(() => fixture.remove());
const out = join(fixture.dir, 'deploy');
const digest = `sha256:${'ab'.repeat(32)}`;

// Unreleased: lumen-api has no lock entry, as in the repository before CI's first push.
const lockPath = join(fixture.dir, 'lock.yaml');
const lock = parse(readFileSync(lockPath, 'utf8'));
delete lock.images['lumen-api'];
writeFileSync(lockPath, stringify(lock));

const lumen = (args: string[]) => runLumenSync(args, { cwd: repoRoot });

describe('release bump', () => {
  it('an unreleased lumen-api is left out of the render, with the reason, and nothing else is', () => {
    const { skipped, components } = render(loadInventory(fixture.dir));
    assert.deepEqual(
      skipped.map((s) => s.component),
      ['lumen-api'],
    );
    assert.match(skipped[0]?.reason ?? '', /release bump/);
    assert.ok(components.some((c) => c.name === 'kyverno-policies'));
  });

  it('refuses a malformed digest or a latest tag with exit 2 and writes nothing', () => {
    const before = readFileSync(lockPath, 'utf8');
    for (const args of [
      ['--digest', 'sha256:1234'],
      ['--digest', digest, '--tag', 'latest'],
      ['--tag', '1.0.0'],
    ]) {
      const r = lumen(['release', 'bump', ...args, '--inventory', fixture.dir, '--out', out]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^lumen: /);
    }
    assert.equal(readFileSync(lockPath, 'utf8'), before);
  });

  it('pins tag and digest in the inventory and renders the Rollout on exactly that digest', () => {
    const result = bumpRelease({ digest, tag: '0.2.0', inventoryDir: fixture.dir, outDir: out });
    assert.equal(result.tag, '0.2.0');
    const inv = loadInventory(fixture.dir);
    const img = inv.images.find((i) => i.name === 'lumen-api');
    assert.equal(img?.tag, '0.2.0');
    assert.equal(img?.digest, digest);
    const rollout = parse(readFileSync(join(out, 'components/lumen-api/rollout-lumen-api.yaml'), 'utf8'));
    assert.equal(
      rollout.spec.template.spec.containers[0].image,
      `${inv.site.registry}/lumen/lumen-api:0.2.0@${digest}`,
    );
    assert.ok(readFileSync(join(out, 'apps/lumen-api.yaml'), 'utf8').includes('sync-wave'));
    // Rewritten in the formatter's style (Biome's), so a release commit keeps `npm run lint` green.
    const images = readFileSync(join(fixture.dir, 'images.yaml'), 'utf8');
    assert.match(images, /platforms: \[linux\/amd64, linux\/arm64\]/);
    assert.doesNotMatch(images, /\[ linux/);
  });

  it('a second bump without --tag keeps the tag and changes only the digest-bearing files', () => {
    const next = `sha256:${'cd'.repeat(32)}`;
    const r = lumen(['release', 'bump', '--digest', next, '--inventory', fixture.dir, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /pinned lumen-api:0\.2\.0@sha256:cd/);
    const rollout = readFileSync(join(out, 'components/lumen-api/rollout-lumen-api.yaml'), 'utf8');
    assert.ok(rollout.includes(`lumen/lumen-api:0.2.0@${next}`));
    // Only the Rollout carries the digest; the rest of deploy/ is untouched.
    assert.match(r.stdout, /\(1 written, 0 removed\)/);
  });
});
