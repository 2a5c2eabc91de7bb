/**
 * The smallest carry: an upstream registry holding one single-platform image `library/app:1.0`, an empty airgap
 * registry, and an inventory naming that image in a fresh work directory. Registers its own before/after hooks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Registry } from '@lumen/oci';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { seedImage } from './images.ts';
import { writeInventory } from './inventory.ts';

export interface OneImage {
  work: string;
  invDir: string;
  bundle: string;
  upstream: TestRegistry;
  airgap: TestRegistry;
}

/** `site`: as for writeInventory (undefined = the full reference site pointing at the airgap registry). */
export function oneImageCarry(prefix: string, site?: Record<string, unknown> | null): OneImage {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const fixture = { work, invDir: join(work, 'inventory'), bundle: join(work, 'bundle') } as OneImage;
  before(async () => {
    [fixture.upstream, fixture.airgap] = await Promise.all([startRegistry(), startRegistry()]);
    const { upstream, airgap } = fixture;
    await seedImage(new Registry({ host: upstream.host, plainHttp: true }), 'library/app', '1.0', {
      platforms: ['linux/amd64'],
    });
    writeInventory(fixture.invDir, {
      registry: airgap.host,
      site,
      images: [{ name: 'app', source: `${upstream.host}/library/app`, tag: '1.0', platforms: ['linux/amd64'] }],
    });
  });
  after(async () => {
    await Promise.allSettled([fixture.upstream?.close(), fixture.airgap?.close()]);
    rmSync(work, { recursive: true, force: true });
  });
  return fixture;
}
