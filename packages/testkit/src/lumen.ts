/**
 * Runs the real `lumen` bin (packages/cli/bin/lumen.js) on this Node, the way an operator would:
 * exit code, stdout and stderr. One way for every test that checks the CLI edge.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The `lumen` bin of this repository (testkit lives at packages/testkit/src). */
export const lumenBin = join(import.meta.dirname, '..', '..', 'cli', 'bin', 'lumen.js');

export interface LumenRun {
  /** Exit code (-1 when killed by a signal or the timeout). */
  code: number;
  stdout: string;
  stderr: string;
}

export interface LumenOptions {
  /** Working directory (default: the test's). */
  cwd?: string;
  /** Variables added to (or, with `undefined`, removed from) the test's environment. */
  env?: Record<string, string | undefined>;
  /** Milliseconds before the run is killed (default: 180 s for `runLumenSync`, none for `runLumen`). */
  timeout?: number;
}

function environment(env: LumenOptions['env']): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(env ?? {})) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** `lumen ARGS`, synchronously; `status` is `code` under spawnSync's name. */
export function runLumenSync(args: string[], options: LumenOptions = {}): LumenRun & { status: number } {
  const r = spawnSync(process.execPath, [lumenBin, ...args], {
    cwd: options.cwd,
    env: environment(options.env),
    encoding: 'utf8',
    timeout: options.timeout ?? 180_000,
  });
  const code = r.status ?? -1;
  return { code, status: code, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** `lumen ARGS`, without blocking the test process (for servers the test runs in-process). */
export function runLumen(args: string[], options: LumenOptions = {}): Promise<LumenRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [lumenBin, ...args], {
      cwd: options.cwd,
      env: environment(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
