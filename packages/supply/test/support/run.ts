/**
 * Runs lumen commands through the real `lumen` bin (the edge: exit codes, one-line errors, stdout
 * JSON); `runCommand` also reads the stable error code.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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

/**
 * Runs `lumen WORDS ARGS` through the real bin with LUMEN_DEBUG=1 and reads its outcome: the exit
 * code, the one-line message and the stable error code (the bin prints it on a second line).
 */
export async function runCommand(
  words: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; message?: string; errorCode?: string }> {
  const r = await lumen([...words.split(' '), ...args], { ...env, LUMEN_DEBUG: '1' });
  const message = /^lumen: (?!error code )(.*)$/m.exec(r.stderr)?.[1];
  const errorCode = /^lumen: error code (\S+)$/m.exec(r.stderr)?.[1];
  return { code: r.code, ...(message !== undefined ? { message } : {}), ...(errorCode ? { errorCode } : {}) };
}
