#!/usr/bin/env node
// The lumen CLI is TypeScript run natively by Node 24. npm scripts and npx put the
// pinned Node 24 (node_modules/.bin/node) first on PATH; when an older Node starts
// this file anyway, re-run it under the pinned one instead of failing on `.ts`.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import module from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(realpathSync(fileURLToPath(import.meta.url)));
const main = join(here, '..', 'src', 'cli.ts');
const major = Number(process.versions.node.split('.')[0]);

if (major >= 24) {
  // V8's code for every module (type-stripped) is kept on disk between runs, keyed by the source's hash and Node's
  // version: a command starts in about half the time (docs/single-executable.md "Start-up"). Off with
  // NODE_DISABLE_COMPILE_CACHE=1; a cache that cannot be written is skipped silently.
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  module.enableCompileCache?.(join(cacheHome, 'lumen', 'node-compile-cache'));
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
