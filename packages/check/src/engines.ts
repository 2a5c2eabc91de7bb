/**
 * The real engines the proofs drive (helm, gator, kube-apiserver, etcd), found the same way everywhere: an explicit
 * variable, then the tool cache that `scripts/tools.sh` fills (pinned versions), then PATH. The
 * cache comes before PATH so that a different helm on the machine never changes the proof.
 */
import { execFile } from 'node:child_process';
import { locateTool } from '@lumen/testkit/tools';
import { CheckError, CheckErrorCode } from './errors.ts';

/**
 * Path of engine `name`: `LUMEN_<NAME>` (e.g. `LUMEN_HELM=/opt/helm`), the tool cache, PATH
 * (`locateTool` of @lumen/testkit/tools). Throws CHECK_ENGINE_MISSING (exit 5) naming where it looked.
 */
export function findEngine(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const found = locateTool(name, env);
  if ('missing' in found) throw new CheckError(CheckErrorCode.engineMissing, found.missing);
  return found.path;
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
