/**
 * The Gitea Actions workflows (.gitea/workflows/) as an airgapped Gitea and lumen's runner need them: their triggers,
 * jobs and `needs`; every `run:` is an npm script of the repository or a lumen command that exists (asked of the
 * real bin); the only `uses:` are the inventory's mirrored actions, pinned by commit; the release's own commit
 * cannot start another release.
 */
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { loadInventory } from '@lumen/inventory';
import { runLumen } from '@lumen/testkit/lumen';
import { parse } from 'yaml';

const root = resolve(import.meta.dirname, '..', '..', '..');
const scripts = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as object);
const actions = loadInventory(join(root, 'inventory'), { carry: true }).actions;

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Workflow {
  name: string;
  on: Record<string, { branches?: string[]; 'paths-ignore'?: string[] } | null>;
  jobs: Record<string, { 'runs-on': string; needs?: string | string[]; steps: Step[] }>;
}

const files = globSync('.gitea/workflows/*.yml', { cwd: root }).sort();
const workflows = new Map(files.map((f) => [f, parse(readFileSync(join(root, f), 'utf8')) as Workflow]));
const steps = [...workflows.entries()].flatMap(([file, w]) =>
  Object.entries(w.jobs).flatMap(([job, j]) => j.steps.map((step) => ({ file, job, step }))),
);

/** What a `run:` line calls: an npm script, npm's install, or a lumen command (its command words). */
function callOf(run: string): { kind: 'npm'; script: string } | { kind: 'lumen'; words: string[] } | undefined {
  const words = run.trim().split(/\s+/);
  if (words.length === 0 || run.includes('\n') || /[;&|`]/.test(run.replace(/"\$GITHUB_OUTPUT"/, ''))) return undefined;
  if (words[0] === 'npm' && words[1] === 'run' && words[2]) return { kind: 'npm', script: words[2] };
  if (words[0] === 'npm' && words[1] === 'test') return { kind: 'npm', script: 'test' };
  if (words[0] === 'npm' && words[1] === 'ci') return { kind: 'npm', script: 'ci (install)' };
  if (words[0] === 'npx' && words[1] === 'lumen') {
    // The command words: those before the first flag (`image build`, `sign`, `release bump`, `check`).
    const first = words.slice(2).findIndex((w) => w.startsWith('-'));
    return { kind: 'lumen', words: words.slice(2, first === -1 ? undefined : 2 + first).slice(0, 2) };
  }
  return undefined;
}

describe('the Gitea workflows', () => {
  it('ci runs on every push and pull request; release on main after the tests', () => {
    assert.deepEqual(files, ['.gitea/workflows/ci.yml', '.gitea/workflows/release.yml']);
    const ci = workflows.get('.gitea/workflows/ci.yml') as Workflow;
    assert.deepEqual(Object.keys(ci.on).sort(), ['pull_request', 'push']);
    const release = workflows.get('.gitea/workflows/release.yml') as Workflow;
    assert.deepEqual(release.on.push?.branches, ['main']);
    assert.equal(release.jobs.release?.needs, 'test');
    for (const w of workflows.values()) {
      for (const [name, job] of Object.entries(w.jobs)) {
        assert.equal(job['runs-on'], 'lumen', `${name} runs on lumen's runner`);
        for (const need of [job.needs ?? []].flat())
          assert.ok(w.jobs[need], `${name} needs ${need}, a job of ${w.name}`);
      }
    }
    const order = release.jobs.release?.steps.map((s) => s.name ?? s.uses) ?? [];
    assert.deepEqual(order.slice(1), [
      'install',
      'build',
      'scan gate',
      'push',
      'sign',
      'pin',
      'proofs',
      'commit and push',
    ]);
  });

  it('every run: step is an npm script of the repository or npm ci', () => {
    const npm = steps.filter(({ step }) => step.run?.startsWith('npm'));
    assert.ok(npm.length >= 5);
    for (const { file, job, step } of npm) {
      const call = callOf(step.run as string);
      assert.equal(call?.kind, 'npm', `${file} ${job}: ${step.run}`);
      if (call?.kind === 'npm' && call.script !== 'ci (install)')
        assert.ok(scripts.includes(call.script), `npm script ${call.script}`);
    }
  });

  it('every other run: step is a lumen command that exists', async () => {
    const lumen = steps.filter(({ step }) => step.run !== undefined && !step.run.startsWith('npm'));
    assert.ok(lumen.length >= 6);
    for (const { file, job, step } of lumen) {
      const call = callOf(step.run as string);
      assert.equal(call?.kind, 'lumen', `${file} ${job}: '${step.run}' is neither an npm script nor a lumen command`);
      if (call?.kind !== 'lumen') continue;
      const help = await runLumen([...call.words, '--help']);
      assert.equal(help.code, 0, `lumen ${call.words.join(' ')} --help: ${help.stderr}`);
      assert.match(help.stdout, new RegExp(`usage: lumen ${call.words.join(' ')}`));
    }
  });

  it('the only uses: are mirrored actions of the inventory, pinned by commit', () => {
    const uses = steps.filter(({ step }) => step.uses !== undefined);
    assert.ok(uses.length >= 3);
    const allowed = new Set(actions.map((a) => `${a.uses}@${a.commit}`));
    for (const { file, job, step } of uses) assert.ok(allowed.has(step.uses as string), `${file} ${job}: ${step.uses}`);
  });

  it("the release's own commit does not start another release; secrets come only from the secret store", () => {
    const release = workflows.get('.gitea/workflows/release.yml') as Workflow;
    const ignored = release.on.push?.['paths-ignore'] ?? [];
    // What `lumen release bump` writes: the lock, the image list and deploy/.
    for (const path of ['deploy/**', 'inventory/lock.yaml', 'inventory/images.yaml'])
      assert.ok(ignored.includes(path), path);
    for (const { step } of steps) {
      for (const value of Object.values(step.env ?? {})) assert.match(value, /^\$\{\{ secrets\.[A-Z_]+ \}\}$/);
      assert.doesNotMatch(step.run ?? '', /secrets\./, 'a secret never appears on a command line');
    }
  });
});
