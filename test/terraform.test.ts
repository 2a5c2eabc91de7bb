/**
 * infra/terraform (docs/provisioning.md, "Terraform: the two VMs") as an HCL parser and Terraform itself read it.
 *
 * - Every .tf parses with @cdktf/hcl2json (HashiCorp's HCL parser built to WebAssembly, run in-process). Per module,
 *   every declared variable is used and has a description and a type, and every `var.x` used is declared; every
 *   provider is pinned to an exact version, and every resource's provider is among them.
 * - The VMs follow inventory/site.yaml and nothing else: multipass_instance takes its name and sizes from
 *   module.site.nodes, no .tf file writes an address or a size of its own, and `terraform console` — the real
 *   engine, offline, because modules/site has no provider — evaluates the module against site.yaml (and against a
 *   different site) and renders each node's cloud-init. That must be YAML under `#cloud-config` with the inotify
 *   sysctls, the operator's key (generated here), the node's site address, the fallback default route and, on the
 *   registry node only, the registry's data directory. The site-address script cloud-init installs runs against a
 *   stand-in `netplan` (there is no netplan or VM here).
 * - `terraform fmt -check -recursive` passes.
 *
 * Terraform comes from LUMEN_TERRAFORM, the tool cache or PATH (this machine image has it in /usr/local/bin; no
 * package registry reachable here carries it, so scripts/tools.sh cannot install it). Where none exists the checks
 * that need it do not pretend to pass: they assert that none is found and print `terraform not found: fmt not
 * checked` (and `... console not run`). `terraform validate` and `init` need the providers, which cannot be
 * downloaded here: they are not attempted. Each check is shown to catch a planted mistake in a copy of the directory.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, cpSync, globSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { locateTool } from '@lumen/testkit/tools';
import { parseDocument, parse as parseYaml, stringify } from 'yaml';

const root = resolve(import.meta.dirname, '..');
const tfDir = join(root, 'infra', 'terraform');
const siteFile = join(root, 'inventory', 'site.yaml');
const found = locateTool('terraform');
const terraform = 'path' in found ? found.path : undefined;

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
after(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

// An operator key made for this run (docs/testing.md: no key in Git), and a CLI config file of our own so that
// Terraform neither reads the machine's nor warns that there is none; CHECKPOINT_DISABLE keeps it offline.
const work = tempDir('lumen-terraform-');
const operatorKey = openSshKey(generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }));
const keyFile = join(work, 'operator.pub');
writeFileSync(keyFile, `${operatorKey}\n`);
writeFileSync(join(work, 'terraformrc'), '');
const tfEnv = { ...process.env, CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: join(work, 'terraformrc'), NO_COLOR: '1' };

/** An Ed25519 public key (SPKI DER: 12 bytes of header, then the key) in OpenSSH's one-line form. */
function openSshKey(spki: Buffer): string {
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([field(Buffer.from('ssh-ed25519')), field(spki.subarray(12))]);
  return `ssh-ed25519 ${blob.toString('base64')} operator@test`;
}

/** A copy of infra/terraform with one file changed, to show a check catches what it is for. */
function plant(file: string, edit: (text: string) => string): string {
  const dir = tempDir('lumen-terraform-plant-');
  cpSync(tfDir, dir, { recursive: true, filter: (src) => !/\/\.(terraform|generated)(\/|$)/.test(src) });
  const path = join(dir, file);
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  assert.notEqual(after, before, `the planted edit changed nothing in ${file}`);
  writeFileSync(path, after);
  return dir;
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  input = '',
): Promise<{ code: number; stdout: string; out: string }> {
  return new Promise((done) => {
    const child = execFile(cmd, args, { cwd, env: tfEnv, timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, out: `${stdout}${stderr}` }),
    );
    child.stdin?.end(input);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The configuration as the HCL parser reads it

// biome-ignore lint/suspicious/noExplicitAny: hcl2json's JSON mirrors arbitrary HCL bodies.
type Hcl = Record<string, any>;
interface TfFile {
  file: string;
  module: string;
  hcl: Hcl;
}

/** Every .tf under `dir`, parsed; `module` is the directory the file belongs to (a Terraform module). */
async function parseTf(dir: string): Promise<TfFile[]> {
  const files = globSync('**/*.tf', { cwd: dir, exclude: (p) => p === '.terraform' }).sort();
  return Promise.all(
    files.map(async (file) => ({
      file,
      module: dirname(file),
      hcl: await parseHcl(file, readFileSync(join(dir, file), 'utf8')),
    })),
  );
}

const byModule = (files: TfFile[]) => Map.groupBy(files, (f) => f.module);

/** Variables without description or type, declared but unused, used but undeclared: one line each. */
function variableProblems(files: TfFile[]): string[] {
  const problems: string[] = [];
  for (const [module, list] of byModule(files)) {
    const declared = new Map<string, { file: string; body: Hcl }>();
    let uses = '';
    for (const { file, hcl } of list) {
      for (const [name, [body]] of Object.entries((hcl.variable ?? {}) as Record<string, [Hcl]>))
        declared.set(name, { file, body });
      // A variable's own block (its validation) does not count as a use of it.
      const { variable: _, ...rest } = hcl;
      uses += JSON.stringify(rest);
    }
    const used = new Set([...uses.matchAll(/\bvar\.([A-Za-z_][\w-]*)/g)].map((m) => m[1] as string));
    for (const [name, { file, body }] of declared) {
      if (typeof body.description !== 'string' || body.description.trim() === '')
        problems.push(`${file}: variable ${name} has no description`);
      if (body.type === undefined) problems.push(`${file}: variable ${name} has no type`);
      if (!used.has(name)) problems.push(`${module}: variable ${name} is declared but never used`);
    }
    for (const name of used) if (!declared.has(name)) problems.push(`${module}: var.${name} is used but not declared`);
  }
  return problems;
}

/** Providers not pinned to one exact version, and resources whose provider required_providers does not list. */
function providerProblems(files: TfFile[]): string[] {
  const problems: string[] = [];
  const listed = new Set<string>();
  for (const { file, hcl } of files) {
    for (const block of (hcl.terraform ?? []) as Hcl[]) {
      for (const providers of (block.required_providers ?? []) as Hcl[]) {
        for (const [name, spec] of Object.entries(providers as Record<string, Hcl>)) {
          listed.add(name);
          if (!/^=?\s*\d+\.\d+\.\d+$/.test(String(spec.version ?? '')))
            problems.push(`${file}: provider ${name} is not pinned to an exact version (${spec.version ?? 'none'})`);
        }
      }
    }
  }
  for (const { file, hcl } of files)
    for (const type of Object.keys(hcl.resource ?? {})) {
      const provider = type.split('_')[0] as string;
      if (!listed.has(provider))
        problems.push(
          `${file}: resource type ${type} uses provider ${provider}, which required_providers does not list`,
        );
    }
  return problems;
}

/** The expression of an attribute: hcl2json writes `${expr}` for one, and a literal as itself. */
function expression(value: unknown): string | undefined {
  return typeof value === 'string' ? /^\$\{([\s\S]*)\}$/.exec(value)?.[1] : undefined;
}

const fromSite = {
  for_each: 'module.site.nodes',
  name: 'each.value.name',
  cpus: 'each.value.cpus',
  memory: 'each.value.memory',
  disk: 'each.value.disk',
};

/**
 * What makes the VMs other than site.yaml: a multipass_instance attribute not taken from module.site.nodes, an
 * address or size written into a .tf file, a provider in the site module (console could not evaluate it offline).
 */
function sourceProblems(files: TfFile[]): string[] {
  const problems: string[] = [];
  const instances = files.flatMap(({ file, hcl }) =>
    Object.entries((hcl.resource?.multipass_instance ?? {}) as Record<string, Hcl[]>).map(([name, [body]]) => ({
      file,
      name,
      body: body as Hcl,
    })),
  );
  if (instances.length === 0) problems.push('no multipass_instance resource');
  for (const { file, name, body } of instances) {
    for (const [attr, want] of Object.entries(fromSite))
      if (expression(body[attr]) !== want)
        problems.push(`${file}: multipass_instance.${name}.${attr} is ${JSON.stringify(body[attr])}, not ${want}`);
    if (!expression(body.cloudinit_file)?.startsWith('local_file.cloud_init['))
      problems.push(`${file}: multipass_instance.${name}.cloudinit_file is not the rendered cloud-init`);
  }
  for (const { file, module, hcl } of files) {
    const text = JSON.stringify(hcl);
    for (const m of text.matchAll(/\b\d{1,3}(?:\.\d{1,3}){3}(?:\/\d+)?\b/g))
      problems.push(`${file}: names an address of its own (${m[0]})`);
    for (const m of text.matchAll(/"\d+\s*(?:[KMGT]i?B?|[KMGT])"/g))
      problems.push(`${file}: names a size of its own (${m[0]})`);
    if (module === 'modules/site' && (hcl.provider || hcl.resource || hcl.data || hcl.terraform))
      problems.push(`${file}: the site module must stay without providers (terraform console evaluates it offline)`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// The site module as Terraform evaluates it

interface Evaluated {
  nodes: Record<string, Hcl>;
  cloud_init: Record<string, string>;
  registry: { address: string; node: string | null };
}

/** `terraform console` in `dir`/modules/site: the module's values for `site`, as JSON. */
async function evaluate(terraformBin: string, dir: string, site: string): Promise<Evaluated> {
  const r = await run(
    terraformBin,
    [
      'console',
      `-var=site_file=${site}`,
      `-var=ssh_public_key_file=${keyFile}`,
      `-var=cloud_init_template=${join(dir, 'cloud-init', 'node.yaml.tftpl')}`,
    ],
    join(dir, 'modules', 'site'),
    'jsonencode({ nodes = local.nodes, cloud_init = local.cloud_init, registry = local.registry })\n',
  );
  assert.equal(r.code, 0, `terraform console: ${r.out}`);
  // console prints the string as an HCL quoted literal: JSON's escapes, plus $${ and %%{ for template markers.
  const literal = r.stdout.trim().replaceAll('$${', '${').replaceAll('%%{', '%{');
  return JSON.parse(JSON.parse(literal) as string) as Evaluated;
}

/** {@link evaluate} on a copy of infra/terraform with a planted mistake, against inventory/site.yaml. */
function evaluatePlanted(terraformBin: string, file: string, edit: (text: string) => string): Promise<Evaluated> {
  return evaluate(terraformBin, plant(file, edit), siteFile);
}

interface SiteNode {
  name: string;
  ip: string;
  role: string;
  cpus: number;
  memoryGiB: number;
  diskGiB: number;
}
interface Site {
  registry: string;
  domain: string;
  network: string;
  nodes: SiteNode[];
}

/** Where what Terraform computed differs from the site it read: one line per node and field. */
function siteProblems(got: Evaluated, site: Site): string[] {
  const problems: string[] = [];
  const prefix = site.network.split('/')[1];
  const registryHost = site.registry.split(':')[0];
  const names = site.nodes.map((n) => n.name);
  if (JSON.stringify(Object.keys(got.nodes).sort()) !== JSON.stringify([...names].sort()))
    problems.push(`nodes ${Object.keys(got.nodes).join(', ')} computed, ${names.join(', ')} in the site`);
  for (const n of site.nodes) {
    const want: Hcl = {
      name: n.name,
      role: n.role,
      ip: n.ip,
      address: `${n.ip}/${prefix}`,
      cpus: n.cpus,
      memory: `${n.memoryGiB}GiB`,
      disk: `${n.diskGiB}GiB`,
      registry: n.ip === registryHost,
    };
    const computed = got.nodes[n.name] ?? {};
    for (const [field, value] of Object.entries(want))
      if (computed[field] !== value)
        problems.push(
          `${n.name} ${field}: ${JSON.stringify(value)} from the site, ${JSON.stringify(computed[field])} computed`,
        );
  }
  const registryNode = site.nodes.find((n) => n.ip === registryHost)?.name ?? null;
  if (got.registry.node !== registryNode || got.registry.address !== site.registry)
    problems.push(`registry ${JSON.stringify(got.registry)}, the site says ${site.registry} on ${registryNode}`);
  return problems;
}

/** What a node's rendered cloud-init lacks or gets wrong: one line each. */
function cloudInitProblems(name: string, text: string, site: Site): string[] {
  const problems: string[] = [];
  const node = site.nodes.find((n) => n.name === name) as SiteNode;
  const say = (what: string) => problems.push(`${name}: ${what}`);
  if (!text.startsWith('#cloud-config\n')) say('does not start with #cloud-config');
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    say(`is not YAML: ${doc.errors[0]?.message}`);
    return problems;
  }
  const config = doc.toJS() as { manage_etc_hosts?: unknown; write_files?: Hcl[]; runcmd?: string[][] };
  const files = new Map((config.write_files ?? []).map((f) => [f.path as string, f]));
  const runcmd = (config.runcmd ?? []).map((c) => c.join(' '));

  // Above the kernel's defaults (128 instances, 8192 watches on small machines), or the change is not made.
  const sysctl = String(files.get('/etc/sysctl.d/60-lumen-inotify.conf')?.content ?? '');
  for (const [key, floor] of [
    ['fs.inotify.max_user_instances', 128],
    ['fs.inotify.max_user_watches', 8192],
  ] as const) {
    const m = sysctl.match(new RegExp(`^${key.replaceAll('.', '\\.')} = (\\d+)$`, 'm'));
    if (!m) say(`sets no ${key}`);
    else if (Number(m[1]) <= floor) say(`${key} = ${m[1]} is not above the default ${floor}`);
  }
  if (!runcmd.includes('sysctl --system')) say('does not load the sysctls (sysctl --system)');

  const keys = [...files.values()].find((f) => String(f.path).endsWith('/.ssh/authorized_keys'));
  if (!keys || !String(keys.content).split('\n').includes(operatorKey)) say("does not authorize the operator's key");
  else if (keys.append !== true || keys.defer !== true) say("replaces authorized_keys (Multipass' own key would go)");

  const address = `${node.ip}/${site.network.split('/')[1]}`;
  const script = String(files.get('/usr/local/sbin/lumen-site-address')?.content ?? '');
  if (!script.includes(`"${address}"`)) say(`does not add the site address ${address}`);
  for (const other of site.nodes)
    if (other.name !== name && script.includes(`"${other.ip}/`)) say(`adds ${other.name}'s address ${other.ip}`);
  if (!runcmd.includes('/usr/local/sbin/lumen-site-address')) say('never runs lumen-site-address');

  const netdev = String(files.get('/etc/systemd/network/50-lumen-default.netdev')?.content ?? '');
  const network = String(files.get('/etc/systemd/network/50-lumen-default.network')?.content ?? '');
  if (!/Kind=dummy/.test(netdev) || !/\[Route\][^[]*Gateway=[^[]*Metric=\d+/.test(network))
    say('has no fallback default route (dummy interface with a low-priority gateway)');

  const hosts = String(files.get('/etc/hosts')?.content ?? '');
  if (config.manage_etc_hosts !== false) say('leaves /etc/hosts to cloud-init, which renders it again at every boot');
  for (const n of site.nodes)
    if (!hosts.includes(`${n.ip} ${n.name}.${site.domain} ${n.name}`)) say(`/etc/hosts lacks ${n.name}`);

  const isRegistry = node.ip === site.registry.split(':')[0];
  const registryDir = runcmd.find((c) => /^install -d .*\/var\/lib\/lumen-registry$/.test(c));
  if (isRegistry && !registryDir) say('serves the registry but gets no /var/lib/lumen-registry');
  if (!isRegistry && registryDir) say('prepares a registry directory it does not serve');
  return problems;
}

function allCloudInitProblems(got: Evaluated, site: Site): string[] {
  return site.nodes.flatMap((n) =>
    got.cloud_init[n.name] === undefined
      ? [`${n.name}: no cloud-init rendered`]
      : cloudInitProblems(n.name, got.cloud_init[n.name] as string, site),
  );
}

const site = parseYaml(readFileSync(siteFile, 'utf8')) as Site;
// Another site: three nodes, other sizes, another network and prefix, the registry on the last node.
const otherSite: Site = {
  ...site,
  registry: '10.20.0.13:5000',
  network: '10.20.0.0/16',
  nodes: [
    { name: 'cp-a', ip: '10.20.0.11', role: 'server', cpus: 8, memoryGiB: 16, diskGiB: 100 },
    { name: 'wk-b', ip: '10.20.0.12', role: 'agent', cpus: 3, memoryGiB: 5, diskGiB: 35 },
    { name: 'wk-c', ip: '10.20.0.13', role: 'agent', cpus: 1, memoryGiB: 2, diskGiB: 20 },
  ],
};
const otherSiteFile = join(work, 'other-site.yaml');
writeFileSync(otherSiteFile, stringify(otherSite));

// ---------------------------------------------------------------------------------------------------------------

describe('infra/terraform as the HCL parser reads it', () => {
  let files: TfFile[];
  before(async () => {
    files = await parseTf(tfDir);
  });

  it('parses every .tf file of the root module and of modules/site', () => {
    const modules = [...byModule(files).keys()].sort();
    assert.deepEqual(modules, ['.', 'modules/site']);
    assert.ok(files.some((f) => f.file === 'main.tf' && f.hcl.resource?.multipass_instance));
  });

  it('every variable is used and has a description and a type; every var.x is declared', async () => {
    assert.deepEqual(variableProblems(files), []);
    const noDescription = await parseTf(
      plant('variables.tf', (t) => t.replace(/ {2}description = "Image multipass[^\n]*\n/, '')),
    );
    assert.deepEqual(variableProblems(noDescription), ['variables.tf: variable image has no description']);
    const unused = await parseTf(plant('main.tf', (t) => t.replace('image          = var.image', 'image = "24.04"')));
    assert.deepEqual(variableProblems(unused), ['.: variable image is declared but never used']);
    const undeclared = await parseTf(
      plant('modules/site/main.tf', (t) => t.replace('user = "ubuntu"', 'user = var.default_user')),
    );
    assert.deepEqual(variableProblems(undeclared), ['modules/site: var.default_user is used but not declared']);
    const untyped = await parseTf(plant('modules/site/variables.tf', (t) => t.replace(/ {2}type {8}= string\n/, '')));
    assert.deepEqual(variableProblems(untyped), ['modules/site/variables.tf: variable site_file has no type']);
  });

  it('every provider is pinned to an exact version (larstobi/multipass 1.4.3)', async () => {
    assert.deepEqual(providerProblems(files), []);
    const versions = files.find((f) => f.file === 'versions.tf')?.hcl.terraform[0].required_providers[0];
    assert.deepEqual(versions.multipass, { source: 'larstobi/multipass', version: '1.4.3' });
    const ranged = await parseTf(plant('versions.tf', (t) => t.replace('version = "1.4.3"', 'version = "~> 1.4"')));
    assert.deepEqual(providerProblems(ranged), [
      'versions.tf: provider multipass is not pinned to an exact version (~> 1.4)',
    ]);
    const unlisted = await parseTf(
      plant('versions.tf', (t) =>
        t.replace(/ {4}local = \{[^}]*\}\n/, '').replace(/ {4}# Only local_file[^\n]*\n/, ''),
      ),
    );
    assert.deepEqual(providerProblems(unlisted), [
      'main.tf: resource type local_file uses provider local, which required_providers does not list',
    ]);
  });

  it('the VMs take names and sizes from module.site only; no .tf names an address or a size', async () => {
    assert.deepEqual(sourceProblems(files), []);
    const literal = await parseTf(plant('main.tf', (t) => t.replace('cpus           = each.value.cpus', 'cpus = 4')));
    assert.deepEqual(sourceProblems(literal), ['main.tf: multipass_instance.node.cpus is 4, not each.value.cpus']);
    const size = await parseTf(
      plant('main.tf', (t) => t.replace('memory         = each.value.memory', 'memory = "6GiB"')),
    );
    assert.deepEqual(sourceProblems(size), [
      'main.tf: multipass_instance.node.memory is "6GiB", not each.value.memory',
      'main.tf: names a size of its own ("6GiB")',
    ]);
    const address = await parseTf(
      plant('modules/site/main.tf', (t) =>
        t.replace('registry_host = split(":", local.site.registry)[0]', 'registry_host = "192.168.2.2"'),
      ),
    );
    assert.deepEqual(sourceProblems(address), ['modules/site/main.tf: names an address of its own (192.168.2.2)']);
  });
});

describe('the site module as terraform console evaluates it (offline: it has no provider)', () => {
  it('computes the nodes of inventory/site.yaml — names, roles, addresses, CPUs, memory, disk, the registry node', async (t) => {
    if (!terraform) return noTerraform(t, 'console not run');
    const got = await evaluate(terraform, tfDir, siteFile);
    assert.deepEqual(siteProblems(got, site), []);
    // The reference site in plain figures: node-1 4 CPUs / 6 GiB / 40 GiB serving the registry, node-2 2 / 4 / 30.
    assert.deepEqual(
      Object.values(got.nodes).map((n) => [n.name, n.role, n.address, n.cpus, n.memory, n.disk, n.registry]),
      [
        ['node-1', 'server', '192.168.2.2/24', 4, '6GiB', '40GiB', true],
        ['node-2', 'agent', '192.168.2.3/24', 2, '4GiB', '30GiB', false],
      ],
    );
    const broken = await evaluatePlanted(terraform, 'modules/site/main.tf', (t) =>
      t.replace('memoryGiB}GiB"', 'memoryGiB}MiB"'),
    );
    assert.deepEqual(siteProblems(broken, site), [
      'node-1 memory: "6GiB" from the site, "6MiB" computed',
      'node-2 memory: "4GiB" from the site, "4MiB" computed',
    ]);
  });

  it('follows another site: three nodes, other sizes, another network, the registry elsewhere', async (t) => {
    if (!terraform) return noTerraform(t, 'console not run');
    const got = await evaluate(terraform, tfDir, otherSiteFile);
    assert.deepEqual(siteProblems(got, otherSite), []);
    assert.equal(got.nodes['wk-c']?.address, '10.20.0.13/16');
    assert.deepEqual(allCloudInitProblems(got, otherSite), []);
    // The reference site's expectations do not hold for it: the check compares, it does not echo.
    assert.ok(siteProblems(got, site).length > 0);
  });

  it("renders each node's cloud-init: #cloud-config YAML with the sysctls, the key, its address, the route", async (t) => {
    if (!terraform) return noTerraform(t, 'console not run');
    const got = await evaluate(terraform, tfDir, siteFile);
    assert.deepEqual(Object.keys(got.cloud_init).sort(), ['node-1', 'node-2']);
    assert.deepEqual(allCloudInitProblems(got, site), []);
    const noSysctl = await evaluatePlanted(terraform, 'cloud-init/node.yaml.tftpl', (t) =>
      t.replace(/ {6}fs\.inotify\.max_user_watches[^\n]*\n/, ''),
    );
    assert.deepEqual(allCloudInitProblems(noSysctl, site), [
      'node-1: sets no fs.inotify.max_user_watches',
      'node-2: sets no fs.inotify.max_user_watches',
    ]);
    const managedHosts = await evaluatePlanted(terraform, 'cloud-init/node.yaml.tftpl', (t) =>
      t.replace('manage_etc_hosts: false\n', ''),
    );
    assert.deepEqual(allCloudInitProblems(managedHosts, site), [
      'node-1: leaves /etc/hosts to cloud-init, which renders it again at every boot',
      'node-2: leaves /etc/hosts to cloud-init, which renders it again at every boot',
    ]);
    const registryEverywhere = await evaluatePlanted(terraform, 'modules/site/main.tf', (t) =>
      t.replace('n.registry ? local.registry_data_dir : ""', 'local.registry_data_dir'),
    );
    assert.deepEqual(allCloudInitProblems(registryEverywhere, site), [
      'node-2: prepares a registry directory it does not serve',
    ]);
    const notYaml = await evaluatePlanted(terraform, 'cloud-init/node.yaml.tftpl', (t) =>
      t.replace('runcmd:\n', 'runcmd:\n - [oops\n'),
    );
    assert.match(allCloudInitProblems(notYaml, site).join('\n'), /^node-1: is not YAML: /);
  });

  it('lumen-site-address adds the address under the netplan ID it finds (stand-in netplan)', async (t) => {
    if (!terraform) return noTerraform(t, 'console not run');
    const got = await evaluate(terraform, tfDir, siteFile);
    const config = parseYaml(got.cloud_init['node-2'] as string) as { write_files: Hcl[] };
    const script = String(config.write_files.find((f) => f.path === '/usr/local/sbin/lumen-site-address')?.content);
    for (const [listing, id] of [
      ['default:\n  match:\n    macaddress: "52:54:00:aa:bb:cc"\n  dhcp4: true\n', 'default'],
      ['ens3:\n  match:\n    macaddress: "52:54:00:aa:bb:cc"\n  set-name: ens3\n  dhcp4: true\n', 'ens3'],
    ] as const) {
      const r = await siteAddressRun(script, listing);
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(r.written, { network: { version: 2, ethernets: { [id]: { addresses: ['192.168.2.3/24'] } } } });
      assert.equal(r.applied, true);
    }
    const none = await siteAddressRun(script, '');
    assert.notEqual(none.code, 0);
    assert.match(none.out, /lumen-site-address: netplan defines no ethernet to add 192\.168\.2\.3\/24 to/);
    assert.equal(none.applied, false);
  });
});

/** Runs the rendered script with a stand-in `netplan` first on PATH and /etc/netplan moved to a temp dir. */
async function siteAddressRun(
  script: string,
  listing: string,
): Promise<{ code: number; out: string; written: unknown; applied: boolean }> {
  const dir = tempDir('lumen-site-address-');
  const bin = join(dir, 'bin');
  const etc = join(dir, 'netplan');
  mkdirSync(bin);
  mkdirSync(etc);
  writeFileSync(join(dir, 'listing'), listing);
  writeFileSync(
    join(bin, 'netplan'),
    `#!/bin/sh\ncase "$1" in get) cat '${dir}/listing' ;; apply) touch '${dir}/applied' ;; *) exit 2 ;; esac\n`,
  );
  chmodSync(join(bin, 'netplan'), 0o755);
  const path = join(dir, 'lumen-site-address');
  writeFileSync(path, script.replaceAll('/etc/netplan/', `${etc}/`));
  chmodSync(path, 0o755);
  const r = await new Promise<{ code: number; out: string }>((done) =>
    execFile(path, [], { env: { PATH: `${bin}:/usr/bin:/bin` } }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    ),
  );
  let written: unknown;
  try {
    written = parseYaml(readFileSync(join(etc, '60-lumen-site.yaml'), 'utf8'));
  } catch {
    written = undefined;
  }
  const applied = globSync('applied', { cwd: dir }).length === 1;
  return { ...r, written, applied };
}

describe('terraform fmt', () => {
  it('terraform fmt -check -recursive passes on infra/terraform, and names a misformatted file', async (t) => {
    if (!terraform) return noTerraform(t, 'fmt not checked');
    const clean = await run(terraform, ['fmt', '-check', '-recursive', '-list=true', '.'], tfDir);
    assert.equal(clean.code, 0, clean.out);
    const bad = await run(
      terraform,
      ['fmt', '-check', '-recursive', '-list=true', '.'],
      plant('modules/site/outputs.tf', (t) => t.replace('value       = local.nodes', 'value = local.nodes')),
    );
    assert.notEqual(bad.code, 0);
    assert.equal(bad.out.trim(), 'modules/site/outputs.tf');
  });
});

/**
 * No terraform here: say so, and prove the claim rather than pass quietly — `terraform` is on no PATH entry and
 * LUMEN_TERRAFORM names none.
 */
function noTerraform(t: { diagnostic: (message: string) => void }, what: string): void {
  assert.ok('missing' in found);
  assert.equal(process.env.LUMEN_TERRAFORM, undefined);
  const message = `terraform not found: ${what}`;
  t.diagnostic(message);
  console.log(message);
}
