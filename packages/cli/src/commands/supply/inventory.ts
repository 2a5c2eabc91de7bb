/** `lumen inventory lock`: every tag and version of the inventory pinned to a digest in lock.yaml. */
import { join } from 'node:path';
import { INVENTORY_FILES, loadInventory } from '@lumen/inventory';
import { lockInventory, Progress } from '@lumen/supply';
import { ExitCode } from '../../errors.ts';
import type { Command } from '../../types.ts';
import { caFileUsage, exitCodes, intFlag, parseFlags, printJson, upstreamFlags } from './flags.ts';
import { tuning } from './registry-access.ts';

export const inventoryLock: Command = {
  summary: 'resolve every image tag, chart and file of the inventory to a digest (writes lock.yaml)',
  usage: `usage: lumen inventory lock [--inventory DIR] [--ca-file FILE]... [--plain-http-registry HOST]... [--concurrency N] [--json]

Resolves every upstream image tag (its index filtered to the inventory's platforms), chart
archive and file to a SHA-256 digest and writes DIR/lock.yaml atomically. Needs the network.

  --inventory DIR             inventory directory (default: the repository's inventory/)
  --plain-http-registry HOST  speak plain HTTP to this registry host:port (repeatable; default HTTPS)
${caFileUsage}
  --concurrency N             parallel requests (default 4)
  --json                      print the resolved digests as JSON on stdout
${exitCodes}`,
  async run(args) {
    const { values } = parseFlags('inventory lock', args, upstreamFlags, false);
    // Entries of names removed from the inventory are dropped by this lock, so they may not stop its load.
    const inv = loadInventory(values.inventory, {
      requireLock: false,
      ignoreStaleLock: true,
      carry: true,
    });
    const progress = new Progress();
    const changes = await lockInventory(inv, {
      access: { plainHttp: new Set(values['plain-http-registry'] ?? []), ...tuning() },
      progress,
      concurrency: intFlag('inventory lock', 'concurrency', values.concurrency, 4),
    });
    const lock = join(inv.dir, INVENTORY_FILES.lock);
    const changed = changes.filter((c) => c.previous !== undefined).length;
    progress.finish(`locked ${changes.length} entries (${changed} changed) in ${lock}`);
    if (values.json) printJson({ lock, entries: changes });
    return ExitCode.ok;
  },
};
