/**
 * Where the pinned engines live: the tool cache that `scripts/tools.sh` fills (helm, gator,
 * kube-apiserver, etcd, cosign), shared by `lumen check` and the tests so that both find the
 * same binaries the same way.
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HarnessError } from './errors.ts';

/** The tool cache's bin directory: `LUMEN_TOOLS_BIN`, else `$LUMEN_TOOLS/bin`, else `~/.cache/lumen/tools/bin`. */
export function toolsBin(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LUMEN_TOOLS_BIN) return env.LUMEN_TOOLS_BIN;
  const base = env.LUMEN_TOOLS ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lumen', 'tools');
  return join(base, 'bin');
}

/** `LUMEN_<NAME>` for a tool (`kube-apiserver` → `LUMEN_KUBE_APISERVER`). */
export function toolVariable(name: string): string {
  return `LUMEN_${name.toUpperCase().replaceAll('-', '_')}`;
}

/** Is `path` an executable file? */
export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A tool for a test: `LUMEN_<NAME>`, else the tool cache; throws HARNESS_MISSING naming both. */
export function toolPath(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const path = env[toolVariable(name)] ?? join(toolsBin(env), name);
  if (!executable(path)) {
    throw new HarnessError('HARNESS_MISSING', `${name} not found at ${path} (run 'bash scripts/tools.sh')`);
  }
  return path;
}
