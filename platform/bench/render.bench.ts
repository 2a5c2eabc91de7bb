/**
 * How long `lumen render` takes, against a baseline measured in the same run: parsing the YAML it
 * writes (what any consumer of deploy/ — Argo CD, `lumen check` — must at least do). Prints ratios,
 * asserts nothing. Run: `npm run bench -- platform`.
 */
import { performance } from 'node:perf_hooks';
import { loadInventory } from '@lumen/inventory';
import { parseAllDocuments } from 'yaml';
import { render } from '../src/index.ts';
import { fixtureInventory } from '../test/fixture-inventory.ts';

const fixture = fixtureInventory();
try {
  const inv = loadInventory(fixture.dir);
  const files = render(inv).files; // warm-up: module loading and schema compilation
  const bytes = [...files.values()].reduce((n, f) => n + f.length, 0);

  const time = (runs: number, fn: () => void): number => {
    const start = performance.now();
    for (let i = 0; i < runs; i++) fn();
    return (performance.now() - start) / runs;
  };
  const baseline = time(10, () => {
    for (const content of files.values()) parseAllDocuments(content);
  });
  const full = time(10, () => render(inv));

  console.log(`files ${files.size}, ${(bytes / 1024).toFixed(0)} KiB of YAML`);
  console.log('| measure | ms per run | ratio to baseline |');
  console.log('| --- | --- | --- |');
  console.log(`| baseline: parse every rendered file (yaml) | ${baseline.toFixed(1)} | 1.00 |`);
  console.log(`| render (build, validate, serialize) | ${full.toFixed(1)} | ${(full / baseline).toFixed(2)} |`);
} finally {
  fixture.remove();
}
