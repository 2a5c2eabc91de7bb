/**
 * The decisions the provisioning roles ask lumen for (`lumen provision …`, docs/provisioning.md): the Ansible
 * inventory and each node's K3s config from site.yaml, and the node files laid out from a real bundle (made by
 * `lumen bundle create` from a files-only inventory of stand-in files), each proven by its digest — a tampered
 * bundle file is refused. Bad usage and input get one line and their documented exit code.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repositoryInventory } from '@lumen/testkit/inventory';
import { runLumenSync } from '@lumen/testkit/lumen';
import { parse, stringify } from 'yaml';

const work = mkdtempSync(join(tmpdir(), 'lumen-provision-'));
after(() => rmSync(work, { recursive: true, force: true }));

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const inventory = join(work, 'inventory');
const bundle = join(work, 'bundle');
// Stand-ins for K3s and Distribution (the real ones cannot be downloaded here): small files of known bytes.
const standIns = {
  k3s: Buffer.from('#!/bin/sh\necho stand-in for k3s\n'),
  airgap: Buffer.from('stand-in for the K3s airgap image tarball\n'),
  registry: Buffer.from('#!/bin/sh\necho stand-in for the Distribution registry\n'),
};

before(() => {
  mkdirSync(join(work, 'standins', 'tar'), { recursive: true });
  mkdirSync(inventory);
  writeFileSync(join(work, 'standins', 'k3s'), standIns.k3s);
  writeFileSync(join(work, 'standins', 'airgap.tar.zst'), standIns.airgap);
  writeFileSync(join(work, 'standins', 'tar', 'registry'), standIns.registry);
  writeFileSync(join(work, 'standins', 'tar', 'LICENSE'), 'Apache-2.0\n');
  execFileSync('tar', [
    '-czf',
    join(work, 'standins', 'registry.tar.gz'),
    '-C',
    join(work, 'standins', 'tar'),
    'LICENSE',
    'registry',
  ]);
  cpSync(join(repositoryInventory, 'site.yaml'), join(inventory, 'site.yaml'));
  const file = (name: string, path: string, installPath: string) => ({
    name,
    path: `standins/${path}`,
    version: 'stand-in',
    platform: 'linux/amd64',
    installPath,
  });
  writeFileSync(
    join(inventory, 'files.yaml'),
    stringify({
      files: [
        file('k3s-amd64', 'k3s', '/usr/local/bin/k3s'),
        file(
          'k3s-airgap-images-amd64',
          'airgap.tar.zst',
          '/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst',
        ),
        file('distribution-registry-amd64', 'registry.tar.gz', '/usr/local/bin/registry'),
      ],
    }),
  );
  const made = runLumenSync(['bundle', 'create', '--out', bundle, '--inventory', inventory]);
  assert.equal(made.code, 0, made.stderr);
});

describe('lumen provision inventory', () => {
  test('groups the nodes of site.yaml by K3s role and names the registry node', () => {
    const r = runLumenSync(['provision', 'inventory']);
    assert.equal(r.code, 0, r.stderr);
    const inv = parse(r.stdout).all;
    assert.deepEqual(inv.vars, { lumen_site_registry: '192.168.2.2:5000', lumen_site_plain_http: true });
    assert.deepEqual(inv.children.nodes.children.server.hosts, {
      'node-1': { ansible_host: '192.168.2.2', lumen_node_ip: '192.168.2.2', lumen_node_role: 'server' },
    });
    assert.deepEqual(Object.keys(inv.children.nodes.children.agent.hosts), ['node-2']);
    assert.deepEqual(Object.keys(inv.children.registry.hosts), ['node-1']);
  });
});

describe('lumen provision k3s-config', () => {
  test('a server gets its address, tls-san and the components the platform replaces disabled', () => {
    const r = runLumenSync(['provision', 'k3s-config', '--node', 'node-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(parse(r.stdout), {
      'node-name': 'node-1',
      'node-ip': '192.168.2.2',
      'advertise-address': '192.168.2.2',
      'tls-san': ['192.168.2.2'],
      disable: ['traefik', 'servicelb'],
      'write-kubeconfig-mode': '0600',
    });
  });

  test('an agent joins the first server with the token file, never a token', () => {
    const r = runLumenSync(['provision', 'k3s-config', '--node', 'node-2']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(parse(r.stdout), {
      server: 'https://192.168.2.2:6443',
      'token-file': '/etc/rancher/k3s/cluster-token',
      'node-name': 'node-2',
      'node-ip': '192.168.2.3',
    });
  });

  test('an unknown node and a missing --node are bad usage (exit 2)', () => {
    const unknown = runLumenSync(['provision', 'k3s-config', '--node', 'node-9']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^lumen: site.yaml has no node 'node-9' \(one of node-1, node-2\)\n$/);
    const missing = runLumenSync(['provision', 'k3s-config']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /needs --node/);
  });
});

describe('lumen provision node-files', () => {
  const nodeFiles = (args: string[], bundleDir = bundle) =>
    runLumenSync(['provision', 'node-files', '--bundle', bundleDir, '--inventory', inventory, ...args]);

  test('lays out the K3s files of the architecture the nodes report, with their digests and modes', () => {
    const out = join(work, 'out-k3s');
    const r = nodeFiles(['--set', 'k3s', '--arch', 'x86_64', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const { files } = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(files.x86_64).sort(), ['k3s', 'k3s-airgap-images']);
    const k3s = files.x86_64.k3s;
    assert.deepEqual(k3s, {
      name: 'k3s-amd64',
      version: 'stand-in',
      digest: sha256(standIns.k3s),
      path: join(out, 'amd64', 'k3s'),
      installPath: '/usr/local/bin/k3s',
      mode: '0755',
    });
    assert.deepEqual(readFileSync(k3s.path), standIns.k3s);
    assert.equal(files.x86_64['k3s-airgap-images'].mode, '0644');
    assert.deepEqual(readFileSync(files.x86_64['k3s-airgap-images'].path), standIns.airgap);
  });

  test("takes the registry binary out of Distribution's release tarball, after checking the tarball's digest", () => {
    const out = join(work, 'out-registry');
    const r = nodeFiles(['--set', 'registry', '--arch', 'amd64', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const registry = JSON.parse(r.stdout).files.amd64['distribution-registry'];
    assert.equal(registry.digest, sha256(readFileSync(join(work, 'standins', 'registry.tar.gz'))));
    assert.deepEqual(readFileSync(registry.path), standIns.registry);
    assert.equal(registry.mode, '0755');
  });

  test('a tampered bundle file is refused (exit 1) and nothing of it is laid out', () => {
    const tampered = join(work, 'bundle-tampered');
    cpSync(bundle, tampered, { recursive: true });
    const blob = join(tampered, 'blobs', 'sha256', sha256(standIns.k3s).slice('sha256:'.length));
    writeFileSync(blob, '#!/bin/sh\necho not what was pinned\n');
    const out = join(work, 'out-tampered');
    const r = nodeFiles(['--set', 'k3s', '--arch', 'amd64', '--out', out], tampered);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^lumen: file k3s-amd64 in the bundle does not hash to its digest sha256:[0-9a-f]{64}/);
    assert.equal(existsSync(join(out, 'amd64', 'k3s')), false);
    assert.equal(existsSync(join(out, 'amd64', 'k3s.partial')), false);
  });

  test('a bundle file that is not what lock.yaml pins is refused (exit 1)', () => {
    // The same inventory, but k3s-amd64 downloaded from upstream and locked to other bytes than the bundle carries.
    const pinned = join(work, 'inventory-pinned');
    cpSync(inventory, pinned, { recursive: true });
    const doc = parse(readFileSync(join(pinned, 'files.yaml'), 'utf8'));
    const k3s = doc.files.find((f: { name: string }) => f.name === 'k3s-amd64');
    delete k3s.path;
    k3s.url = 'https://github.com/k3s-io/k3s/releases/download/stand-in/k3s';
    writeFileSync(join(pinned, 'files.yaml'), stringify(doc));
    const other = sha256(Buffer.from('other bytes'));
    writeFileSync(
      join(pinned, 'lock.yaml'),
      stringify({ lockVersion: 1, files: { 'k3s-amd64': { version: 'stand-in', digest: other } } }),
    );
    const r = runLumenSync([
      'provision',
      'node-files',
      '--bundle',
      bundle,
      '--inventory',
      pinned,
      '--set',
      'k3s',
      '--arch',
      'amd64',
      '--out',
      join(work, 'out-pinned'),
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr,
      `lumen: the bundle carries k3s-amd64 as ${sha256(standIns.k3s)}, but lock.yaml pins ${other}\n`,
    );
  });

  test('bad usage and input: exit 2 with one line', () => {
    const out = join(work, 'out-bad');
    for (const [args, message] of [
      [['--set', 'k3s', '--arch', 'riscv64', '--out', out], /unknown architecture 'riscv64'/],
      [['--set', 'vault', '--arch', 'amd64', '--out', out], /unknown --set 'vault' \(one of registry, k3s\)/],
      [['--set', 'k3s', '--out', out], /needs --arch/],
      [['--set', 'k3s', '--arch', 'arm64', '--out', out], /the inventory has no file k3s-arm64/],
    ] as const) {
      const r = nodeFiles([...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });

  test('a bundle that cannot be read is an I/O failure (exit 4)', () => {
    const r = nodeFiles(['--set', 'k3s', '--arch', 'amd64', '--out', join(work, 'out-none')], join(work, 'no-bundle'));
    assert.equal(r.code, 4, r.stderr);
    assert.equal(existsSync(join(work, 'out-none')), false);
  });
});
