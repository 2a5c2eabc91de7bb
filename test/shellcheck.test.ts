/**
 * Every shell script the repository ships, judged by the real shellcheck (Debian's package, installed by
 * scripts/test-all.sh): the tracked `*.sh` files and the script cloud-init installs on every node
 * (infra/terraform/cloud-init/node.yaml.tftpl, `lumen-site-address`), with Terraform's one interpolation in it
 * filled in. A planted mistake is caught.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

const root = resolve(import.meta.dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'lumen-shellcheck-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function shellcheck(file: string): { code: number; out: string } {
  const r = spawnSync('shellcheck', ['--severity=style', file], { encoding: 'utf8' });
  assert.ok(!r.error, `shellcheck could not run (scripts/test-all.sh installs Debian's shellcheck): ${r.error}`);
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

/** The `content: |` block of one `write_files` entry of the cloud-init template, dedented. */
function cloudInitScript(path: string): string {
  const lines = readFileSync(join(root, 'infra/terraform/cloud-init/node.yaml.tftpl'), 'utf8').split('\n');
  const at = lines.findIndex((l) => l.trim() === `- path: ${path}`);
  assert.ok(at >= 0, `${path} is not in the cloud-init template`);
  const start = lines.findIndex((l, i) => i > at && l.trim() === 'content: |') + 1;
  const indent = /^ */.exec(lines[start] ?? '')?.[0].length ?? 0;
  const body: string[] = [];
  for (const line of lines.slice(start)) {
    if (line.trim() !== '' && line.length - line.trimStart().length < indent) break;
    body.push(line.slice(indent));
  }
  // ${address} is Terraform's: the node's site address. Every other $ is the shell's.
  return `${body
    .join('\n')
    .trimEnd()
    .replaceAll(/\$\{address\}/g, '192.168.2.2/24')}\n`;
}

describe('shell scripts, judged by shellcheck', () => {
  const tracked = execFileSync('git', ['ls-files', '*.sh'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);

  it('every tracked *.sh passes', () => {
    assert.ok(tracked.includes('scripts/test-all.sh') && tracked.includes('scripts/tools.sh'), tracked.join(' '));
    for (const file of tracked) {
      const r = shellcheck(join(root, file));
      assert.equal(r.code, 0, `${file}:\n${r.out}`);
    }
  });

  it('the script cloud-init installs on every node (lumen-site-address) passes', () => {
    const script = cloudInitScript('/usr/local/sbin/lumen-site-address');
    assert.match(script, /^#!\/bin\/sh\nset -eu\n/);
    assert.match(script, /netplan apply\n$/, 'the whole script, to its last line');
    const file = join(scratch, 'lumen-site-address');
    writeFileSync(file, script);
    const r = shellcheck(file);
    assert.equal(r.code, 0, r.out);
  });

  it('catches a planted mistake (an unquoted expansion)', () => {
    const file = join(scratch, 'planted.sh');
    writeFileSync(file, `${readFileSync(join(root, 'scripts/tools.sh'), 'utf8')}\nrm -rf $tools/old\n`);
    const r = shellcheck(file);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /SC2086/);
  });
});
