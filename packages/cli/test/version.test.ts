/**
 * `lumen version` from a checkout: the package's version, the checkout's HEAD (with `+dirty` when it has changes),
 * the OCI platform name and the runtime — four lines, exit 0; an argument is bad usage (exit 2).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runLumenSync } from '@lumen/testkit/lumen';

const repo = join(import.meta.dirname, '..', '..', '..');

test('lumen version prints version, revision, platform and runtime', () => {
  const r = runLumenSync(['version']);
  assert.equal(r.code, 0, r.stderr);
  const version = JSON.parse(readFileSync(join(repo, 'packages/cli/package.json'), 'utf8')).version;
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  assert.match(
    r.stdout,
    new RegExp(
      `^lumen ${version.replaceAll('.', '\\.')}\\nrevision ${head}(\\+dirty)?\\nplatform linux/${arch}\\nruntime node ${process.version}\\n$`,
    ),
  );
  const bad = runLumenSync(['version', 'extra']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^lumen version: unexpected argument 'extra'/);
});
