/**
 * Every drill of `npm run drills` in its short form (drills/drills.ts `SCALES.short`), each on its own real servers
 * and two lumen-api processes behind the round-robin balancer, under a steady load of mixed reads and keyed writes
 * with retrying clients. Each check of a drill is asserted: 0 duplicate rows, 0 acknowledged writes lost, no crash,
 * no failed request outside the fault window, every key refused during an outage accepted within 1 s of the
 * dependency's return — and, per drill, latency that rises by the injected delay times the request's round trips
 * and no more, no 5xx at all under fuzzing, 0 failed requests across a rolling SIGTERM, one row per storm key.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DRILLS, formatTable, runDrill, SCALES } from '../drills/drills.ts';

for (const drill of DRILLS) {
  it(`drill ${drill.name}: ${drill.description}`, async (t) => {
    const result = await runDrill(drill, SCALES.short, (line) => t.diagnostic(line));
    t.diagnostic(`\n${formatTable([result])}`);
    for (const check of result.checks) t.diagnostic(`${check.ok ? 'ok' : 'FAIL'} ${check.name}: ${check.detail}`);
    for (const line of result.errorLogs.slice(0, 5)) t.diagnostic(`API error log: ${line}`);
    assert.ok(result.requests > SCALES.short.rate, `the load ran: ${result.requests} requests`);
    assert.deepEqual(
      result.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`),
      [],
      'every check of the drill holds',
    );
  });
}
