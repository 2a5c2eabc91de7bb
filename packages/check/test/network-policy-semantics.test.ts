/**
 * The NetworkPolicy evaluator on small cases, one Kubernetes semantic each: isolation and
 * default deny, selectors (pod, namespace, both), ipBlock with except, named ports, endPort,
 * policyTypes defaults, and the rule that egress of the source AND ingress of the destination
 * must both allow a connection.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stringify } from 'yaml';
import { buildCluster } from '../src/cluster.ts';
import { parseManifests } from '../src/manifests.ts';
import { outsider, reach } from '../src/rules/network.ts';

function pod(ns: string, name: string, labels: Record<string, string>, ports: Array<[string, number]> = []) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels },
    spec: {
      containers: [{ name: 'c', image: 'x', ports: ports.map(([n, p]) => ({ name: n, containerPort: p })) }],
    },
  };
}

function ns(name: string, labels: Record<string, string> = {}) {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

function policy(namespace: string, name: string, spec: Record<string, unknown>) {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace }, spec };
}

const base = [
  ns('app', { team: 'a' }),
  ns('web', { team: 'w' }),
  ns('other'),
  pod('app', 'api', { app: 'api' }, [
    ['http', 8080],
    ['admin', 9090],
  ]),
  pod('app', 'db', { app: 'db' }, [['pg', 5432]]),
  pod('web', 'proxy', { app: 'proxy' }, [['web', 80]]),
  pod('other', 'stranger', { app: 'proxy' }, [['web', 80]]),
];

function cluster(...extra: object[]) {
  const text = [...base, ...extra].map((o) => stringify(o)).join('---\n');
  return buildCluster(parseManifests(text, 'inline.yaml', true), { components: [] });
}

const denyAll = (n: string) => policy(n, 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });

describe('isolation', () => {
  test('without any policy every connection is allowed', () => {
    assert.equal(reach(cluster(), 'other/stranger', 'app/api', 8080).allowed, true);
  });
  test('a default-deny policy isolates both directions', () => {
    const c = cluster(denyAll('app'));
    assert.equal(reach(c, 'web/proxy', 'app/api', 8080).allowed, false);
    assert.equal(reach(c, 'app/api', 'web/proxy', 80).allowed, false);
    assert.equal(reach(c, 'app/api', { ip: '8.8.8.8' }, 53, 'UDP').allowed, false);
  });
  test('policyTypes defaults to Ingress only when the policy has no egress rules', () => {
    const c = cluster(policy('app', 'ingress-only', { podSelector: {} }));
    assert.equal(reach(c, 'web/proxy', 'app/api', 8080).allowed, false);
    assert.equal(reach(c, 'app/api', 'web/proxy', 80).allowed, true);
  });
  test('egress rules without policyTypes make the policy an egress policy too', () => {
    const c = cluster(
      policy('app', 'egress-db', {
        podSelector: { matchLabels: { app: 'api' } },
        egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }] }],
      }),
    );
    assert.equal(reach(c, 'app/api', 'app/db', 5432).allowed, true);
    assert.equal(reach(c, 'app/api', 'web/proxy', 80).allowed, false);
    // It also isolates ingress (policyTypes defaults to Ingress + Egress) with no ingress rule.
    assert.equal(reach(c, 'web/proxy', 'app/api', 8080).allowed, false);
  });
});

describe('peers', () => {
  test('a podSelector alone selects pods of the policy namespace only', () => {
    const c = cluster(
      policy('app', 'from-proxy', {
        podSelector: { matchLabels: { app: 'api' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'proxy' } } }] }],
      }),
    );
    assert.equal(reach(c, 'web/proxy', 'app/api', 8080).allowed, false);
  });
  test('namespaceSelector AND podSelector in one peer must both match', () => {
    const c = cluster(
      policy('app', 'from-web-proxy', {
        podSelector: { matchLabels: { app: 'api' } },
        ingress: [
          {
            from: [
              { namespaceSelector: { matchLabels: { team: 'w' } }, podSelector: { matchLabels: { app: 'proxy' } } },
            ],
          },
        ],
      }),
    );
    assert.equal(reach(c, 'web/proxy', 'app/api', 8080).allowed, true);
    assert.equal(reach(c, 'other/stranger', 'app/api', 8080).allowed, false);
  });
  test('two peers in one rule are alternatives (OR)', () => {
    const c = cluster(
      policy('app', 'from-either', {
        podSelector: { matchLabels: { app: 'api' } },
        ingress: [
          {
            from: [
              { namespaceSelector: { matchLabels: { team: 'w' } } },
              { podSelector: { matchLabels: { app: 'proxy' } } },
            ],
          },
        ],
      }),
    );
    assert.equal(reach(c, 'web/proxy', 'app/api', 8080).allowed, true);
    assert.equal(reach(c, 'other/stranger', 'app/api', 8080).allowed, false);
  });
  test('an empty namespaceSelector admits every namespace, even one created later', () => {
    const c = cluster(
      policy('app', 'from-anywhere', {
        podSelector: { matchLabels: { app: 'api' } },
        ingress: [{ from: [{ namespaceSelector: {} }] }],
      }),
    );
    assert.equal(reach(c, outsider.id, 'app/api', 8080).allowed, true);
  });
  test('namespaces carry the automatic kubernetes.io/metadata.name label', () => {
    const c = cluster(
      policy('app', 'from-other', {
        podSelector: { matchLabels: { app: 'api' } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'other' } } }] }],
      }),
    );
    assert.equal(reach(c, 'other/stranger', 'app/api', 8080).allowed, true);
    assert.equal(reach(c, 'web/proxy', 'app/api', 8080).allowed, false);
  });
  test('matchExpressions (In, NotIn, Exists, DoesNotExist) select as in Kubernetes', () => {
    const c = cluster(
      policy('app', 'expr', {
        podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['api'] }] },
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] },
                podSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] },
              },
            ],
          },
        ],
      }),
    );
    assert.equal(reach(c, 'web/proxy', 'app/api', 8080).allowed, true);
    assert.equal(reach(c, 'app/db', 'app/api', 8080).allowed, false);
    assert.equal(reach(c, 'other/stranger', 'app/api', 8080).allowed, false);
  });
});

describe('ipBlock', () => {
  const egressTo = (block: Record<string, unknown>) =>
    policy('app', 'egress-block', {
      podSelector: { matchLabels: { app: 'api' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: block }] }],
    });
  test('an address inside the CIDR and outside every except is allowed', () => {
    const c = cluster(egressTo({ cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] }));
    assert.equal(reach(c, 'app/api', { ip: '10.2.3.4' }, 443).allowed, true);
    assert.equal(reach(c, 'app/api', { ip: '10.1.3.4' }, 443).allowed, false);
    assert.equal(reach(c, 'app/api', { ip: '8.8.8.8' }, 443).allowed, false);
  });
  test('0.0.0.0/0 reaches pods too (pod addresses are inside it): a denial is never assumed', () => {
    const c = cluster(egressTo({ cidr: '0.0.0.0/0' }));
    assert.equal(reach(c, 'app/api', 'web/proxy', 80).allowed, true);
  });
  test('an except covering the pod CIDR keeps pods out', () => {
    const c = cluster(egressTo({ cidr: '0.0.0.0/0', except: ['10.42.0.0/16'] }));
    assert.equal(reach(c, 'app/api', 'web/proxy', 80).allowed, false);
    assert.equal(reach(c, 'app/api', { ip: '8.8.8.8' }, 443).allowed, true);
  });
});

describe('ports', () => {
  const ingressPorts = (ports: unknown[]) =>
    policy('app', 'ports', { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ ports }] });
  test('a named port resolves against the destination pod', () => {
    const c = cluster(ingressPorts([{ port: 'http' }]));
    assert.equal(reach(c, 'web/proxy', 'app/api', 8080).allowed, true);
    assert.equal(reach(c, 'web/proxy', 'app/api', 9090).allowed, false);
  });
  test('endPort opens a range', () => {
    const c = cluster(ingressPorts([{ port: 8000, endPort: 8100 }]));
    assert.equal(reach(c, 'web/proxy', 'app/api', 8080).allowed, true);
    assert.equal(reach(c, 'web/proxy', 'app/api', 9090).allowed, false);
  });
  test('protocol defaults to TCP and must match', () => {
    const c = cluster(ingressPorts([{ port: 8080 }]));
    assert.equal(reach(c, 'web/proxy', 'app/api', 8080, 'UDP').allowed, false);
    assert.equal(reach(c, 'web/proxy', 'app/api', 8080, 'TCP').allowed, true);
  });
});

describe('both sides', () => {
  test('ingress alone is not enough when the source is egress-isolated', () => {
    const c = cluster(
      denyAll('web'),
      policy('app', 'from-proxy', {
        podSelector: { matchLabels: { app: 'api' } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'w' } } }] }],
      }),
    );
    const v = reach(c, 'web/proxy', 'app/api', 8080);
    assert.equal(v.allowed, false);
    assert.equal(v.ingress.allowed, true);
    assert.equal(v.egress.allowed, false);
  });
  test('egress plus ingress allows, and the verdict names the policies', () => {
    const c = cluster(
      denyAll('web'),
      denyAll('app'),
      policy('web', 'to-api', {
        podSelector: { matchLabels: { app: 'proxy' } },
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { team: 'a' } }, podSelector: { matchLabels: { app: 'api' } } }],
            ports: [{ port: 8080 }],
          },
        ],
      }),
      policy('app', 'from-proxy', {
        podSelector: { matchLabels: { app: 'api' } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'w' } } }], ports: [{ port: 'http' }] }],
      }),
    );
    const v = reach(c, 'web/proxy', 'app/api', 8080);
    assert.equal(v.allowed, true);
    assert.deepEqual(
      v.ingress.by.map((p) => p.source.obj.metadata?.name),
      ['from-proxy'],
    );
    assert.deepEqual(
      v.egress.by.map((p) => p.source.obj.metadata?.name),
      ['to-api'],
    );
    assert.equal(reach(c, 'web/proxy', 'app/api', 9090).allowed, false);
  });
});
