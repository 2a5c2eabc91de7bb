/**
 * The Zstandard seekable format against the real zstd: the frame walk reads the frames zstd writes (raw, RLE and
 * compressed blocks; 1-, 2- and 4-byte or absent Frame_Content_Size; with and without checksum; skippable frames) and
 * stops at a torn one wherever it is cut; a seek table written here is ignored by `zstd -d` and read back; any byte
 * range is decompressed from the frames covering it; a frame that does not decompress is named.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { constants, zstdCompressSync } from 'node:zlib';
import { CorruptFrame, readFrames, readSeekTable, seekTable, walkZstdFrames } from '../src/zstd-seekable.ts';

const work = mkdtempSync(join(tmpdir(), 'lumen-zstd-'));
after(() => rmSync(work, { recursive: true, force: true }));

async function withFile<T>(file: string, fn: (handle: Awaited<ReturnType<typeof open>>, size: number) => Promise<T>) {
  const handle = await open(file, 'r');
  try {
    return await fn(handle, (await handle.stat()).size);
  } finally {
    await handle.close();
  }
}

/** `zstd ARGS` of `data`, through a file (content size known) or stdin (unknown). */
function zstd(data: Buffer, args: string[], via: 'file' | 'stdin' = 'file'): Buffer {
  const input = join(work, 'input');
  writeFileSync(input, data);
  return via === 'file'
    ? execFileSync('zstd', ['-q', '-c', ...args, input])
    : execFileSync('zstd', ['-q', '-c', ...args], { input: data });
}

const text = Buffer.from(Array.from({ length: 20000 }, (_, i) => `line ${i % 97} of a text\n`).join(''));
const inputs = [
  { data: Buffer.alloc(300 * 1024), args: [], contentSize: true }, // RLE blocks, 4-byte content size
  { data: randomBytes(300 * 1024), args: ['--no-check'], contentSize: true }, // raw blocks, no checksum
  { data: text, args: ['-19'], contentSize: true }, // compressed blocks
  { data: Buffer.from('a small one'), args: [], contentSize: true }, // single segment, 1-byte content size
  { data: randomBytes(1000), args: [], contentSize: true }, // 2-byte content size
  { data: text, args: [], contentSize: false, via: 'stdin' as const }, // no content size
];

describe('the zstd frame walk', () => {
  const frames = inputs.map((i) => zstd(i.data, i.args, i.via));
  const skippable = seekTable([]);
  const file = join(work, 'frames.zst');
  const whole = Buffer.concat([...frames, skippable]);
  writeFileSync(file, whole);

  it('reads every frame zstd writes, and skippable frames, to the end', async () => {
    assert.ok(
      execFileSync('zstd', ['-dc', file], { maxBuffer: 1 << 26 }).equals(Buffer.concat(inputs.map((i) => i.data))),
    );
    const walk = await withFile(file, walkZstdFrames);
    assert.equal(walk.stop, 'eof');
    assert.equal(walk.end, whole.length);
    assert.deepEqual(
      walk.frames.map((f) => [f.size, f.skippable, f.contentSize]),
      [
        ...frames.map((f, i) => [f.length, false, inputs[i]?.contentSize ? inputs[i]?.data.length : undefined]),
        [skippable.length, true, undefined],
      ],
    );
  });

  it('stops at a torn frame wherever it is cut, keeping the whole frames before it', async () => {
    const last = frames.at(-1) as Buffer;
    const before = whole.length - skippable.length - last.length;
    const cut = join(work, 'cut.zst');
    // In the magic, the frame header, a block header, a block, the checksum; then foreign bytes after a whole frame.
    for (const keep of [2, 5, 7, 9, Math.floor(last.length / 2), last.length - 2]) {
      writeFileSync(cut, whole.subarray(0, before + keep));
      const walk = await withFile(cut, walkZstdFrames);
      assert.equal(walk.stop, 'torn', `cut ${keep} bytes into the frame`);
      assert.equal(walk.end, before);
      assert.equal(walk.frames.length, frames.length - 1);
    }
    writeFileSync(cut, Buffer.concat([whole.subarray(0, before), Buffer.alloc(700, 7)]));
    assert.deepEqual(
      await withFile(cut, async (h, size) => {
        const { stop, end } = await walkZstdFrames(h, size);
        return { stop, end };
      }),
      { stop: 'torn', end: before },
    );
  });
});

describe('a seekable zstd file', () => {
  const content = Buffer.concat([randomBytes(700 * 1024), text, Buffer.alloc(200 * 1024, 1)]);
  const cuts = [0, 100 * 1024, 100 * 1024 + 1, 600 * 1024, content.length - 10, content.length];
  const pieces = cuts.slice(1).map((end, i) => content.subarray(cuts[i], end));
  const compressed = pieces.map((p) =>
    zstdCompressSync(p, { pledgedSrcSize: p.length, params: { [constants.ZSTD_c_checksumFlag]: 1 } }),
  );
  const file = join(work, 'seekable.zst');
  writeFileSync(
    file,
    Buffer.concat([
      ...compressed,
      seekTable(compressed.map((c, i) => ({ size: c.length, contentSize: pieces[i]?.length ?? 0 }))),
    ]),
  );

  it('is an ordinary .zst to zstd, and its seek table reads back', async () => {
    execFileSync('zstd', ['-q', '-t', file]);
    assert.ok(execFileSync('zstd', ['-dc', file], { maxBuffer: 1 << 26 }).equals(content));
    const table = await withFile(file, readSeekTable);
    assert.equal(table.kind, 'frames');
    if (table.kind !== 'frames') return;
    assert.equal(table.contentSize, content.length);
    assert.deepEqual(
      table.frames.map((f) => [f.size, f.contentOffset]),
      compressed.map((c, i) => [c.length, cuts[i]]),
    );
  });

  it('gives any byte range from the frames covering it', async () => {
    const table = await withFile(file, readSeekTable);
    assert.equal(table.kind, 'frames');
    if (table.kind !== 'frames') return;
    for (const [start, end] of [
      [0, content.length],
      [5, 6],
      [100 * 1024 - 3, 100 * 1024 + 3],
      [650 * 1024, content.length - 5],
      [content.length - 1, content.length],
    ] as const) {
      const parts: Buffer[] = [];
      for await (const part of readFrames(file, table.frames, start, end)) parts.push(part);
      assert.ok(Buffer.concat(parts).equals(content.subarray(start, end)), `${start}-${end}`);
    }
  });

  it('says absent for zstd output without a table, damaged for a table that does not fit the file', async () => {
    const plain = join(work, 'plain.zst');
    writeFileSync(plain, zstd(content, []));
    assert.deepEqual(await withFile(plain, readSeekTable), { kind: 'absent' });
    const bytes = readFileSync(file);
    const short = join(work, 'short.zst');
    writeFileSync(short, Buffer.concat([bytes.subarray(0, 1000), bytes.subarray(compressed[0]?.length ?? 0)]));
    assert.equal((await withFile(short, readSeekTable)).kind, 'damaged');
  });

  it('names a frame that does not decompress', async () => {
    const table = await withFile(file, readSeekTable);
    if (table.kind !== 'frames') assert.fail(table.kind);
    const bytes = readFileSync(file);
    const frame = table.frames[1];
    assert.ok(frame);
    const at = frame.offset + Math.floor(frame.size / 2);
    bytes[at] = (bytes[at] as number) ^ 0xff;
    const corrupt = join(work, 'corrupt.zst');
    writeFileSync(corrupt, bytes);
    await assert.rejects(
      (async () => {
        for await (const _ of readFrames(corrupt, table.frames, 0, content.length)) {
          // Consume.
        }
      })(),
      (err: unknown) => err instanceof CorruptFrame && err.frame.offset === frame.offset,
    );
  });
});
