/**
 * Where the pinned engines live: the tool cache that `scripts/tools.sh` fills (helm, gator,
 * kube-apiserver, etcd, cosign), shared by `lumen check` and the tests so that both find the
 * same binaries the same way.
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
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
function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where tool `name` is: `LUMEN_<NAME>`, else the tool cache, else PATH (the cache before PATH, so a
 * different helm on the machine never changes a proof). `missing` says where it looked, or why an
 * explicit path is refused; callers turn it into their own error.
 */
export function locateTool(name: string, env: NodeJS.ProcessEnv = process.env): { path: string } | { missing: string } {
  const variable = toolVariable(name);
  const explicit = env[variable];
  if (explicit)
    return executable(explicit) ? { path: explicit } : { missing: `${variable}=${explicit} is not an executable file` };
  const cached = join(toolsBin(env), name);
  if (executable(cached)) return { path: cached };
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return { path: join(dir, name) };
  }
  return {
    missing: `${name} is not installed: looked in ${toolsBin(env)} and on PATH (run 'bash scripts/tools.sh', or set ${variable})`,
  };
}

/** A tool for a test (see {@link locateTool}); throws HARNESS_MISSING naming where it looked. */
export function toolPath(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const found = locateTool(name, env);
  if ('missing' in found) throw new HarnessError('HARNESS_MISSING', found.missing);
  return found.path;
}
