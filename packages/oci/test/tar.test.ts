/**
 * The tar writer is deterministic and readable by GNU tar (the real engine): sorted entries, the modes and owners
 * given, one mtime, PAX headers for paths ustar cannot hold; readTar reads back what it wrote and what GNU tar
 * writes (GNU long names included).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readTar, type TarInput, writeTar } from '../src/index.ts';

const work = mkdtempSync(join(tmpdir(), 'lumen-tar-'));
after(() => rmSync(work, { recursive: true, force: true }));

const deep = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(120)}.txt`;
const entries: TarInput[] = [
  { path: 'usr/bin/tool', type: 'file', mode: 0o755, data: Buffer.from('#!/bin/sh\n') },
  { path: 'tmp', type: 'dir', mode: 0o1777 },
  { path: 'data', type: 'dir', mode: 0o755, uid: 10001, gid: 10001 },
  { path: 'usr', type: 'dir', mode: 0o755 },
  { path: 'usr/bin', type: 'dir', mode: 0o755 },
  { path: 'usr/bin/alias', type: 'symlink', mode: 0o777, linkname: 'tool' },
  { path: deep, type: 'file', mode: 0o644, data: Buffer.from('deep\n') },
  { path: 'd'.repeat(60), type: 'dir', mode: 0o755 },
  { path: `${'d'.repeat(60)}/${'e'.repeat(60)}`, type: 'dir', mode: 0o755 },
  { path: 'link-far', type: 'symlink', mode: 0o777, linkname: `/${'x'.repeat(150)}` },
];

describe('tar', () => {
  it('writes the same bytes whatever order the entries come in', () => {
    assert.deepEqual(writeTar(entries, 1_700_000_000), writeTar([...entries].reverse(), 1_700_000_000));
    assert.notDeepEqual(writeTar(entries, 0), writeTar(entries, 1), 'the mtime is in the archive');
  });

  it('GNU tar lists what was written: sorted, with modes, owners, links and long paths', () => {
    const file = join(work, 'out.tar');
    writeFileSync(file, writeTar(entries, 0));
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', file], { encoding: 'utf8' }).trim().split('\n');
    const names = listing.map((l) => l.replace(/^\S+\s+\S+\s+\d+\s+\S+\s+\S+\s+/, ''));
    assert.deepEqual(names, [
      'data/',
      `${'d'.repeat(60)}/`,
      `${'d'.repeat(60)}/${'e'.repeat(60)}/`,
      deep,
      `link-far -> /${'x'.repeat(150)}`,
      'tmp/',
      'usr/',
      'usr/bin/',
      'usr/bin/alias -> tool',
      'usr/bin/tool',
    ]);
    const line = (name: string) => listing[names.indexOf(name)] as string;
    assert.match(line('data/'), /^drwxr-xr-x 10001\/10001 /);
    assert.match(line('tmp/'), /^drwxrwxrwt 0\/0 /);
    assert.match(line('usr/bin/tool'), /^-rwxr-xr-x 0\/0 +10 1970-01-01 00:00 usr\/bin\/tool$/);
    const extracted = join(work, 'x');
    mkdirSync(extracted);
    execFileSync('tar', ['-xf', file, '-C', extracted]);
    assert.equal(readFileSync(join(extracted, deep), 'utf8'), 'deep\n');
  });

  it('reads back what it wrote', () => {
    const back = [...readTar(writeTar(entries, 0))];
    const tool = back.find((e) => e.path === 'usr/bin/tool');
    assert.equal(Buffer.from(tool?.data ?? []).toString(), '#!/bin/sh\n');
    assert.equal(tool?.mode, 0o755);
    assert.equal(back.find((e) => e.path === deep)?.type, 'file');
    assert.equal(back.find((e) => e.path === 'link-far')?.linkname, `/${'x'.repeat(150)}`);
    assert.deepEqual(
      back.map((e) => e.path),
      [...entries.map((e) => e.path)].sort(),
    );
  });

  it('reads what GNU tar writes, GNU long names included', () => {
    const src = join(work, 'src');
    mkdirSync(join(src, 'a'.repeat(120)), { recursive: true });
    writeFileSync(join(src, 'a'.repeat(120), 'b'.repeat(110)), 'long\n');
    symlinkSync('a'.repeat(120), join(src, 'link'));
    const file = join(work, 'gnu.tar');
    execFileSync('tar', ['--format=gnu', '-cf', file, '-C', src, '.']);
    const got = [...readTar(readFileSync(file))];
    const long = got.find((e) => e.path === `${'a'.repeat(120)}/${'b'.repeat(110)}`);
    assert.equal(Buffer.from(long?.data ?? []).toString(), 'long\n');
    assert.equal(got.find((e) => e.path === 'link')?.linkname, 'a'.repeat(120));
  });

  it('refuses a path given twice and a truncated archive', () => {
    assert.throws(() => writeTar([...entries, { path: './tmp/', type: 'dir', mode: 0o755 }]), /tmp given twice/);
    const whole = writeTar(entries, 0);
    assert.throws(() => [...readTar(whole.subarray(0, 700))], /truncated/);
  });
});
