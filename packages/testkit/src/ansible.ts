/**
 * The Python tools of the tool cache's virtual environment (ansible-playbook, ansible-lint, ansible-vault,
 * yamllint; scripts/tools.sh installs them at the versions of tools/python/requirements.txt), run as the tests run
 * them: the venv first on PATH (ansible-lint runs ansible from PATH), no colour, output captured whole.
 */
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { toolPath } from './tools.ts';

export interface AnsibleRun {
  code: number;
  /** stdout then stderr. */
  out: string;
}

/** The venv's bin directory (the cache's `ansible-lint` links into it). */
export function ansibleBin(): string {
  return dirname(realpathSync(toolPath('ansible-lint')));
}

/**
 * Runs `tool` of the venv in `cwd`, with `ANSIBLE_CONFIG` = `<cwd>/ansible.cfg` unless `env` names another; `env`
 * adds to the process environment.
 */
export function runAnsible(
  tool: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<AnsibleRun> {
  const bin = ansibleBin();
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    ANSIBLE_CONFIG: join(options.cwd, 'ansible.cfg'),
    ANSIBLE_NOCOLOR: '1',
    ...options.env,
  };
  return new Promise((done) => {
    execFile(
      join(bin, tool),
      args,
      { cwd: options.cwd, env, timeout: 300_000, maxBuffer: 32 << 20 },
      (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

/** The PLAY RECAP of an ansible-playbook run: per host, its counts (`ok`, `changed`, `unreachable`, `failed`, …). */
export function playRecap(out: string): Record<string, Record<string, number>> {
  const recap: Record<string, Record<string, number>> = {};
  for (const [, host, counts] of out.matchAll(/^(\S+)\s+:\s+(ok=.*)$/gm)) {
    recap[host as string] = Object.fromEntries(
      [...(counts as string).matchAll(/(\w+)=(\d+)/g)].map(([, k, v]) => [k as string, Number(v)]),
    );
  }
  return recap;
}
