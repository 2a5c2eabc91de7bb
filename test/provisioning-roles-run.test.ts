/**
 * The registry, images and k3s roles of infra/ansible RUN here, with the real ansible-playbook of the tool cache,
 * against two local "nodes" (connection local, each in a temporary root given as `lumen_root`): a bundle built at
 * run time by the real `lumen bundle create` from an inventory of one image (in a real Distribution registry of the
 * test) and stand-in files, then
 * - registry + images: a real Distribution registry runs from the role's binary, config and unit, and holds the
 *   image (skopeo pulls it by the pinned digest);
 * - k3s: the binary, the airgap image tarball, registries.yaml (equal to `lumen mirror-config`), config.yaml and the
 *   unit are where K3s expects them with their modes; the agent holds the join token the server generated;
 * - a second run changes nothing (PLAY RECAP changed=0), and a tampered bundle file is refused by its digest.
 *
 * Stand-ins, for what cannot run here: the K3s binary and airgap tarball (they cannot be downloaded; the stand-in
 * binary writes a join token as a K3s server does and then idles), Distribution's release tarball (it holds
 * Debian's real Distribution binary instead of upstream's), and systemd, which is not PID 1 on these machines: the
 * roles' documented non-systemd path calls `lumen_service_starter`, here a stand-in service manager of a few lines
 * that runs a unit's ExecStart in the background.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { digestOf, MediaType, Registry } from '@lumen/oci';
import { freePort, startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { playRecap, runAnsible } from '@lumen/testkit/ansible';
import { repositoryInventory } from '@lumen/testkit/inventory';
import { lumenBin, runLumenSync } from '@lumen/testkit/lumen';
import { parse, stringify } from 'yaml';

const ansibleDir = resolve(import.meta.dirname, '..', 'infra', 'ansible');
const work = mkdtempSync(join(tmpdir(), 'lumen-roles-run-'));
const inventory = join(work, 'inventory');
const bundle = join(work, 'bundle');
const state = join(work, 'stand-in-services');
const roots = { 'node-1': join(work, 'node-1'), 'node-2': join(work, 'node-2') };
let upstream: TestRegistry;
let site = '';

function sh(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

/** One single-platform image `library/app:1.0` in the test's upstream registry. */
async function seedImage(host: string): Promise<void> {
  const reg = new Registry({ host, plainHttp: true });
  const put = async (data: Buffer) => {
    const digest = digestOf(data);
    await reg.uploadBlob('library/app', digest, data.length, (s, e) => Readable.from([data.subarray(s, e + 1)]));
    return { digest, size: data.length };
  };
  const layer = {
    mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
    ...(await put(Buffer.from(`layer ${work}`))),
  };
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, ...(await put(config)) },
      layers: [layer],
    }),
  );
  await reg.putManifest('library/app', '1.0', manifest, MediaType.ociManifest);
}

/** The site inventory: two loopback nodes, the site registry on node-1, one image and stand-in files. */
function writeInventory(): void {
  mkdirSync(inventory);
  cpSync(join(repositoryInventory, 'site.yaml'), join(inventory, 'site.yaml'));
  const siteDoc = parse(readFileSync(join(inventory, 'site.yaml'), 'utf8'));
  Object.assign(siteDoc, {
    registry: site,
    plainHttp: true,
    network: '127.0.0.0/8',
    nodes: [
      { name: 'node-1', ip: '127.0.0.1', role: 'server', cpus: 2, memoryGiB: 2, diskGiB: 10 },
      { name: 'node-2', ip: '127.0.0.2', role: 'agent', cpus: 2, memoryGiB: 2, diskGiB: 10 },
    ],
  });
  writeFileSync(join(inventory, 'site.yaml'), stringify(siteDoc));
  const image = { name: 'app', source: `${upstream.host}/library/app`, tag: '1.0', platforms: ['linux/amd64'] };
  writeFileSync(join(inventory, 'images.yaml'), stringify({ images: [{ ...image, component: 'lumen-api' }] }));
  const file = (name: string, path: string, installPath: string) => ({
    name,
    path: `stand-ins/${path}`,
    version: 'stand-in',
    platform: 'linux/amd64',
    installPath,
  });
  const airgap = '/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst';
  writeFileSync(
    join(inventory, 'files.yaml'),
    stringify({
      files: [
        file('k3s-amd64', 'k3s', '/usr/local/bin/k3s'),
        file('k3s-airgap-images-amd64', 'k3s-airgap-images-amd64.tar.zst', airgap),
        file('distribution-registry-amd64', 'registry_linux_amd64.tar.gz', '/usr/local/bin/registry'),
      ],
    }),
  );
  writeFileSync(join(inventory, 'lock.yaml'), 'lockVersion: 1\n');
}

/** The stand-ins: K3s (binary and airgap tarball), Distribution's release tarball, the service manager. */
function writeStandIns(): void {
  const dir = join(work, 'stand-ins');
  mkdirSync(join(dir, 'tarball'), { recursive: true });
  sh(
    join(dir, 'k3s'),
    `#!/bin/sh
# Stand-in for K3s: a server writes its join token where K3s does (under the node's root), then it idles.
root=$(cd "$(dirname "$0")/../../.." && pwd)
token="$root/var/lib/rancher/k3s/server/node-token"
if [ "$1" = server ] && [ ! -f "$token" ]; then
  mkdir -p "$(dirname "$token")"
  echo "K10$(od -An -N24 -tx1 /dev/urandom | tr -d ' \\n')::server:stand-in" > "$token"
fi
exec sleep 100000
`,
  );
  writeFileSync(join(dir, 'k3s-airgap-images-amd64.tar.zst'), `stand-in for the K3s airgap images ${work}\n`);
  cpSync('/usr/bin/docker-registry', join(dir, 'tarball', 'registry'));
  writeFileSync(join(dir, 'tarball', 'LICENSE'), 'Apache-2.0\n');
  execFileSync('tar', [
    '-I',
    'gzip -1',
    '-cf',
    join(dir, 'registry_linux_amd64.tar.gz'),
    '-C',
    join(dir, 'tarball'),
    'LICENSE',
    'registry',
  ]);
  mkdirSync(join(work, 'bin'));
  sh(join(work, 'bin', 'lumen'), `#!/bin/sh\nexec '${process.execPath}' '${lumenBin}' "$@"\n`);
  mkdirSync(state);
  // Stand-in for systemd: `start|restart UNIT` runs the unit's ExecStart= detached and records its pid.
  sh(
    join(work, 'bin', 'service-stand-in'),
    `#!/bin/sh
set -eu
pidfile="${state}/$(basename "$2").pid"
running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
if [ "$1" = restart ] && running; then
  kill "$(cat "$pidfile")"
  while kill -0 "$(cat "$pidfile")" 2>/dev/null; do sleep 0.1; done
fi
if running; then echo running; exit 0; fi
setsid sh -c "exec $(sed -n 's/^ExecStart=//p' "$2")" > "$pidfile.log" 2>&1 < /dev/null &
echo $! > "$pidfile"
echo started
`,
  );
}

/** The Ansible inventory: lumen's, from site.yaml, plus what makes the nodes local. */
function writeAnsibleInventory(): string {
  const dir = join(work, 'ansible-inventory');
  mkdirSync(join(dir, 'host_vars'), { recursive: true });
  mkdirSync(join(dir, 'group_vars'));
  const r = runLumenSync(['provision', 'inventory', '--inventory', inventory]);
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(join(dir, 'hosts.yml'), r.stdout);
  for (const [node, root] of Object.entries(roots)) {
    mkdirSync(root);
    writeFileSync(
      join(dir, 'host_vars', `${node}.yml`),
      stringify({
        ansible_connection: 'local',
        ansible_python_interpreter: '{{ ansible_playbook_python }}',
        ansible_become: false,
        lumen_root: root,
      }),
    );
  }
  writeFileSync(
    join(dir, 'group_vars', 'all.yml'),
    stringify({
      lumen_bin: join(work, 'bin', 'lumen'),
      lumen_bundle: bundle,
      lumen_inventory_dir: inventory,
      lumen_stage_dir: join(work, 'stage'),
      lumen_service_starter: join(work, 'bin', 'service-stand-in'),
    }),
  );
  return dir;
}

let ansibleInventory = '';

/** `ansible-playbook` of the venv on the test's playbook; the PLAY RECAP per host. */
async function playbook(
  extra: string[] = [],
): Promise<{ code: number; out: string; recap: Record<string, Record<string, number>> }> {
  const run = await runAnsible(
    'ansible-playbook',
    ['-i', ansibleInventory, 'playbooks/bootstrap-cluster.yml', ...extra],
    {
      cwd: ansibleDir,
      env: {
        // Facts once per node and run, only the minimal set the roles read (architecture, service manager).
        ANSIBLE_GATHERING: 'smart',
        ANSIBLE_GATHER_SUBSET: 'min',
        ANSIBLE_PIPELINING: 'true',
        ANSIBLE_LOCAL_TEMP: join(work, 'ansible-tmp'),
        ANSIBLE_REMOTE_TEMP: join(work, 'ansible-tmp'),
      },
    },
  );
  return { ...run, recap: playRecap(run.out) };
}

before(async () => {
  upstream = await startRegistry();
  site = `127.0.0.1:${await freePort()}`;
  await seedImage(upstream.host);
  writeInventory();
  writeStandIns();
  const plain = ['--inventory', inventory, '--plain-http-registry', upstream.host];
  for (const args of [
    ['inventory', 'lock', ...plain],
    ['bundle', 'create', '--out', bundle, ...plain],
  ]) {
    const r = runLumenSync(args);
    assert.equal(r.code, 0, `lumen ${args.join(' ')}: ${r.stderr}`);
  }
  ansibleInventory = writeAnsibleInventory();
});

after(async () => {
  for (const f of readdirSync(state).filter((n) => n.endsWith('.pid'))) {
    try {
      process.kill(Number(readFileSync(join(state, f), 'utf8')));
    } catch {
      // Already gone.
    }
  }
  await upstream?.close();
  rmSync(work, { recursive: true, force: true });
});

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8).padStart(4, '0');
const onNode = (node: keyof typeof roots, path: string) => join(roots[node], path);

describe('the registry, images and k3s roles, run for real (stand-ins: K3s, systemd)', () => {
  test('a first run installs the registry, fills it from the bundle and lays down K3s where K3s expects it', async () => {
    const first = await playbook();
    assert.equal(first.code, 0, first.out);
    assert.ok((first.recap['node-1']?.changed ?? 0) > 0, first.out);

    // The registry runs from the role's binary and config, and holds the image: pulled by its pinned digest.
    const config = parse(readFileSync(onNode('node-1', '/etc/distribution/config.yml'), 'utf8'));
    assert.equal(config.http.addr, site);
    assert.equal(config.storage.filesystem.rootdirectory, onNode('node-1', '/var/lib/registry'));
    const unit = readFileSync(onNode('node-1', '/etc/systemd/system/lumen-registry.service'), 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=${onNode('node-1', '/usr/local/bin/registry')} serve `, 'm'));
    assert.equal(mode(onNode('node-1', '/usr/local/bin/registry')), '0755');
    assert.equal((await fetch(`http://${site}/v2/`)).status, 200);
    const locked = parse(readFileSync(join(inventory, 'lock.yaml'), 'utf8')).images.app.digest;
    const pulled = join(work, 'pulled');
    execFileSync('skopeo', [
      'copy',
      '--src-tls-verify=false',
      '--preserve-digests',
      `docker://${site}/library/app@${locked}`,
      `oci:${pulled}:app`,
    ]);
    assert.equal(JSON.parse(readFileSync(join(pulled, 'index.json'), 'utf8')).manifests[0].digest, locked);

    // K3s: every file where K3s expects it, with its mode.
    const k3s = onNode('node-1', '/usr/local/bin/k3s');
    assert.deepEqual(readFileSync(k3s), readFileSync(join(work, 'stand-ins', 'k3s')));
    assert.equal(mode(k3s), '0755');
    const images = onNode('node-1', '/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst');
    assert.deepEqual(readFileSync(images), readFileSync(join(work, 'stand-ins', 'k3s-airgap-images-amd64.tar.zst')));
    assert.equal(mode(images), '0644');
    const mirrors = runLumenSync(['mirror-config', '--inventory', inventory]);
    for (const node of ['node-1', 'node-2'] as const) {
      assert.equal(readFileSync(onNode(node, '/etc/rancher/k3s/registries.yaml'), 'utf8'), mirrors.stdout);
      assert.equal(mode(onNode(node, '/etc/rancher/k3s/registries.yaml')), '0600');
      assert.equal(mode(onNode(node, '/etc/rancher/k3s/config.yaml')), '0600');
    }
    const server = parse(readFileSync(onNode('node-1', '/etc/rancher/k3s/config.yaml'), 'utf8'));
    assert.deepEqual(
      [server['node-ip'], server['tls-san'], server.disable],
      ['127.0.0.1', ['127.0.0.1'], ['traefik', 'servicelb']],
    );
    const agent = parse(readFileSync(onNode('node-2', '/etc/rancher/k3s/config.yaml'), 'utf8'));
    assert.deepEqual([agent.server, agent['token-file']], ['https://127.0.0.1:6443', '/etc/rancher/k3s/cluster-token']);
    assert.match(
      readFileSync(onNode('node-1', '/etc/systemd/system/k3s.service'), 'utf8'),
      /^ExecStart=\S+\/usr\/local\/bin\/k3s server$/m,
    );
    assert.match(readFileSync(onNode('node-2', '/etc/systemd/system/k3s-agent.service'), 'utf8'), /^Type=exec$/m);

    // The agent holds the token the (stand-in) server generated, readable by root only.
    const token = onNode('node-2', '/etc/rancher/k3s/cluster-token');
    assert.equal(
      readFileSync(token, 'utf8'),
      readFileSync(onNode('node-1', '/var/lib/rancher/k3s/server/node-token'), 'utf8'),
    );
    assert.equal(mode(token), '0600');
  });

  test('a second run changes nothing (PLAY RECAP changed=0 on every node)', async () => {
    const second = await playbook();
    assert.equal(second.code, 0, second.out);
    assert.deepEqual(Object.keys(second.recap).sort(), ['node-1', 'node-2']);
    for (const [host, counts] of Object.entries(second.recap))
      assert.equal(counts.changed, 0, `${host}: ${second.out}`);
  });

  test('a tampered K3s binary in the bundle is refused by its digest and nothing on the node changes', async () => {
    const tampered = join(work, 'bundle-tampered');
    cpSync(bundle, tampered, { recursive: true });
    const carried = JSON.parse(readFileSync(join(bundle, 'lumen-bundle.json'), 'utf8')).files;
    const digest: string = carried.find((f: { name: string }) => f.name === 'k3s-amd64').digest;
    const blob = join(tampered, 'blobs', 'sha256', digest.slice('sha256:'.length));
    const bytes = readFileSync(blob);
    bytes[bytes.length - 2] ^= 1; // Same size: only the digest can tell.
    writeFileSync(blob, bytes);
    const before = readFileSync(onNode('node-1', '/usr/local/bin/k3s'));
    const run = await playbook(['-e', `lumen_bundle=${tampered}`]);
    assert.notEqual(run.code, 0);
    assert.match(run.out, new RegExp(`file k3s-amd64 in the bundle does not hash to its digest ${digest}`));
    assert.deepEqual(readFileSync(onNode('node-1', '/usr/local/bin/k3s')), before);
  });
});
