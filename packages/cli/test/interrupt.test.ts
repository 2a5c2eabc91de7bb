/**
 * Ctrl-C at the CLI edge: `lumen check --server` interrupted while it starts its kube-apiserver and
 * etcd (real ones, from the tool cache) prints one line, exits 130 as documented, and leaves no
 * server running and no instance directory behind.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { waitFor } from '@lumen/testkit';
import { lumenBin, runLumenSync } from '@lumen/testkit/lumen';

const repo = join(import.meta.dirname, '..', '..', '..');

describe('an interrupted lumen', () => {
  test('SIGINT during lumen check --server: one line, exit 130, its servers stopped', async () => {
    const child = spawn(process.execPath, [lumenBin, 'check', '--server'], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await waitFor('lumen to start its servers', async () => /server: starting kube-apiserver/.test(stderr), 60_000, 20);
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    assert.match(stderr, /^lumen: interrupted by SIGINT; run the command again to resume$/m);
    const root = join(tmpdir(), 'lumen-testkit');
    const left = existsSync(root) ? readdirSync(root).filter((d) => d.startsWith(`${child.pid}-`)) : [];
    assert.deepEqual(left, [], 'instance directories of the interrupted run');
    const running = spawnSync('pgrep', ['-f', `lumen-testkit/${child.pid}-`], { encoding: 'utf8' }).stdout.trim();
    assert.equal(running, '', 'etcd or kube-apiserver of the interrupted run still running');
  });
});

describe('a crashing lumen', () => {
  test('an exception thrown in a callback is exit 70 with "internal error", not the runtime exit 1', () => {
    // A preload that throws from a timer while `lumen check` runs stands in for a library crashing in a callback.
    const dir = mkdtempSync(join(tmpdir(), 'lumen-crash-'));
    const boom = join(dir, 'boom.mjs');
    writeFileSync(boom, 'setTimeout(() => { throw new Error("boom from a callback"); }, 300);\n');
    const r = runLumenSync(['check'], { cwd: repo, env: { NODE_OPTIONS: `--import=${boom}` } });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(r.code, 70, r.stderr);
    assert.match(r.stderr, /^lumen: internal error: Error: boom from a callback/m);
  });
});
