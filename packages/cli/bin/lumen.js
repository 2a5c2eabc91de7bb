#!/usr/bin/env node
// The lumen CLI is TypeScript run natively by Node 24. npm scripts and npx put the
// pinned Node 24 (node_modules/.bin/node) first on PATH; when an older Node starts
// this file anyway, re-run it under the pinned one instead of failing on `.ts`.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(realpathSync(fileURLToPath(import.meta.url)));
const main = join(here, '..', 'src', 'cli.ts');
const major = Number(process.versions.node.split('.')[0]);

if (major >= 24) {
  await import(main);
} else {
  const pinned = join(here, '..', '..', '..', 'node_modules', '.bin', 'node');
  if (!existsSync(pinned)) {
    console.error(`lumen: needs Node 24 or newer (found ${process.version}); run 'npm ci' at the repository root`);
    process.exit(2);
  }
  const r = spawnSync(pinned, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
