/**
 * The scan gate, driven from Trivy's JSON report format (schema version 2): Trivy's vulnerability database cannot
 * be downloaded on these machines, so the reports are written here in the format `trivy image|sbom --format json`
 * writes. Fixable findings at or above the severity fail unless an unexpired waiver of the inventory holds;
 * unfixable and lower ones never fail; bad reports and bad waivers exit 2.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { copyInventory } from '@lumen/testkit/inventory';
import { runLumen } from '@lumen/testkit/lumen';

const work = mkdtempSync(join(tmpdir(), 'lumen-scan-'));
const inv = copyInventory();
after(() => {
  inv.remove();
  rmSync(work, { recursive: true, force: true });
});

const vuln = (id: string, pkg: string, severity: string, fixed?: string) => ({
  VulnerabilityID: id,
  PkgName: pkg,
  InstalledVersion: '1.0',
  ...(fixed ? { FixedVersion: fixed, Status: 'fixed' } : { Status: 'affected' }),
  Severity: severity,
  Title: `${id} in ${pkg}`,
});

function report(name: string, value: unknown): string {
  const file = join(work, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

const findings = report('findings.json', {
  SchemaVersion: 2,
  ArtifactName: 'lumen-api',
  ArtifactType: 'cyclonedx',
  Results: [
    {
      Target: 'lumen-api (debian 12)',
      Class: 'os-pkgs',
      Type: 'debian',
      Vulnerabilities: [
        vuln('CVE-2026-0001', 'libc6', 'HIGH', '2.36-9+deb12u15'),
        vuln('CVE-2026-0002', 'libstdc++6', 'CRITICAL'),
        vuln('CVE-2026-0003', 'tzdata', 'MEDIUM', '2026g-0+deb12u1'),
      ],
    },
    { Target: 'Node.js', Class: 'lang-pkgs', Type: 'node-pkg', Vulnerabilities: null },
  ],
});

const scan = (args: string[]) => runLumen(['image', 'scan', '--inventory', inv.dir, ...args]);
const waivers = (text: string) => inv.write('waivers.yaml', text);

describe('lumen image scan (from Trivy report format)', () => {
  it('fails on a fixable HIGH finding, naming it; unfixable and lower findings do not fail', async () => {
    const r = await scan(['--report', findings]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stdout.trim(),
      'fail: CVE-2026-0001 HIGH libc6 1.0 → 2.36-9+deb12u15 (lumen-api (debian 12)): fixable, not waived',
    );
    assert.match(r.stderr, /FAILED at HIGH: 1 failing, 0 waived, 1 unfixable, 1 below HIGH/);
    const critical = await scan(['--report', findings, '--severity', 'critical']);
    assert.equal(critical.code, 0, critical.stderr);
    assert.match(critical.stderr, /passed at CRITICAL: 0 failing, 0 waived, 1 unfixable, 2 below CRITICAL/);
    const medium = await scan(['--report', findings, '--severity', 'MEDIUM', '--json']);
    assert.equal(medium.code, 1);
    assert.deepEqual(
      JSON.parse(medium.stdout).findings.map((f: { id: string; verdict: string }) => `${f.id} ${f.verdict}`),
      ['CVE-2026-0002 unfixable', 'CVE-2026-0001 fail', 'CVE-2026-0003 fail'],
    );
  });

  it('a waiver that has not expired holds; an expired one, or one for another package, does not', async () => {
    waivers(
      'waivers:\n  - id: CVE-2026-0001\n    package: libc6\n    reason: "no fixed libc6 in the airgap mirror yet; reviewed"\n    expires: "2999-12-31"\n',
    );
    const held = await scan(['--report', findings]);
    assert.equal(held.code, 0, held.stderr);
    assert.match(held.stdout, /^waived: CVE-2026-0001 HIGH libc6 .* until 2999-12-31: no fixed libc6/m);

    waivers(
      'waivers:\n  - id: CVE-2026-0001\n    reason: "accepted for the 0.1 release only"\n    expires: "2000-01-01"\n',
    );
    const expired = await scan(['--report', findings]);
    assert.equal(expired.code, 1);
    assert.match(expired.stdout, /^fail: CVE-2026-0001 .*: fixable; its waiver expired on 2000-01-01$/m);

    waivers(
      'waivers:\n  - id: CVE-2026-0001\n    package: libgcc-s1\n    reason: "a waiver for another package"\n    expires: "2999-12-31"\n  - id: CVE-2020-9999\n    reason: "long fixed, never removed"\n    expires: "2999-12-31"\n',
    );
    const other = await scan(['--report', findings]);
    assert.equal(other.code, 1);
    assert.match(other.stdout, /fixable, not waived/);
    assert.match(other.stderr, /note: waiver CVE-2026-0001 \(libgcc-s1\) matched nothing: remove it/);
    assert.match(other.stderr, /note: waiver CVE-2020-9999 matched nothing: remove it/);
  });

  it('bad reports, flags and waivers exit 2 with one line; an unreadable report exits 4', async () => {
    inv.write('waivers.yaml', 'waivers: []\n');
    const cases: Array<[string[], RegExp]> = [
      [['--report', report('not-json.json', 'SBOM? no')], /is not JSON \(a Trivy report is 'trivy … --format json'\)/],
      [['--report', report('v1.json', { SchemaVersion: 1, Results: [] })], /not a Trivy report of schema version 2/],
      [['--report', report('bad.json', { SchemaVersion: 2, Results: {} })], /Results is not a list/],
      [
        ['--report', findings, '--severity', 'SEVERE'],
        /--severity must be one of UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL/,
      ],
      [[], /give exactly one of --sbom FILE \(run Trivy\) and --report FILE/],
    ];
    for (const [args, message] of cases) {
      const r = await scan(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    const missing = await scan(['--report', join(work, 'absent.json')]);
    assert.equal(missing.code, 4, missing.stderr);
    assert.match(missing.stderr, /cannot read .*absent\.json: ENOENT/);

    waivers('waivers:\n  - id: CVE-2026-0001\n    reason: "short"\n    expires: 2027-13-45\n');
    const bad = await scan(['--report', findings]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /waivers\.yaml:3: waivers\[0\]\.reason: must say why/);
    assert.match(bad.stderr, /waivers\.yaml:4: waivers\[0\]\.expires: /);
  });
});
