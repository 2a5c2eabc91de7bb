/**
 * A throwaway copy of the real inventory with every image and chart locked to a made-up digest
 * (sha256 of its name) and a freshly generated cosign public key, so rendering can be tested
 * whatever the state of the real lock. Digests are fake but well-formed; nothing is pulled.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadInventory } from '@lumen/inventory';
import { stringify } from 'yaml';

export const repoRoot = resolve(import.meta.dirname, '../..');

function fakeDigest(name: string): string {
  return `sha256:${createHash('sha256').update(name).digest('hex')}`;
}

/** Creates the fixture; call `remove()` in `after()`. */
export function fixtureInventory(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-platform-inv-'));
  const source = join(repoRoot, 'inventory');
  for (const f of readdirSync(source))
    if (f.endsWith('.yaml') && f !== 'lock.yaml') copyFileSync(join(source, f), join(dir, f));
  writeFileSync(join(dir, 'lock.yaml'), 'lockVersion: 1\n');
  const inv = loadInventory(dir);
  const lock = {
    lockVersion: 1,
    images: Object.fromEntries(inv.images.map((i) => [i.name, { tag: i.tag, digest: fakeDigest(i.name) }])),
    charts: Object.fromEntries(inv.charts.map((c) => [c.name, { version: c.version, digest: fakeDigest(c.name) }])),
    files: Object.fromEntries(inv.files.map((f) => [f.name, { version: f.version, digest: fakeDigest(f.name) }])),
  };
  writeFileSync(join(dir, 'lock.yaml'), stringify(lock));
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(dir, 'cosign.pub'), publicKey.export({ type: 'spki', format: 'pem' }).toString());
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
