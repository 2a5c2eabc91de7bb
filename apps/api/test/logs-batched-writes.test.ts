/**
 * Log lines reach stdout in batches (logger.ts `batched`): info lines wait at most LOG_BATCH.maxDelayMs for others and
 * go out in one write, in order; a warning or worse goes out at once with everything before it; a full batch goes out
 * when it reaches LOG_BATCH.maxBytes; a process that exits (normally, on an uncaught exception, or by process.exit)
 * writes what is pending first.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { batched, createLogger, LOG_BATCH } from '../src/logger.ts';
import { API_DIR, NODE } from './support/entry.ts';

/** A logger on a batched destination that records each write it receives. */
function recorded() {
  const writes: string[] = [];
  const logger = createLogger({ logLevel: 'info' }, batched({ write: (chunk: string) => writes.push(chunk) }));
  const messages = (write: string) =>
    write
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).msg as string);
  return { logger, writes, messages };
}

it('writes the info lines of a burst once, in order, within the batch delay', async () => {
  const { logger, writes, messages } = recorded();
  for (let i = 0; i < 100; i++) logger.info({ i }, `line ${i}`);
  assert.equal(writes.length, 0, 'nothing is written while the batch is open');
  await sleep(LOG_BATCH.maxDelayMs + 50);
  assert.equal(writes.length, 1);
  assert.deepEqual(
    messages(writes[0] as string),
    Array.from({ length: 100 }, (_, i) => `line ${i}`),
  );
});

it('writes a warning or an error at once, after the lines pending before it', () => {
  const { logger, writes, messages } = recorded();
  logger.info('a');
  logger.debug('not logged at info');
  logger.info('b');
  logger.warn('c');
  assert.equal(writes.length, 1);
  assert.deepEqual(messages(writes[0] as string), ['a', 'b', 'c']);
  logger.error('d');
  assert.equal(writes.length, 2);
  assert.deepEqual(messages(writes[1] as string), ['d']);
  logger.info('e');
  logger.fatal('f');
  assert.deepEqual(messages(writes[2] as string), ['e', 'f']);
});

it('writes a batch as soon as it holds maxBytes', () => {
  const { logger, writes, messages } = recorded();
  const filler = 'x'.repeat(1000);
  let n = 0;
  while (writes.length === 0) logger.info({ filler }, `line ${n++}`);
  assert.ok(writes[0] !== undefined && writes[0].length >= LOG_BATCH.maxBytes);
  assert.ok(writes[0].length < LOG_BATCH.maxBytes + 2000, 'no more than one line beyond the limit');
  assert.equal(messages(writes[0]).length, n);
});

it('a process that exits writes its pending lines first, whatever the way out', () => {
  const logger = `${API_DIR}src/logger.ts`;
  for (const [how, exit] of [
    ['returns', ''],
    ['process.exit(3)', 'process.exit(3);'],
    ['uncaught exception', "setImmediate(() => { throw new Error('boom'); });"],
  ] as const) {
    const script = `import { createLogger } from ${JSON.stringify(logger)};
      const log = createLogger({ logLevel: 'info' });
      for (let i = 0; i < 5; i++) log.info('pending ' + i);
      ${exit}`;
    const run = spawnSync(NODE, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: API_DIR });
    const lines = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).msg);
    assert.deepEqual(lines, ['pending 0', 'pending 1', 'pending 2', 'pending 3', 'pending 4'], `${how}: ${run.stderr}`);
  }
});
