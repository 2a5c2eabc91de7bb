/**
 * Runs every benchmark (`<workspace>/bench/*.bench.ts`), one after another so they never compete for
 * the 2 cores. Each benchmark prints its own table with ratios against a baseline measured in the same
 * run; `npm run bench -- packages/check` runs only the benchmarks under that path and those named
 * after that package.
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

const filters = process.argv.slice(2);
const files = ['apps/*/bench/*.bench.ts', 'packages/*/bench/*.bench.ts', 'platform/bench/*.bench.ts']
  .flatMap((p) => globSync(p))
  .filter((f) => filters.length === 0 || filters.some((x) => selects(x.replace(/^\.\//, '').replace(/\/$/, ''), f)))
  .sort();
if (files.length === 0) {
  console.error('run-bench: no benchmark matches');
  process.exit(1);
}
let failed = 0;

/**
 * A filter selects the benchmarks under that path, and — for a workspace (`packages/check`) —
 * the benchmarks named after it elsewhere (`platform/bench/check.bench.ts` measures @lumen/check
 * on the platform's inputs, which @lumen/check itself may not import).
 */
function selects(filter: string, file: string): boolean {
  if (file.startsWith(filter)) return true;
  const workspace = /^(?:packages|apps)\/([^/]+)$/.exec(filter);
  return workspace !== null && file.endsWith(`/bench/${workspace[1]}.bench.ts`);
}
for (const file of files) {
  console.log(`\n=== ${file}`);
  const r = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`run-bench: ${file} exited with ${r.status ?? r.signal}`);
  }
}
process.exit(failed > 0 ? 1 : 0);
