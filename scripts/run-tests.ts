/**
 * Runs the test suite with Node's built-in runner: every `*.test.ts` of every workspace,
 * or only the files/folders given (`npm test -- apps/api/test/items.test.ts`).
 * Test files start real servers on loopback through @lumen/testkit, so files run two at a
 * time (the machines have 2 cores) and each file has a generous timeout.
 */
import { spawnSync } from 'node:child_process';
import { globSync, statSync } from 'node:fs';

const roots = ['apps/*/test', 'packages/*/test', 'platform/test', 'test'];
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const paths = args.filter((a) => !a.startsWith('--'));

const patterns = (paths.length > 0 ? paths : roots).map((p) =>
  p.endsWith('.ts') || !isDirOrGlob(p) ? p : `${p.replace(/\/$/, '')}/**/*.test.ts`,
);
const files = patterns.flatMap((p) => globSync(p)).filter((f) => !f.includes('node_modules'));
if (files.length === 0) {
  console.error(`run-tests: no test files match ${patterns.join(' ')}`);
  process.exit(1);
}

const concurrency = process.env.LUMEN_TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000', ...flags, ...files.sort()],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);

function isDirOrGlob(p: string): boolean {
  if (p.includes('*')) return true;
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
