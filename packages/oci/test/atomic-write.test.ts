import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { writeFileAtomic, writeFileAtomicSync } from '../src/index.ts';

const variants = {
  writeFileAtomic,
  writeFileAtomicSync: async (...args: Parameters<typeof writeFileAtomicSync>) => writeFileAtomicSync(...args),
};

for (const [name, write] of Object.entries(variants)) {
  describe(name, () => {
    const dir = mkdtempSync(join(tmpdir(), 'lumen-atomic-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('replaces the content of a file and leaves no temporary file', async () => {
      const path = join(dir, 'lock.yaml');
      writeFileSync(path, 'old\n');
      await write(path, 'new\n');
      assert.equal(readFileSync(path, 'utf8'), 'new\n');
      await write(path, Buffer.from('bytes'));
      assert.equal(readFileSync(path, 'utf8'), 'bytes');
      assert.deepEqual(readdirSync(dir), ['lock.yaml']);
      rmSync(path);
    });

    it('gives the file its mode whatever the umask', async () => {
      const path = join(dir, 'cosign.key');
      await write(path, 'secret', { mode: 0o600 });
      assert.equal(statSync(path).mode & 0o777, 0o600);
      await write(path, 'secret', { mode: 0o640 });
      assert.equal(statSync(path).mode & 0o777, 0o640);
      rmSync(path);
    });

    it('keeps the temporary file in tmpDir when given', async () => {
      const tmp = join(dir, 'tmp');
      mkdirSync(tmp);
      const path = join(dir, 'index.json');
      await write(path, '{}', { tmpDir: tmp });
      assert.equal(readFileSync(path, 'utf8'), '{}');
      assert.deepEqual(readdirSync(tmp), []);
      rmSync(path);
      rmSync(tmp, { recursive: true });
    });

    it('a failed write leaves the target as it was and removes its temporary file', async () => {
      const target = join(dir, 'occupied');
      mkdirSync(target);
      writeFileSync(join(target, 'inside'), 'kept');
      await assert.rejects(write(target, 'x'), (err: NodeJS.ErrnoException) => typeof err.code === 'string');
      assert.equal(readFileSync(join(target, 'inside'), 'utf8'), 'kept');
      assert.deepEqual(readdirSync(dir), ['occupied']);
      await assert.rejects(write(join(dir, 'missing', 'file'), 'x'), { code: 'ENOENT' });
      rmSync(target, { recursive: true });
    });
  });
}
