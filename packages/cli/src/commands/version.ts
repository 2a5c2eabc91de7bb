/**
 * `lumen version`: what this lumen is — its version, the source revision it was built from, the platform and the
 * runtime. The single executable carries what its build stamped (scripts/build-cli.ts defines `LUMEN_BUILD`); run
 * from the repository, the revision is the checkout's (`git rev-parse HEAD`, `+dirty` when it has changes).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isSea } from 'node:sea';
import { fileURLToPath } from 'node:url';
import type { CommandTable } from '../types.ts';

/** Stamped by the single executable's build; absent when run from the repository. */
declare const LUMEN_BUILD: { version: string; revision: string } | undefined;

export interface BuildInfo {
  version: string;
  revision: string;
  /** `linux/amd64`, `linux/arm64`: the OCI platform names the bundle uses. */
  platform: string;
  runtime: string;
}

export function buildInfo(): BuildInfo {
  const platform = `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`;
  const runtime = `node ${process.version}${isSea() ? ' (single executable)' : ''}`;
  if (typeof LUMEN_BUILD !== 'undefined') return { ...LUMEN_BUILD, platform, runtime };
  const version = (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return { version, revision: checkoutRevision(fileURLToPath(new URL('.', import.meta.url))), platform, runtime };
}

/** The commit the checkout at `cwd` is at, `+dirty` when it has changes (the single executable's build stamps it). */
export function checkoutRevision(cwd: string): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${git('rev-parse', 'HEAD')}${git('status', '--porcelain') === '' ? '' : '+dirty'}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

export const commands: CommandTable = {
  version: {
    summary: 'print the version, source revision, platform and runtime of this lumen',
    usage: [
      'usage: lumen version',
      '',
      'Prints four lines: lumen <version>, revision <commit>, platform <os/arch>, runtime <node version>.',
      'The single executable prints the revision it was built from; a checkout prints its HEAD (+dirty).',
      '',
      'Exit codes: 0 ok, 2 bad usage.',
    ].join('\n'),
    async run(args) {
      if (args.length > 0) {
        console.error(`lumen version: unexpected argument '${args[0]}'`);
        return 2;
      }
      const info = buildInfo();
      console.log(
        `lumen ${info.version}\nrevision ${info.revision}\nplatform ${info.platform}\nruntime ${info.runtime}`,
      );
      return 0;
    },
  },
};
