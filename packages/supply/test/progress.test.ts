/**
 * Progress on large blobs: in a log (not a terminal) a line every interval while work is under way, with bytes of the
 * total, the rate and an ETA, and none once it is done; on a terminal the live line says the same; quiet says
 * nothing. The clock is injected so the rate and ETA are exact.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration, Progress } from '../src/progress.ts';

const MiB = 1024 * 1024;

function sink(tty: boolean): { out: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(out, { isTTY: tty, columns: 200 });
  return { out, text: () => text };
}

describe('progress', () => {
  it('in a log: a line every interval with bytes, total, rate and ETA; none after the work is done', async () => {
    let now = 0;
    const { out, text } = sink(false);
    const p = new Progress({ out, clock: () => now, intervalMs: 20 });
    p.expect(100 * MiB);
    p.start('image big');
    p.advance('image big', 10 * MiB);
    now = 1000;
    p.advance('image big', 10 * MiB);
    await sleep(70);
    const lines = text().trim().split('\n');
    assert.ok(lines.length >= 2, text());
    assert.equal(lines[0], 'progress: 20.0 MiB of 100.0 MiB (20 %), 10.0 MiB/s, ETA 0:08; 0 done; now image big');
    p.done('image big', 'ok');
    const after = text();
    await sleep(70);
    assert.equal(text(), after, 'no progress line once nothing is under way');
    assert.match(after, /image big: ok\n$/);
  });

  it('on a terminal: the live line carries the same status', () => {
    let now = 0;
    const { out, text } = sink(true);
    const p = new Progress({ out, clock: () => now, intervalMs: 20 });
    p.expect(100 * MiB);
    p.start('image big');
    p.advance('image big', 10 * MiB);
    now = 2000;
    p.advance('image big', 30 * MiB);
    assert.ok(
      text().endsWith('\r\x1b[K0 done, 40.0 MiB of 100.0 MiB (40 %), 15.0 MiB/s, ETA 0:04 image big'),
      JSON.stringify(text()),
    );
  });

  it('quiet prints nothing; durations read as m:ss and h:mm:ss', async () => {
    const { out, text } = sink(false);
    const p = new Progress({ out, quiet: true, intervalMs: 10 });
    p.start('x');
    p.advance('x', 5);
    await sleep(40);
    p.finish('done');
    assert.equal(text(), '');
    assert.equal(formatDuration(65), '1:05');
    assert.equal(formatDuration(3723), '1:02:03');
  });
});
