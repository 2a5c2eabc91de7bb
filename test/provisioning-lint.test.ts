/**
 * The provisioning code as the real Ansible tools judge it (scripts/tools.sh installs ansible-core, ansible-lint and
 * yamllint from PyPI at the versions of tools/python/requirements.txt): yamllint in strict mode, ansible-lint's
 * production profile with no violation, and `ansible-playbook --syntax-check` of every playbook. A planted mistake
 * is caught by each of them.
 */
import assert from 'node:assert/strict';
import { cpSync, globSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { runAnsible } from '@lumen/testkit/ansible';

const ansibleDir = resolve(import.meta.dirname, '..', 'infra', 'ansible');
const tool = (name: string, args: string[], cwd: string) => runAnsible(name, args, { cwd });

const playbooks = globSync('playbooks/*.yml', { cwd: ansibleDir }).sort();
const copies: string[] = [];
after(() => {
  for (const c of copies) rmSync(c, { recursive: true, force: true });
});

/** A copy of infra/ansible with one file changed, to show a check catches what it is for. */
function plant(file: string, edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-ansible-'));
  copies.push(dir);
  cpSync(ansibleDir, dir, { recursive: true });
  writeFileSync(join(dir, file), edit(readFileSync(join(dir, file), 'utf8')));
  return dir;
}

describe('the provisioning code, judged by the real Ansible tools', () => {
  it('yamllint (strict) passes, and catches a planted mistake', async () => {
    const clean = await tool('yamllint', ['--strict', '.'], ansibleDir);
    assert.equal(clean.code, 0, clean.out);
    const bad = await tool(
      'yamllint',
      ['--strict', '.'],
      plant('playbooks/firewall.yml', (t) => `${t}\n\n\n`),
    );
    assert.notEqual(bad.code, 0);
    assert.match(bad.out, /too many blank lines/);
  });

  it("ansible-lint's production profile passes with no violation, and catches a planted one", async () => {
    const clean = await tool('ansible-lint', [], ansibleDir);
    assert.equal(clean.code, 0, clean.out);
    assert.match(clean.out, /0 failure\(s\), 0 warning\(s\).*Profile 'production' was required, and it passed/s);
    const bad = await tool(
      'ansible-lint',
      [],
      plant('roles/airgap_firewall/tasks/main.yml', (t) => t.replace('ansible.builtin.apt:', 'apt:')),
    );
    assert.notEqual(bad.code, 0);
    assert.match(bad.out, /fqcn/);
  });

  it('every playbook passes ansible-playbook --syntax-check, and a planted error fails it', async () => {
    assert.ok(playbooks.length >= 1);
    for (const playbook of playbooks) {
      const r = await tool('ansible-playbook', ['--syntax-check', '-i', 'localhost,', playbook], ansibleDir);
      assert.equal(r.code, 0, `${playbook}: ${r.out}`);
    }
    const bad = await tool(
      'ansible-playbook',
      ['--syntax-check', '-i', 'localhost,', 'playbooks/firewall.yml'],
      plant('playbooks/firewall.yml', (t) => t.replace('role: airgap_firewall', 'role: no_such_role')),
    );
    assert.notEqual(bad.code, 0);
    assert.match(bad.out, /no_such_role/);
  });
});
