/**
 * The real platform: `lumen check` (the CLI) passes on the committed deploy/, which holds exactly
 * lumen's policies; and so does the platform as it renders after lumen-api's first release (the
 * same render with a digest for the lumen-api image), which brings in the Rollout, its Services,
 * policies and flows — the network matrix included — offline and on a real kube-apiserver.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildCluster, findEngine, formatViolation, loadManifests, outsider, reach, runCheck } from '@lumen/check';
import { loadInventory } from '@lumen/inventory';
import { type KubeApiserver, startKubeApiserver } from '@lumen/testkit/kube-apiserver';
import { runLumenSync } from '@lumen/testkit/lumen';
import { platformModel } from '../src/engine/model.ts';
import { render } from '../src/engine/render.ts';
import { constraints, constraintTemplates } from '../src/policy/admission.ts';
import { networkMatrix } from '../src/policy/network-matrix.ts';
import { factsFromModel } from '../src/proof/inputs.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'lumen-check-release-'));
let server: KubeApiserver;
before(async () => {
  server = await startKubeApiserver({ apiserverBin: findEngine('kube-apiserver'), etcdBin: findEngine('etcd') });
});
after(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('the real platform', () => {
  test('lumen check passes on the committed deploy/', () => {
    const r = runLumenSync(['check'], { cwd: root, timeout: 120_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // Without a chart source the proofs use the platform model's description of each chart, and say so.
    assert.match(
      r.stdout,
      /^server stage not run \(no --server or --kubeconfig\): schema and Pod Security judged by the offline models\nchart internals not rendered \(no --charts, --bundle or --registry\): hand-declared chart workloads of the platform model used for \d+ component\(s\)\nlumen check: ok: \d+ objects, \d+ rules, \d+ ms\n$/,
    );
  });

  test('deploy/ holds exactly the ConstraintTemplates and Constraints of platform/src/policy/admission.ts', () => {
    const deployed = loadManifests([join(root, 'deploy')], true, root).map((o) => o.obj);
    const templates = deployed.filter((o) => o.kind === 'ConstraintTemplate');
    const bound = deployed.filter((o) => o.apiVersion?.startsWith('constraints.gatekeeper.sh/'));
    const byName = (a: { metadata?: { name?: string } }, b: { metadata?: { name?: string } }) =>
      (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
    const plain = (x: unknown) => JSON.parse(JSON.stringify(x));
    const stripRendered = (o: Record<string, unknown>) => {
      const meta = { ...(o.metadata as Record<string, unknown>) };
      delete meta.labels;
      return { ...o, metadata: meta };
    };
    assert.deepEqual(templates.map(stripRendered).sort(byName), plain(constraintTemplates).sort(byName));
    assert.deepEqual(
      bound.map(stripRendered).sort(byName),
      plain(constraints({ registry: loadInventory().site.registry })).sort(byName),
    );
  });

  test('the platform rendered after the first lumen-api release passes every proof', async () => {
    const inv = loadInventory();
    const released: typeof inv = {
      ...inv,
      images: inv.images.map((i) => (i.name === 'lumen-api' ? { ...i, digest: `sha256:${'f'.repeat(64)}` } : i)),
    };
    const rendered = render(released);
    assert.deepEqual(
      rendered.skipped.map((s) => s.component).filter((c) => c === 'lumen-api'),
      [],
    );
    for (const [path, content] of rendered.files) {
      const file = join(scratch, 'deploy', path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
    const result = await runCheck({
      cwd: scratch,
      deployDir: 'deploy',
      inventory: released,
      facts: factsFromModel(platformModel(released)),
      matrix: networkMatrix(released),
      // The real API server judges schema and Pod Security of every object it serves a kind for.
      server: { kubeconfig: server.kubeconfig },
    });
    assert.deepEqual(result.violations.map(formatViolation), []);
    const judged = result.server?.judged ?? 0;
    assert.ok(judged > 150, `the API server judged only ${judged} objects`);
    assert.ok(
      !result.server?.skipped.some((s) => s.kind === 'Deployment' || s.kind === 'Service'),
      'built-in kinds are all applied',
    );
    assert.ok(
      result.objects > 0 && rendered.files.has('components/lumen-api/rollout-lumen-api.yaml'),
      'lumen-api is rendered',
    );

    // The seed's LAYER 3 and the known defects, read directly off the rendered policies.
    const cluster = buildCluster(
      loadManifests([join(scratch, 'deploy')], true, scratch),
      factsFromModel(platformModel(released)),
    );
    const allowed = (from: string, to: string | { ip: string }, port: number, protocol = 'TCP') =>
      reach(cluster, from, to, port, protocol).allowed;
    assert.equal(allowed('traefik/traefik', 'lumen/lumen-api', 8080), true, 'traefik → lumen-api:8080');
    assert.equal(allowed('monitoring/prometheus', 'lumen/lumen-api', 9090), true, 'prometheus → admin port');
    assert.equal(allowed('traefik/traefik', 'lumen/lumen-api', 9090), false, 'only Prometheus on the admin port');
    assert.equal(allowed('monitoring/grafana', 'lumen/lumen-api', 8080), false, 'another namespace → lumen-api');
    assert.equal(allowed(outsider.id, 'lumen/lumen-api', 8080), false, 'a new namespace → lumen-api');
    assert.equal(allowed('lumen/redis', 'lumen/lumen-api', 8080), false, 'same namespace, other workload');
    assert.equal(allowed('lumen/lumen-api', { ip: '8.8.8.8' }, 53, 'UDP'), false, 'lumen-api → 8.8.8.8');
    assert.equal(allowed('lumen/lumen-api', { ip: '8.8.8.8' }, 443), false, 'lumen-api → 8.8.8.8:443');
    assert.equal(allowed('lumen/lumen-api', 'lumen/redis', 6379), true, 'lumen-api → redis');
    assert.equal(allowed('lumen/lumen-api', 'cnpg-system/lumen-db', 5432), true, 'lumen-api → cnpg');
    assert.equal(allowed('cnpg-system/lumen-db', { ip: '8.8.8.8' }, 443), false, 'database → internet');
    assert.equal(allowed('cnpg-system/lumen-db', 'lumen/redis', 6379), false, 'database → other pods');
    assert.equal(allowed('cnpg-system/lumen-db', { ip: '192.168.2.50' }, 5432), false, 'database → the LAN');
  });
});
