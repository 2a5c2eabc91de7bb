/**
 * Runs lumen commands through the real `lumen` bin (the edge: exit codes, one-line errors, stdout
 * JSON); `runCommand` also reads the stable error code.
 */
import { runLumen } from '@lumen/testkit/lumen';

export type { LumenRun as RunResult } from '@lumen/testkit/lumen';

/** Spawns `lumen ARGS` on this Node (24). COSIGN_PASSWORD is only what `env` says. */
export function lumen(args: string[], env: Record<string, string> = {}) {
  return runLumen(args, { env: { COSIGN_PASSWORD: undefined, ...env } });
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
