/**
 * `npm run drills [-- [--short] [drill…]]`: runs the drills one after another (each on its own servers, so they
 * never share a fault), prints progress on stderr and, at the end, one table on stdout with every check that
 * failed below it. Exit 0 when every drill passed, 1 when one failed, 2 on an unknown drill name.
 */
import { DRILLS, type DrillResult, formatTable, runDrill, SCALES } from './drills.ts';

const args = process.argv.slice(2);
const scale = args.includes('--short') ? SCALES.short : SCALES.full;
const names = args.filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !DRILLS.some((d) => d.name === n));
if (unknown.length > 0) {
  process.stderr.write(`drills: unknown drill ${unknown.join(', ')}; known: ${DRILLS.map((d) => d.name).join(', ')}\n`);
  process.exit(2);
}
const selected = DRILLS.filter((d) => names.length === 0 || names.includes(d.name));
const results: DrillResult[] = [];
const started = Date.now();
for (const drill of selected) {
  process.stderr.write(`\n== ${drill.name}: ${drill.description} (${scale.name})\n`);
  const result = await runDrill(drill, scale, (line) => process.stderr.write(`   ${line}\n`));
  for (const check of result.checks)
    process.stderr.write(`   ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}\n`);
  if (result.errorLogs.length > 0) {
    process.stderr.write(`   ${result.errorLogs.length} error lines in the instances' logs; the first:\n`);
    for (const line of result.errorLogs.slice(0, 5)) process.stderr.write(`     ${line}\n`);
  }
  results.push(result);
}
process.stdout.write(`\n${formatTable(results)}\n`);
process.stdout.write(
  `\n${scale.name} drills, ${scale.rate} operations/s, ${((Date.now() - started) / 1000).toFixed(0)} s in all\n`,
);
for (const r of results) {
  for (const c of r.checks.filter((c) => !c.ok)) process.stdout.write(`FAIL ${r.drill}: ${c.name}: ${c.detail}\n`);
}
process.exit(results.every((r) => r.passed) ? 0 : 1);
