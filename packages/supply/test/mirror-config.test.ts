/**
 * `lumen mirror-config` writes a K3s registries.yaml that sends every upstream registry of the
 * inventory to the airgap registry, and the mirror really serves what `bundle push` put there.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadInventory, mirrorHosts } from '@lumen/inventory';
import { digestOf, manifestAccept } from '@lumen/oci';
import { startRegistry, type Registry as TestRegistry } from '@lumen/testkit';
import { parse } from 'yaml';
import { type Bundled, bundleOf } from './support/fixture.ts';
import { writeInventory } from './support/inventory.ts';
import { lumen } from './support/run.ts';

/** The shape K3s accepts (docs.k3s.io/installation/private-registry), checked strictly. */
function assertRegistriesYaml(
  doc: unknown,
): asserts doc is { mirrors: Record<string, { endpoint: string[]; rewrite?: Record<string, string> }> } {
  assert.ok(doc && typeof doc === 'object');
  for (const key of Object.keys(doc)) assert.ok(['mirrors', 'configs'].includes(key), `unknown top-level key ${key}`);
  const mirrors = (doc as { mirrors?: unknown }).mirrors;
  assert.ok(mirrors && typeof mirrors === 'object');
  for (const [host, m] of Object.entries(mirrors as Record<string, Record<string, unknown>>)) {
    assert.match(host, /^[a-z0-9.-]+(:\d+)?$/);
    for (const key of Object.keys(m)) assert.ok(['endpoint', 'rewrite'].includes(key), `${host}: unknown key ${key}`);
    assert.ok(Array.isArray(m.endpoint) && m.endpoint.length > 0);
    for (const e of m.endpoint as string[]) assert.match(new URL(e).protocol, /^https?:$/);
    for (const re of Object.keys((m.rewrite as Record<string, string>) ?? {})) new RegExp(re);
  }
}

describe('mirror-config', () => {
  const work = mkdtempSync(join(tmpdir(), 'lumen-mirror-'));
  let upstream: TestRegistry;
  let airgap: TestRegistry;
  let fx: Bundled;

  before(async () => {
    [upstream, airgap] = await Promise.all([startRegistry(), startRegistry()]);
    fx = await bundleOf(upstream, airgap.host, { images: 2 });
  });

  after(async () => {
    await Promise.allSettled([upstream?.close(), airgap?.close()]);
    rmSync(work, { recursive: true, force: true });
    if (fx) rmSync(fx.work, { recursive: true, force: true });
  });

  it('mirrors every upstream host to the airgap registry over http:// when it is plain HTTP', async () => {
    const dir = writeInventory(join(work, 'inv'), {
      registry: '10.0.0.2:5000',
      images: [
        { name: 'redis', source: 'docker.io/library/redis', tag: '8.2.2', platforms: ['linux/amd64'] },
        { name: 'grafana', source: 'docker.io/grafana/grafana', tag: '12.0.0', platforms: ['linux/amd64'] },
        { name: 'cnpg', source: 'ghcr.io/cloudnative-pg/cloudnative-pg', tag: '1.27.0', platforms: ['linux/amd64'] },
        {
          name: 'ksm',
          source: 'registry.k8s.io/kube-state-metrics/kube-state-metrics',
          tag: 'v2.17.0',
          platforms: ['linux/amd64'],
        },
      ],
      charts: [{ name: 'c', repo: 'https://charts.example.org', chart: 'c', version: '1.0.0' }],
    });
    const out = join(work, 'etc', 'registries.yaml');
    const r = await lumen(['mirror-config', '--inventory', dir, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(out, 'utf8');
    const doc = parse(text);
    assertRegistriesYaml(doc);
    assert.deepEqual(Object.keys(doc.mirrors).sort(), ['10.0.0.2:5000', 'docker.io', 'ghcr.io', 'registry.k8s.io']);
    assert.match(text, /^ {2}"10\.0\.0\.2:5000":$/m, 'host:port keys are quoted for YAML 1.1 readers');
    // The same document read as YAML 1.1 (as K3s's Go parser does) means the same thing.
    assert.deepEqual(parse(text, { version: '1.1' }), doc);
    for (const m of Object.values(doc.mirrors)) {
      assert.deepEqual(m.endpoint, ['http://10.0.0.2:5000']);
      assert.equal(m.rewrite, undefined, 'airgap paths equal upstream paths: no rewrite');
    }
  });

  it('prints to stdout, uses https:// for a TLS registry, and covers the real inventory', async () => {
    const tls = writeInventory(join(work, 'tls'), {
      registry: 'registry.airgap.test',
      images: [{ name: 'redis', source: 'docker.io/library/redis', tag: '8.2.2', platforms: ['linux/amd64'] }],
      charts: [{ name: 'c', repo: 'https://charts.example.org', chart: 'c', version: '1.0.0' }],
    });
    const site = join(tls, 'site.yaml');
    writeFileSync(site, readFileSync(site, 'utf8').replace('plainHttp: true', 'plainHttp: false'));
    const t = await lumen(['mirror-config', '--inventory', tls]);
    assert.equal(t.code, 0, t.stderr);
    assert.deepEqual(parse(t.stdout).mirrors['docker.io'].endpoint, ['https://registry.airgap.test']);
    const r = await lumen(['mirror-config']);
    assert.equal(r.code, 0, r.stderr);
    const doc = parse(r.stdout);
    assertRegistriesYaml(doc);
    const inv = loadInventory();
    for (const host of mirrorHosts(inv)) {
      const scheme = inv.site.plainHttp ? 'http' : 'https';
      assert.deepEqual(doc.mirrors[host]?.endpoint, [`${scheme}://${inv.site.registry}`]);
    }
  });

  it('resolves every inventory image through the mirror to what bundle push put there', async () => {
    const push = await lumen(['bundle', 'push', fx.bundle, '--inventory', fx.inventory]);
    assert.equal(push.code, 0, push.stderr);
    const r = await lumen(['mirror-config', '--inventory', fx.inventory]);
    assert.equal(r.code, 0, r.stderr);
    const doc = parse(r.stdout);
    assertRegistriesYaml(doc);
    const inv = loadInventory(fx.inventory);
    for (const img of inv.images) {
      // What containerd does: upstream host → mirror endpoint, path rewritten if a rule matches.
      const [host, ...rest] = (img.source ?? '').split('/');
      const mirror = doc.mirrors[host ?? ''];
      assert.ok(mirror, `no mirror for ${host}`);
      let path = rest.join('/');
      for (const [re, to] of Object.entries(mirror.rewrite ?? {})) path = path.replace(new RegExp(re), to);
      const res = await fetch(`${mirror.endpoint[0]}/v2/${path}/manifests/${img.tag}`, {
        headers: { accept: manifestAccept },
      });
      assert.equal(res.status, 200);
      assert.equal(digestOf(Buffer.from(await res.arrayBuffer())), img.digest);
    }
  });
});
