/**
 * Test support: the real entry (`node src/main.ts`) as a child process, the way the container and `npm start`
 * run it. Its JSON log lines are collected; `listening` resolves with the ports it logged (PORT=0 picks free ones).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@lumen/testkit';

/** The apps/api folder (cwd of the entry). */
export const API_DIR = fileURLToPath(new URL('../../', import.meta.url));
/** Node 24 (the runner's own binary), never the system Node. */
export const NODE = process.execPath;

/** The arguments of apps/api's `start` script (`node <args>`), so tests run what `npm start` and the image run. */
export const START_ARGS: string[] = (JSON.parse(readFileSync(`${API_DIR}package.json`, 'utf8')).scripts.start as string)
  .split(/\s+/)
  .slice(1);

/** A spawned lumen-api process. */
export interface EntryProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the ports once it logs `lumen-api listening`; rejects if it exits first. */
  listening(timeoutMs?: number): Promise<{ url: string; adminUrl: string }>;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/** How to start it; the default is the `start` script's command line, in apps/api. */
export interface SpawnOptions {
  command?: string;
  args?: string[];
  cwd?: string;
  /** Own process group, so a signal can reach npm and its children together (`process.kill(-pid)`). */
  detached?: boolean;
}

/** Spawns the entry with exactly `env` (plus PATH and loopback/free-port defaults). */
export function spawnEntry(env: Record<string, string | undefined>, options: SpawnOptions = {}): EntryProcess {
  const child = spawn(options.command ?? NODE, options.args ?? START_ARGS, {
    cwd: options.cwd ?? API_DIR,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve(code ?? signal ?? -1);
    });
  });
  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    async listening(timeoutMs = 30_000) {
      const listened = () => logs.find((l) => l.msg === 'lumen-api listening');
      const exitedEarly = () => child.exitCode !== null || child.signalCode !== null;
      await waitFor('lumen-api to listen', async () => listened() !== undefined || exitedEarly(), timeoutMs, 50).catch(
        () => {
          throw new Error(`lumen-api not listening after ${timeoutMs} ms:\n${stderr}`);
        },
      );
      const line = listened();
      if (line === undefined) {
        throw new Error(`lumen-api exited before listening:\n${stderr}\n${JSON.stringify(logs.slice(-5))}`);
      }
      return { url: `http://127.0.0.1:${line.port}`, adminUrl: `http://127.0.0.1:${line.admin_port}` };
    },
  };
}
