/**
 * The airgap on the nodes: `lumen node-firewall` generates nftables rules from site.yaml, and the
 * real nftables of this kernel, in network namespaces of the test's own, enforces them: a "node"
 * namespace with veth links to a "site" namespace (the site network, a real Distribution registry
 * on it) and to an "outside" namespace standing for the internet (TCP, DNS over UDP and ICMP
 * listeners, IPv4 and IPv6, on documentation addresses that exist only inside these namespaces).
 * A real K3s node is not run here: its pod and service traffic is not exercised, only the node's
 * own traffic and the forward chain's verdict on it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadInventory } from '@lumen/inventory';
import { waitFor } from '@lumen/testkit';
import { copyInventory, type InventoryCopy, repositoryInventory } from '@lumen/testkit/inventory';
import { runLumenSync } from '@lumen/testkit/lumen';
import { parse, stringify } from 'yaml';
import { allowedNetworks, dropCounters, firewallTable, nodeFirewall } from '../src/nodes/firewall.ts';
import { cluster } from '../src/settings.ts';

const work = mkdtempSync(join(tmpdir(), 'lumen-node-firewall-'));
const tag = `${process.pid % 10000}`;
const ns = { node: `lfw${tag}-node`, site: `lfw${tag}-site`, out: `lfw${tag}-out` };
const site = { net: '10.200.1.0/24', node: '10.200.1.2', registry: '10.200.1.1' };
const outside = { v4: '198.51.100.1', node4: '198.51.100.2', v6: '2001:db8:9::1', node6: '2001:db8:9::2' };

const copies: InventoryCopy[] = [];
/** A copy of the repository's inventory whose site.yaml is changed by `edit`. */
function inventoryCopy(edit: (site: Record<string, unknown>) => void): string {
  const copy = copyInventory();
  copies.push(copy);
  const doc = parse(copy.read('site.yaml')) as Record<string, unknown>;
  edit(doc);
  copy.write('site.yaml', stringify(doc));
  return copy.dir;
}

const testSite = inventoryCopy((s) => {
  s.network = site.net;
  s.registry = `${site.registry}:5000`;
  s.nodes = [
    { name: 'node-1', ip: site.node, role: 'server', cpus: 2, memoryGiB: 4, diskGiB: 20 },
    { name: 'node-2', ip: '10.200.1.3', role: 'agent', cpus: 2, memoryGiB: 4, diskGiB: 20 },
  ];
  s.metallbPool = '10.200.1.100-10.200.1.120';
});

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}
function inNs(name: string, cmd: string, args: string[], timeout = 10_000) {
  return spawnSync('ip', ['netns', 'exec', name, cmd, ...args], { encoding: 'utf8', timeout });
}
function node(script: string) {
  return inNs(ns.node, process.execPath, ['-e', script]).stdout.trim();
}

/** What a TCP connect from the node gets: `open`, or the error / `timeout`. */
const tcp = (host: string, port: number) =>
  node(
    `const s=require('net').connect({host:'${host}',port:${port}});s.setTimeout(1500);` +
      `s.on('connect',()=>{console.log('open');process.exit(0)});s.on('timeout',()=>{console.log('timeout');process.exit(0)});` +
      `s.on('error',(e)=>{console.log(e.code);process.exit(0)})`,
  );
/** What a TCP connect from the outside to the node's service gets. */
const fromOutside = () =>
  inNs(ns.out, process.execPath, [
    '-e',
    `const s=require('net').connect({host:'${outside.node4}',port:8080});s.setTimeout(1500);` +
      `s.on('connect',()=>{console.log('open');process.exit(0)});s.on('timeout',()=>{console.log('timeout');process.exit(0)});` +
      `s.on('error',(e)=>{console.log(e.code);process.exit(0)})`,
  ]).stdout.trim();
/** What a DNS-sized UDP datagram to port 53 gets: `reply`, `noreply`, or the send error. */
const udp = (host: string) =>
  node(
    `const d=require('dgram').createSocket('${host.includes(':') ? 'udp6' : 'udp4'}');` +
      `d.on('message',()=>{console.log('reply');process.exit(0)});d.on('error',(e)=>{console.log(e.code);process.exit(0)});` +
      `d.send(Buffer.from('lumen'),53,'${host}',(e)=>{if(e){console.log(e.code);process.exit(0)}});` +
      `setTimeout(()=>{console.log('noreply');process.exit(0)},1500)`,
  );
const ping = (host: string) =>
  inNs(ns.node, 'ping', [host.includes(':') ? '-6' : '-4', '-c', '1', '-W', '1', host]).status === 0;
const registryAnswers = () =>
  node(
    `fetch('http://${site.registry}:5000/v2/',{signal:AbortSignal.timeout(3000)}).then((r)=>console.log(r.status),(e)=>console.log(e.cause?.code??e.name))`,
  );
const counter = (name: string) =>
  Number(/packets (\d+)/.exec(inNs(ns.node, 'nft', ['list', 'counter', 'inet', firewallTable, name]).stdout)?.[1]);

const servers: ChildProcess[] = [];

before(async () => {
  for (const n of Object.values(ns)) ip('netns', 'add', n);
  // node ↔ site network, node ↔ outside (default routes lead outside, as an internet uplink would).
  ip('link', 'add', `lfw${tag}a`, 'type', 'veth', 'peer', 'name', `lfw${tag}b`);
  ip('link', 'add', `lfw${tag}c`, 'type', 'veth', 'peer', 'name', `lfw${tag}d`);
  ip('link', 'set', `lfw${tag}a`, 'netns', ns.node);
  ip('link', 'set', `lfw${tag}b`, 'netns', ns.site);
  ip('link', 'set', `lfw${tag}c`, 'netns', ns.node);
  ip('link', 'set', `lfw${tag}d`, 'netns', ns.out);
  const x = (n: string, ...args: string[]) => ip('-n', n, ...args);
  for (const n of Object.values(ns)) x(n, 'link', 'set', 'lo', 'up');
  x(ns.node, 'addr', 'add', `${site.node}/24`, 'dev', `lfw${tag}a`);
  x(ns.site, 'addr', 'add', `${site.registry}/24`, 'dev', `lfw${tag}b`);
  x(ns.node, 'addr', 'add', `${outside.node4}/24`, 'dev', `lfw${tag}c`);
  x(ns.out, 'addr', 'add', `${outside.v4}/24`, 'dev', `lfw${tag}d`);
  x(ns.node, '-6', 'addr', 'add', `${outside.node6}/64`, 'dev', `lfw${tag}c`, 'nodad');
  x(ns.out, '-6', 'addr', 'add', `${outside.v6}/64`, 'dev', `lfw${tag}d`, 'nodad');
  for (const [n, dev] of [
    [ns.node, `lfw${tag}a`],
    [ns.site, `lfw${tag}b`],
    [ns.node, `lfw${tag}c`],
    [ns.out, `lfw${tag}d`],
  ] as const)
    x(n, 'link', 'set', dev, 'up');
  x(ns.node, 'route', 'add', 'default', 'via', outside.v4);
  x(ns.node, '-6', 'route', 'add', 'default', 'via', outside.v6);

  // A real registry on the site network.
  const config = join(work, 'registry.yml');
  writeFileSync(
    config,
    stringify({
      version: 0.1,
      log: { level: 'warn' },
      storage: { filesystem: { rootdirectory: join(work, 'registry') } },
      http: { addr: `${site.registry}:5000`, secret: randomBytes(16).toString('hex') },
    }),
  );
  servers.push(
    spawn('ip', ['netns', 'exec', ns.site, '/usr/bin/docker-registry', 'serve', config], { stdio: 'ignore' }),
  );
  // "The internet": TCP 80 and DNS (UDP 53) on IPv4 and IPv6.
  const internet = [
    "const net=require('net'),dgram=require('dgram');",
    "for(const h of ['0.0.0.0','::']){net.createServer((c)=>{c.on('error',()=>{});c.end('hi')}).listen({host:h,port:80,ipv6Only:h==='::'});",
    "const u=h==='::'?dgram.createSocket({type:'udp6',ipv6Only:true}):dgram.createSocket('udp4');u.on('message',(m,r)=>u.send(m,r.port,r.address));u.bind(53,h);}",
  ].join('');
  servers.push(spawn('ip', ['netns', 'exec', ns.out, process.execPath, '-e', internet], { stdio: 'ignore' }));
  // A service on the node itself (as the kubelet's port would be), for connections from outside.
  const nodeService = "require('net').createServer((c)=>{c.on('error',()=>{});c.end('node')}).listen(8080,'0.0.0.0')";
  servers.push(spawn('ip', ['netns', 'exec', ns.node, process.execPath, '-e', nodeService], { stdio: 'ignore' }));
  await waitFor(
    'the registry and the outside listeners',
    async () => registryAnswers() === '200' && tcp(outside.v4, 80) === 'open' && tcp(outside.v6, 80) === 'open',
  );
});

after(() => {
  for (const s of servers) s.kill('SIGKILL');
  for (const n of Object.values(ns)) spawnSync('ip', ['netns', 'del', n]);
  rmSync(work, { recursive: true, force: true });
  for (const c of copies) c.remove();
});

describe('the node firewall, generated from site.yaml', () => {
  test('allows exactly the site network and the cluster CIDRs; no other address is named', () => {
    const script = nodeFirewall(loadInventory(testSite));
    assert.deepEqual(allowedNetworks(loadInventory(testSite)), [site.net, cluster.podCidr, cluster.serviceCidr]);
    const addresses = [...script.matchAll(/\b\d+\.\d+\.\d+\.\d+(?:\/\d+)?/g)].map((m) => m[0]);
    assert.deepEqual(
      [...new Set(addresses)].sort(),
      [site.net, cluster.podCidr, cluster.serviceCidr, '255.255.255.255'].sort(),
    );
    for (const c of dropCounters) assert.match(script, new RegExp(`counter name "${c}" drop`));
  });

  test('changes when site.yaml changes, and only there', () => {
    const other = inventoryCopy((s) => {
      s.network = '10.77.0.0/16';
      s.registry = '10.77.0.2:5000';
      s.nodes = [{ name: 'node-1', ip: '10.77.0.2', role: 'server', cpus: 2, memoryGiB: 4, diskGiB: 20 }];
      s.metallbPool = '10.77.1.1-10.77.1.9';
    });
    const a = nodeFirewall(loadInventory(testSite));
    const b = nodeFirewall(loadInventory(other));
    assert.notEqual(a, b);
    assert.equal(a.replaceAll(site.net, '10.77.0.0/16'), b);
    assert.match(nodeFirewall(loadInventory(repositoryInventory)), /192\.168\.2\.0\/24/);
  });
});

describe('enforced by nftables in a network namespace (stands in for a K3s node)', () => {
  test('before the rules the outside is reachable (the probes can succeed)', () => {
    assert.equal(tcp(outside.v4, 80), 'open');
    assert.equal(tcp(outside.v6, 80), 'open');
    assert.equal(udp(outside.v4), 'reply');
    assert.equal(udp(outside.v6), 'reply');
    assert.equal(ping(outside.v4), true);
    assert.equal(ping(outside.v6), true);
    assert.equal(fromOutside(), 'open');
  });

  test('with the rules: the registry answers, the outside is refused for TCP, UDP and ICMP, IPv4 and IPv6', () => {
    const rules = join(work, 'node-firewall.nft');
    const cli = runLumenSync(['node-firewall', '--inventory', testSite]);
    assert.equal(cli.status, 0, cli.stderr);
    writeFileSync(rules, cli.stdout);
    const applied = inNs(ns.node, 'nft', ['-f', rules]);
    assert.equal(applied.status, 0, applied.stderr);

    // Established replies pass: the registry's HTTP answer comes back.
    assert.equal(registryAnswers(), '200');
    for (const host of [outside.v4, outside.v6]) {
      assert.notEqual(tcp(host, 80), 'open', `TCP to ${host}`);
      assert.notEqual(udp(host), 'reply', `DNS (UDP 53) to ${host}`);
      assert.equal(ping(host), false, `ICMP to ${host}`);
    }
    assert.ok(counter('dropped_out') > 0, 'the drop counter rises');
    // New connections from the outside to the node are dropped too; the site network still reaches it.
    assert.equal(fromOutside(), 'timeout');
    assert.ok(counter('dropped_in') > 0, 'inbound drops are counted');
  });

  test('a second application changes nothing', () => {
    const rules = join(work, 'node-firewall.nft');
    const before = inNs(ns.node, 'nft', ['-s', 'list', 'ruleset']).stdout;
    const again = inNs(ns.node, 'nft', ['-f', rules]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(inNs(ns.node, 'nft', ['-s', 'list', 'ruleset']).stdout, before);
    assert.match(before, new RegExp(`table inet ${firewallTable}`));
    assert.equal(registryAnswers(), '200');
  });
});
