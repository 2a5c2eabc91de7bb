/**
 * Runs lumen commands the two ways the tests need: spawned through the real `lumen` bin (the
 * edge: exit codes, one-line errors, stdout JSON) and in-process through the commands table.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { commands } from '../../../cli/src/commands/supply/index.ts';

const bin = fileURLToPath(new URL('../../../cli/bin/lumen.js', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Spawns `lumen ARGS` on this Node (24) and collects its output. COSIGN_PASSWORD is only what `env` says. */
export function lumen(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const { COSIGN_PASSWORD: _ignored, ...inherited } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
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

/** Runs a command in-process; resolves to its exit code and, for a coded error, its message. */
export async function runCommand(
  words: string,
  args: string[],
): Promise<{ code: number; message?: string; errorCode?: string }> {
  const command = commands[words];
  if (!command) throw new Error(`no command ${words}`);
  try {
    return { code: await command.run(args) };
  } catch (err) {
    const e = err as { code?: unknown; exitCode?: unknown; message?: string };
    if (typeof e.exitCode === 'number' && typeof e.code === 'string') {
      return { code: e.exitCode, errorCode: e.code, message: e.message ?? '' };
    }
    throw err;
  }
}
