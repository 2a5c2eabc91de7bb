/**
 * Starting, tracking and reaping the server processes of the test harness.
 *
 * Every server lives in its own directory under `<tmpdir>/lumen-testkit/<owner-pid>-<random>/` with a
 * `pids` file. Servers are killed when the test process exits (normally or by a signal), and a test run
 * that was killed outright (SIGKILL, a crashed runner) is reaped by the next run: any instance directory
 * whose owner PID is gone has its servers killed and is removed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError } from './errors.ts';

const root = join(tmpdir(), 'lumen-testkit');
const live = new Set<ChildProcess>();
/** How to thaw each frozen server, so that the exit hook never leaves a stopped process behind. */
const frozen = new Set<() => void>();
const ownedDirs = new Set<string>();
let hooksInstalled = false;

/** A free TCP port on 127.0.0.1 (the OS picks it; another process may still race for it, so starts retry). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A fresh instance directory owned by this process; `keep` survives `close()` for debugging when LUMEN_TESTKIT_KEEP=1. */
export function instanceDir(kind: string): string {
  installHooks();
  reapStale();
  const dir = join(root, `${process.pid}-${kind}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  ownedDirs.add(dir);
  return dir;
}

/** Removes an instance directory (unless LUMEN_TESTKIT_KEEP=1, to look at logs after a failure). */
export function removeInstanceDir(dir: string): void {
  ownedDirs.delete(dir);
  if (process.env.LUMEN_TESTKIT_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
}

/** A random secret for passwords; tests never use fixed credentials. */
export function secret(): string {
  return randomBytes(18).toString('base64url');
}

export interface DaemonOptions {
  /** Name for messages, e.g. `postgres primary`. */
  name: string;
  bin: string;
  args: string[];
  /** Instance directory: the log goes to `<dir>/<logName>.log`, the PID to `<dir>/pids`. */
  dir: string;
  logName: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this uid/gid (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  cwd?: string;
}

/** A server process of the harness. */
export interface Daemon {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code or signal once the process has exited. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  running(): boolean;
  /**
   * SIGSTOP to the server and the processes it forked (PostgreSQL serves every connection from a backend of its own,
   * which calls setsid(), so no process group reaches them all). The kernel keeps the sockets open and still accepts
   * connections, but nothing answers: how a hung server looks to its clients, unlike a stopped one.
   */
  freeze(): void;
  /** SIGCONT to what {@link freeze} stopped. Does nothing when not frozen. */
  thaw(): void;
  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`); thaws a frozen server first. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

/** Spawns a server; throws with the tail of its log when it exits before `ready` resolves true. */
export async function startDaemon(
  opts: DaemonOptions,
  ready: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<Daemon> {
  const logFile = join(opts.dir, `${opts.logName}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(opts.bin, opts.args, {
    stdio: ['ignore', fd, fd],
    env: opts.env ?? process.env,
    cwd: opts.cwd ?? opts.dir,
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) =>
      reject(new HarnessError('HARNESS_SPAWN', `${opts.name}: cannot start ${opts.bin}: ${err.message}`)),
    );
  });
  await spawned;
  const pid = child.pid as number;
  live.add(child);
  appendFileSync(join(opts.dir, 'pids'), `${pid} ${opts.bin}\n`);
  let exitValue: number | NodeJS.Signals | null | undefined;
  /** The processes `freeze` stopped, server first. */
  let stopped: number[] = [];
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      // Killed while frozen: its stopped children can only notice and exit once they run again.
      daemon.thaw();
      exitValue = signal ?? code;
      resolve(exitValue);
    });
  });
  const daemon: Daemon = {
    name: opts.name,
    pid,
    logFile,
    exited,
    running: () => exitValue === undefined,
    freeze() {
      if (exitValue !== undefined)
        throw new HarnessError('HARNESS_USAGE', `${opts.name} is not running: cannot freeze it`);
      if (stopped.length > 0) return;
      // The server first: once it is stopped it forks no child we would miss.
      process.kill(pid, 'SIGSTOP');
      stopped = [pid, ...childrenOf(pid)];
      for (const p of stopped.slice(1)) sendSignal(p, 'SIGSTOP');
      frozen.add(daemon.thaw);
    },
    thaw() {
      frozen.delete(daemon.thaw);
      // In reverse: the server runs again last, so it never runs while its children are still stopped.
      for (const p of stopped.reverse()) sendSignal(p, 'SIGCONT');
      stopped = [];
    },
    async stop(signal = 'SIGTERM', stopTimeoutMs = 15_000) {
      if (exitValue !== undefined) return;
      // A stopped process keeps a pending signal until it is continued: without this, only the SIGKILL would end it.
      daemon.thaw();
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitValue !== undefined) {
      throw new HarnessError('HARNESS_EXITED', `${opts.name} exited (${exitValue}) while starting:\n${tail(logFile)}`);
    }
    if (await ready().catch(() => false)) return daemon;
    await sleep(50);
  }
  await daemon.stop('SIGKILL');
  throw new HarnessError('HARNESS_TIMEOUT', `${opts.name} not ready after ${timeoutMs} ms:\n${tail(logFile)}`);
}

/** Polls `check` until it returns true or `timeoutMs` passes; the error names what was awaited. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  const cause = last instanceof Error ? `: ${last.message}` : '';
  throw new HarnessError('HARNESS_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
}

/** Retries a start on another port when the chosen one was taken between `freePort()` and bind. */
export async function withPortRetry<T>(start: (port: number) => Promise<T>, attempts = 3): Promise<T> {
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await start(await freePort());
    } catch (err) {
      lastError = err;
      if (!(err instanceof HarnessError) || !/address already in use|bind|EADDRINUSE/i.test(err.message)) throw err;
    }
  }
  throw lastError;
}

/**
 * Starts a server on a free port the first time and on the same port afterwards, so that clients
 * (and the application under test) reconnect to the same address after a restart.
 */
export async function startOnPort(
  port: number,
  launch: (port: number) => Promise<Daemon>,
): Promise<{ port: number; daemon: Daemon }> {
  if (port !== 0) return { port, daemon: await launch(port) };
  return withPortRetry(async (p) => ({ port: p, daemon: await launch(p) }));
}

/** A server that can be stopped and started again on the same port (see `startOnPort`). */
export interface Restartable {
  /** 0 until the first start. */
  readonly port: number;
  /** PID of the running server process; undefined while it is not running. */
  readonly pid: number | undefined;
  running(): boolean;
  /** See {@link Daemon.freeze}. */
  freeze(): void;
  /** See {@link Daemon.thaw}. */
  thaw(): void;
  start(): Promise<void>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

/** Wraps `launch` (which starts the server on a given port) into a restartable server. */
export function restartable(launch: (port: number) => Promise<Daemon>): Restartable {
  let daemon: Daemon | undefined;
  let port = 0;
  return {
    get port() {
      return port;
    },
    get pid() {
      return daemon?.running() ? daemon.pid : undefined;
    },
    running: () => daemon?.running() ?? false,
    freeze() {
      if (daemon === undefined) throw new HarnessError('HARNESS_USAGE', 'a server that never started cannot freeze');
      daemon.freeze();
    },
    thaw() {
      daemon?.thaw();
    },
    async start() {
      if (daemon?.running()) return;
      ({ port, daemon } = await startOnPort(port, launch));
    },
    async stop(signal = 'SIGTERM', timeoutMs?: number) {
      await daemon?.stop(signal, timeoutMs);
    },
  };
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL every server we still own and remove our directories.
  process.on('exit', () => {
    // A frozen PostgreSQL backend would stay stopped for good after its postmaster is killed: continue it first.
    for (const thaw of frozen) thaw();
    for (const child of live) child.kill('SIGKILL');
    for (const dir of ownedDirs)
      if (process.env.LUMEN_TESTKIT_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1)));
  }
}

/** Kills the servers of instance directories whose owning test process is gone, and removes the directories. */
function reapStale(): void {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return;
  }
  for (const entry of entries) {
    const owner = Number(entry.split('-')[0]);
    if (!Number.isInteger(owner) || owner === process.pid || alive(owner)) continue;
    const dir = join(root, entry);
    try {
      for (const line of readFileSync(join(dir, 'pids'), 'utf8').split('\n')) {
        const [pidText = '', bin = ''] = line.split(' ');
        const pid = Number(pidText);
        // A PID may have been reused since: kill only a process still running the binary we started.
        if (pid > 0 && alive(pid) && commandLine(pid).includes(bin)) process.kill(pid, 'SIGKILL');
      }
    } catch {
      // no pids file: nothing was started
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** PIDs whose parent is `parent` (the fourth field of /proc/<pid>/stat, after the parenthesised command name). */
function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) children.push(Number(entry));
    } catch {
      // the process exited meanwhile
    }
  }
  return children;
}

/** `process.kill` for a process that may have exited meanwhile. */
function sendSignal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
