// biome-ignore-all lint/suspicious/noExplicitAny: these tests walk rendered objects, whose shape the assertions check
/**
 * The lumen-api Rollout keeps the contract in docs/platform.md (The canary): canary 20% → analysis → 80% → analysis → 100%
 * on Traefik weights; probes on /livez and /readyz (never /health for liveness); preStop sleep and a
 * grace period above delay + drain; non-root 10001, read-only root filesystem, resources; labels
 * app + tier on every workload lumen writes; HPA, PDB, IngressRoute with TLS from the Vault issuer.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { KEEP_ALIVE_TIMEOUT_MS } from '@lumen/api';
import { loadInventory } from '@lumen/inventory';
import { analysisTemplateName, type KubeObject, render } from '../src/index.ts';
import { fixtureInventory } from './fixture-inventory.ts';

const fixture = fixtureInventory();
after(() => fixture.remove());
const { components } = render(loadInventory(fixture.dir));
const api = components.find((c) => c.name === 'lumen-api');
assert.ok(api);
const get = (kind: string, name?: string): KubeObject & { spec: any } => {
  const o = api.manifests.find((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  assert.ok(o, `${kind} ${name ?? ''}`);
  return o as KubeObject & { spec: any };
};
const rollout = get('Rollout');
const pod = rollout.spec.template.spec;
const container = pod.containers[0];
const env = Object.fromEntries(container.env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));

describe('lumen-api Rollout', () => {
  it('canaries 20% → analysis → 80% → analysis → 100% through the Traefik weighted service', () => {
    const canary = rollout.spec.strategy.canary;
    assert.deepEqual(
      canary.steps.map((s: any) => (s.setWeight !== undefined ? s.setWeight : s.analysis.templates[0].templateName)),
      [20, analysisTemplateName, 80, analysisTemplateName, 100],
    );
    for (const s of canary.steps.filter((x: any) => x.analysis))
      assert.deepEqual(s.analysis.args, [{ name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Latest' } }]);
    const weighted = get('TraefikService', canary.trafficRouting.traefik.weightedTraefikServiceName);
    assert.deepEqual(
      weighted.spec.weighted.services.map((s: any) => s.name),
      [canary.stableService, canary.canaryService],
    );
    const route = get('IngressRoute');
    assert.deepEqual(route.spec.routes[0].services, [{ name: weighted.metadata.name, kind: 'TraefikService' }]);
    // Argo CD must not fight the weights Argo Rollouts writes.
    assert.deepEqual((api.application.spec as any).ignoreDifferences, [
      {
        group: 'traefik.io',
        kind: 'TraefikService',
        name: 'lumen-api',
        namespace: 'lumen',
        jsonPointers: ['/spec/weighted/services'],
      },
    ]);
  });

  it('probes /livez for liveness and /readyz for readiness, never /health', () => {
    assert.equal(container.livenessProbe.httpGet.path, '/livez');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.startupProbe.httpGet.path, '/livez');
    assert.doesNotMatch(JSON.stringify(rollout), /"\/health"/);
  });

  it('drains before it is killed: preStop sleep, then delay, then drain, all inside the grace period', () => {
    const preStop = container.lifecycle.preStop.sleep.seconds;
    const delay = Number(env.SHUTDOWN_DELAY_MS) / 1000;
    const drain = Number(env.SHUTDOWN_TIMEOUT_MS) / 1000;
    assert.ok(preStop > 0 && delay > 0 && drain > 0);
    assert.ok(pod.terminationGracePeriodSeconds > preStop + delay + drain, `${pod.terminationGracePeriodSeconds}`);
  });

  it('runs as uid 10001, non-root, read-only root filesystem, no privilege escalation, all capabilities dropped', () => {
    assert.equal(pod.securityContext.runAsUser, 10001);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
    assert.equal(container.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.ok(container.resources.requests.cpu && container.resources.limits.memory);
    assert.equal(pod.automountServiceAccountToken, false);
  });

  it('connects to Redis through Sentinel and to PostgreSQL with DSNs rendered by VSO, no secret in the manifest', () => {
    assert.equal(env.REDIS_MODE, 'sentinel');
    assert.equal(env.REDIS_SENTINEL_ADDRS.split(',').length, 3);
    assert.deepEqual(container.envFrom, [{ secretRef: { name: 'lumen-api-db' } }]);
    const db = get('VaultStaticSecret', 'lumen-api-db');
    assert.deepEqual(Object.keys(db.spec.destination.transformation.templates).sort(), ['PG_RO_DSN', 'PG_RW_DSN']);
    assert.match(db.spec.destination.transformation.templates.PG_RW_DSN.text, /lumen-db-rw\.cnpg-system/);
    assert.match(db.spec.destination.transformation.templates.PG_RO_DSN.text, /lumen-db-ro\.cnpg-system/);
    assert.ok(!api.manifests.some((o) => o.kind === 'Secret'));
  });

  it('Traefik closes idle upstream connections before lumen-api does (no 502 from a keep-alive race)', () => {
    const transport = get('ServersTransport');
    const idle = /^(\d+)s$/.exec(transport.spec.forwardingTimeouts.idleConnTimeout);
    assert.ok(idle, transport.spec.forwardingTimeouts.idleConnTimeout);
    assert.ok(Number(idle[1]) * 1000 < KEEP_ALIVE_TIMEOUT_MS, `${idle[1]} s vs ${KEEP_ALIVE_TIMEOUT_MS} ms`);
    const weighted = get('TraefikService');
    for (const s of weighted.spec.weighted.services) assert.equal(s.serversTransport, transport.metadata.name);
  });

  it('has an HPA on the Rollout, a PDB, and TLS from the Vault ClusterIssuer renewed 30 days early', () => {
    const hpa = get('HorizontalPodAutoscaler');
    assert.deepEqual(hpa.spec.scaleTargetRef, {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Rollout',
      name: 'lumen-api',
    });
    assert.ok(hpa.spec.minReplicas >= 2);
    assert.deepEqual(get('PodDisruptionBudget').spec.selector.matchLabels, rollout.spec.selector.matchLabels);
    const cert = get('Certificate');
    assert.equal(cert.spec.issuerRef.name, 'vault-issuer');
    assert.equal(cert.spec.renewBefore, '720h');
    assert.equal(get('IngressRoute').spec.tls.secretName, cert.spec.secretName);
  });

  it('every workload lumen writes carries app and tier labels and resources on every container', () => {
    const kinds = ['Rollout', 'Deployment', 'StatefulSet', 'DaemonSet'];
    let n = 0;
    for (const c of components)
      for (const o of c.manifests.filter((m) => kinds.includes(m.kind))) {
        const t = (o.spec as any).template;
        assert.ok(t.metadata.labels.app && t.metadata.labels.tier, `${c.name}/${o.metadata.name}`);
        for (const k of [...t.spec.containers, ...(t.spec.initContainers ?? [])])
          assert.ok(k.resources?.requests && k.resources?.limits, `${o.metadata.name}/${k.name}`);
        n++;
      }
    assert.ok(n >= 4, `${n} workloads`);
  });
});
