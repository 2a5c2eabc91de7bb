/**
 * Ctrl-C at the CLI edge: `lumen check --server` interrupted while it starts its kube-apiserver and
 * etcd (real ones, from the tool cache) prints one line, exits 130 as documented, and leaves no
 * server running and no instance directory behind.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { waitFor } from '@lumen/testkit';
import { lumenBin } from '@lumen/testkit/lumen';

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
