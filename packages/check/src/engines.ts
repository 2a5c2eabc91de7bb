/**
 * The real engines the proofs drive (helm, gator, kube-apiserver, etcd), found the same way everywhere: an explicit
 * variable, then the tool cache that `scripts/tools.sh` fills (pinned versions), then PATH. The
 * cache comes before PATH so that a different helm on the machine never changes the proof.
 */
import { execFile } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { executable, toolsBin, toolVariable } from '@lumen/testkit/tools';
import { CheckError, CheckErrorCode } from './errors.ts';

export { toolsBin };

/**
 * Path of engine `name`: `LUMEN_<NAME>` (e.g. `LUMEN_HELM=/opt/helm`), the tool cache, PATH.
 * Throws CHECK_ENGINE_MISSING (exit 5) naming every place it looked.
 */
export function findEngine(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const variable = toolVariable(name);
  const explicit = env[variable];
  if (explicit) {
    if (executable(explicit)) return explicit;
    throw new CheckError(CheckErrorCode.engineMissing, `${variable}=${explicit} is not an executable file`);
  }
  const cached = join(toolsBin(env), name);
  if (executable(cached)) return cached;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  throw new CheckError(
    CheckErrorCode.engineMissing,
    `${name} is not installed: looked in ${toolsBin(env)} and on PATH (run 'bash scripts/tools.sh', or set ${variable})`,
  );
}

/** Result of one engine run. */
export interface EngineRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs an engine to completion (never through a shell); a non-zero exit is returned, not thrown. */
export function runEngine(path: string, args: readonly string[], options: { cwd?: string } = {}): Promise<EngineRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      path,
      args,
      {
        cwd: options.cwd,
        maxBuffer: 256 * 1024 * 1024,
        encoding: 'utf8',
        env: { ...process.env, HELM_NO_PLUGINS: '1' },
      },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          reject(new CheckError(CheckErrorCode.engineMissing, `cannot run ${path}: ${err.message}`, { cause: err }));
          return;
        }
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    // No input: an engine that reads stdin when it is not a terminal (gator) must see EOF, not wait.
    child.stdin?.end();
  });
}
