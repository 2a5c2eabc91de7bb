/**
 * NetworkPolicies: default-deny (ingress and egress) in every namespace, DNS only to kube-dns, and
 * exactly the flows the components declare. Evaluated here by selecting policies the way the
 * NetworkPolicy API does (podSelector matchLabels ⊆ pod labels, namespace by name).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { loadInventory } from '@lumen/inventory';
import { type KubeObject, type RenderedComponent, render } from '../src/index.ts';
import { fixtureInventory } from './fixture-inventory.ts';

const fixture = fixtureInventory();
after(() => fixture.remove());
const { components } = render(loadInventory(fixture.dir));
const policies = components.flatMap((c) => c.manifests).filter((o) => o.kind === 'NetworkPolicy');

interface Peer {
  namespaceSelector?: { matchLabels?: Record<string, string> };
  podSelector?: { matchLabels?: Record<string, string> };
  ipBlock?: { cidr: string };
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: Array<{ port: number; protocol: string }>;
}
interface PolicySpec {
  podSelector: { matchLabels?: Record<string, string> };
  policyTypes: string[];
  ingress?: Rule[];
  egress?: Rule[];
}

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);

/** Policies selecting a pod with `labels` in `namespace`. */
function selecting(namespace: string, labels: Record<string, string>): Array<KubeObject & { spec: PolicySpec }> {
  return policies.filter(
    (p) => p.metadata.namespace === namespace && matches((p.spec as PolicySpec).podSelector.matchLabels, labels),
  ) as Array<KubeObject & { spec: PolicySpec }>;
}

function workload(component: string, name: string): { c: RenderedComponent; labels: Record<string, string> } {
  const c = components.find((x) => x.name === component);
  const w = c?.workloads.find((x) => x.name === name);
  assert.ok(c && w, `${component}/${name}`);
  return { c, labels: w.podLabels };
}

/** Can a pod (ns, labels) connect to a pod (ns, labels) on port? Both sides' policies must allow it. */
function allowed(from: [string, Record<string, string>], to: [string, Record<string, string>], port: number): boolean {
  const peerMatches = (peers: Peer[] | undefined, [ns, labels]: [string, Record<string, string>]) =>
    (peers ?? []).some(
      (p) =>
        !p.ipBlock &&
        matches(p.namespaceSelector?.matchLabels, { 'kubernetes.io/metadata.name': ns }) &&
        matches(p.podSelector?.matchLabels, labels),
    );
  const portOk = (r: Rule) => !r.ports || r.ports.some((p) => p.port === port);
  const egress = selecting(...from).some((p) => (p.spec.egress ?? []).some((r) => portOk(r) && peerMatches(r.to, to)));
  const ingress = selecting(...to).some((p) =>
    (p.spec.ingress ?? []).some((r) => portOk(r) && peerMatches(r.from, from)),
  );
  return egress && ingress;
}

describe('NetworkPolicies', () => {
  const namespaces = [...new Set(components.map((c) => c.namespace))];

  it('every namespace has default-deny for ingress and egress and DNS only to kube-dns', () => {
    for (const ns of namespaces) {
      const deny = policies.find((p) => p.metadata.namespace === ns && p.metadata.name === 'default-deny');
      assert.deepEqual(deny?.spec, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }, ns);
      const dns = policies.find((p) => p.metadata.namespace === ns && p.metadata.name === 'allow-dns')
        ?.spec as PolicySpec;
      assert.deepEqual(dns.egress?.[0]?.to, [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
          podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        },
      ]);
    }
  });

  it('no policy allows egress to 0.0.0.0/0 or a whole namespace', () => {
    for (const p of policies) {
      for (const r of (p.spec as PolicySpec).egress ?? [])
        for (const peer of r.to ?? []) {
          assert.notEqual(peer.ipBlock?.cidr, '0.0.0.0/0', p.metadata.name);
          if (peer.namespaceSelector) assert.ok(peer.podSelector, `${p.metadata.name} allows a whole namespace`);
        }
    }
  });

  it('only Traefik (8080) and Prometheus (9090, admin) reach lumen-api; nothing else in any namespace does', () => {
    const api = workload('lumen-api', 'lumen-api');
    const traefik = workload('traefik', 'traefik');
    const prometheus = workload('kube-prometheus-stack', 'prometheus');
    assert.ok(allowed(['traefik', traefik.labels], ['lumen', api.labels], 8080));
    assert.ok(allowed(['monitoring', prometheus.labels], ['lumen', api.labels], 9090));
    assert.ok(
      !allowed(['traefik', traefik.labels], ['lumen', api.labels], 9090),
      'traefik must not reach the admin port',
    );
    assert.ok(!allowed(['monitoring', prometheus.labels], ['lumen', api.labels], 8080));
    const ingressSources = selecting('lumen', api.labels)
      .flatMap((p) => p.spec.ingress ?? [])
      .flatMap((r) => r.from ?? []);
    assert.deepEqual(
      ingressSources.map((s) => s.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']).sort(),
      ['monitoring', 'traefik'],
    );
    for (const c of components)
      for (const w of c.workloads)
        if (!['traefik', 'prometheus'].includes(w.name))
          for (const port of [8080, 9090])
            assert.ok(!allowed([c.namespace, w.podLabels], ['lumen', api.labels], port), `${c.name}/${w.name}`);
  });

  it('lumen-api reaches Redis (6379, Sentinel 26379), PostgreSQL (5432) and Alloy (4318) and nothing else but DNS', () => {
    const api = workload('lumen-api', 'lumen-api');
    const redis = workload('redis', 'redis');
    const sentinel = workload('redis', 'redis-sentinel');
    const db = workload('lumen-db', 'lumen-db');
    assert.ok(allowed(['lumen', api.labels], ['lumen', redis.labels], 6379));
    assert.ok(allowed(['lumen', api.labels], ['lumen', sentinel.labels], 26379));
    assert.ok(allowed(['lumen', api.labels], ['cnpg-system', db.labels], 5432));
    assert.ok(!allowed(['lumen', api.labels], ['cnpg-system', db.labels], 8000));
    const egressPeers = selecting('lumen', api.labels)
      .flatMap((p) => p.spec.egress ?? [])
      .flatMap((r) => r.to ?? []);
    assert.ok(
      egressPeers.every((p) => !p.ipBlock),
      'lumen-api needs no address outside the cluster',
    );
  });

  it('the database pods get no arbitrary egress: only each other, the API server and DNS', () => {
    const db = workload('lumen-db', 'lumen-db');
    const rules = selecting('cnpg-system', db.labels).flatMap((p) => p.spec.egress ?? []);
    for (const r of rules)
      for (const peer of r.to ?? []) {
        if (peer.ipBlock) assert.match(peer.ipBlock.cidr, /^(10\.43\.0\.1|192\.168\.2\.2)\/32$/);
        else
          assert.ok(
            matches(peer.podSelector?.matchLabels, db.labels) ||
              peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'kube-system',
            JSON.stringify(peer),
          );
      }
    const api = workload('lumen-api', 'lumen-api');
    assert.ok(!allowed(['cnpg-system', db.labels], ['lumen', api.labels], 8080));
  });
});
