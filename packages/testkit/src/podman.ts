/**
 * Debian's podman as these machines allow it (docs/testing.md): a private containers.conf (runc, cgroupfs, file
 * events, fixed ulimits) and private storage under a temporary directory, so a test touches no system state.
 * Containers use the host network (loopback only): no network setup is needed or allowed.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HarnessError } from './errors.ts';

const run = promisify(execFile);

export interface Podman {
  /** `podman ARGS` with the private configuration; rejects with stderr on a non-zero exit. */
  (args: string[], options?: { timeout?: number }): Promise<{ stdout: string; stderr: string }>;
  /** Removes every container and the storage. */
  close(): Promise<void>;
}

export function startPodman(): Podman {
  if (!existsSync('/usr/bin/podman')) {
    throw new HarnessError(
      'HARNESS_MISSING',
      'podman is not installed (the README test command installs Debian podman and runc)',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'lumen-podman-'));
  mkdirSync(join(dir, 'tmp'));
  const conf = join(dir, 'containers.conf');
  writeFileSync(
    conf,
    [
      '[containers]',
      'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
      '[engine]',
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `tmp_dir = "${join(dir, 'tmp')}"`,
      '',
    ].join('\n'),
  );
  const base = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp')];
  const env = { ...process.env, CONTAINERS_CONF: conf, TMPDIR: join(dir, 'tmp') };
  const podman = (async (args: string[], options: { timeout?: number } = {}) => {
    try {
      return await run('podman', [...base, ...args], { env, timeout: options.timeout ?? 120_000, maxBuffer: 64 << 20 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new HarnessError('HARNESS_EXITED', `podman ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
    }
  }) as Podman;
  podman.close = async () => {
    await run('podman', [...base, 'rm', '--all', '--force'], { env }).catch(() => undefined);
    await run('podman', [...base, 'system', 'reset', '--force'], { env }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  return podman;
}
