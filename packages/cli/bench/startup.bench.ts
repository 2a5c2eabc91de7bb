/**
 * Start-up of `lumen`: the single executable (`npm run build:cli`, built into a temporary directory by this bench
 * first) beside `npx lumen` — the way a checkout runs it — and `node packages/cli/bin/lumen.js` (the bin without
 * npx), in the same run. Each command runs `--help` and `version` (the lightest commands), `bundle ls` of a missing
 * bundle (loads the supply chain, exits 4) and `render --help` (loads the platform's commands); interleaved, median
 * of ROUNDS.
 * The ratio is npx's wall time over the executable's (above 1: the executable starts faster).
 *
 *   npm run bench -- packages/cli
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const out = mkdtempSync(join(tmpdir(), 'lumen-startup-bench-'));

try {
  const built = spawnSync(
    process.execPath,
    [join(root, 'scripts/build-cli.ts'), '--out', out, '--platform', 'linux/amd64'],
    {
      encoding: 'utf8',
    },
  );
  if (built.status !== 0) throw new Error(`build:cli failed:\n${built.stderr}`);
  const exe = join(out, 'lumen-linux-amd64');
  const runners: Record<string, (args: string[]) => [string, string[]]> = {
    'single executable': (args) => [exe, args],
    'npx lumen': (args) => ['npx', ['--no-install', 'lumen', ...args]],
    'node bin/lumen.js': (args) => [process.execPath, [join(root, 'packages/cli/bin/lumen.js'), ...args]],
  };
  const workloads: Record<string, string[]> = {
    '--help': ['--help'],
    version: ['version'],
    'bundle ls (missing)': ['bundle', 'ls', join(out, 'no-bundle')],
    // A command of the platform: the executable evaluates its second script (lumen-commands.cjs) first.
    'render --help': ['render', '--help'],
  };
  const times = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [workload, args] of Object.entries(workloads)) {
      for (const [runner, command] of Object.entries(runners)) {
        const [bin, argv] = command(args);
        const started = process.hrtime.bigint();
        spawnSync(bin, argv, { cwd: root, stdio: 'ignore' });
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const key = `${workload}|${runner}`;
        times.set(key, [...(times.get(key) ?? []), ms]);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  console.log(`start-up, median of ${ROUNDS} interleaved runs (wall ms); ratio = npx lumen / single executable`);
  console.log('| command | single executable | npx lumen | node bin/lumen.js | ratio |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const workload of Object.keys(workloads)) {
    const m = (runner: string) => median(times.get(`${workload}|${runner}`) ?? []);
    const sea = m('single executable');
    console.log(
      `| ${workload} | ${sea.toFixed(0)} | ${m('npx lumen').toFixed(0)} | ${m('node bin/lumen.js').toFixed(0)} | ${(m('npx lumen') / sea).toFixed(2)}× |`,
    );
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
