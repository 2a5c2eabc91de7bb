/**
 * The rendered canary gate against the real thing: a real lumen-api (spawned on harness PostgreSQL
 * and Redis) scraped by a real Prometheus with the target labels the rendered ServiceMonitor
 * produces (job = the selected Service's name, namespace, and the pod-template hash relabeled onto
 * every series — added here as a static label, which is what that relabeling does in-cluster).
 * The AnalysisTemplate's query goes through Prometheus' HTTP API and its rendered success/failure
 * conditions are evaluated on the answer: no traffic → neither (inconclusive, never a pass);
 * healthy traffic → pass; ≥ 5% failing requests (PostgreSQL primary stopped while POSTing) → fail.
 * Every dashboard expression returns data in the same run.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadInventory } from '@lumen/inventory';
import {
  freePort,
  type PgCluster,
  type Prometheus,
  type RedisCluster,
  startPostgres,
  startPrometheus,
  startRedis,
  waitFor,
} from '@lumen/testkit';
import { canaryHashArg, dashboardQueries, type KubeObject, render } from '../src/index.ts';
import { evaluateCondition } from './analysis-condition.ts';
import { fixtureInventory, repoRoot } from './fixture-inventory.ts';

const fixture = fixtureInventory();
const lumenApi = render(loadInventory(fixture.dir)).components.find((c) => c.name === 'lumen-api');
assert.ok(lumenApi);
const find = (kind: string, pred: (o: KubeObject) => boolean = () => true) => {
  const o = lumenApi.manifests.find((m) => m.kind === kind && pred(m));
  assert.ok(o, kind);
  return o;
};

// What the rendered objects say.
const template = find('AnalysisTemplate').spec as {
  metrics: Array<{ successCondition: string; failureCondition: string; provider: { prometheus: { query: string } } }>;
};
const metric = template.metrics[0];
assert.ok(metric);
const monitor = find('ServiceMonitor');
const monitorSpec = monitor.spec as {
  selector: { matchLabels: Record<string, string> };
  endpoints: Array<{ port: string; relabelings: Array<{ sourceLabels: string[]; targetLabel: string }> }>;
};
const services = lumenApi.manifests.filter(
  (o) =>
    o.kind === 'Service' &&
    Object.entries(monitorSpec.selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v),
);
const hashRelabel = monitorSpec.endpoints[0]?.relabelings.find((r) =>
  r.sourceLabels.includes('__meta_kubernetes_pod_label_rollouts_pod_template_hash'),
);
const canaryHash = '6d8f9c7b5';

let pg: PgCluster;
let redis: RedisCluster;
let prometheus: Prometheus;
let api: ChildProcess | undefined;
let apiUrl = '';

async function request(method: string, path: string, body?: unknown): Promise<number> {
  const res = await fetch(`${apiUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

/** The template's query for this canary, through Prometheus' HTTP API: the `result` Argo Rollouts sees. */
async function measure(): Promise<number[]> {
  const query = metric?.provider.prometheus.query.replaceAll(`{{args.${canaryHashArg}}}`, canaryHash) ?? '';
  return (await prometheus.query(query)).map((s) => s.value);
}

/** Sends `perSecond` requests a second until `stop()`; counts the statuses. */
function traffic(make: () => Promise<number>, perSecond: number) {
  const statuses = new Map<number, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      const results = await Promise.allSettled(Array.from({ length: perSecond }, make));
      for (const r of results) {
        const s = r.status === 'fulfilled' ? r.value : 0;
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
    }
  })();
  return {
    statuses,
    async stop() {
      running = false;
      await loop;
    },
  };
}

describe('the rendered canary analysis on a real Prometheus scraping a real lumen-api', () => {
  before(async () => {
    [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
    const [port, adminPort] = [await freePort(), await freePort()];
    api = spawn(process.execPath, [join(repoRoot, 'apps/api/src/main.ts')], {
      cwd: join(repoRoot, 'apps/api'),
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(port),
        ADMIN_PORT: String(adminPort),
        PG_RW_DSN: pg.primary.dsn,
        REDIS_ADDR: redis.master.addr,
        ...(redis.password ? { REDIS_PASSWORD: redis.password } : {}),
        LOG_LEVEL: 'warn',
        SHUTDOWN_DELAY_MS: '0',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    apiUrl = `http://127.0.0.1:${port}`;
    await waitFor('lumen-api to be ready', async () => (await request('GET', '/readyz')) === 200, 60_000, 200);

    const service = services[0];
    assert.ok(service && hashRelabel);
    prometheus = await startPrometheus({
      // A ServiceMonitor's job label is the name of the Service it scraped.
      job: service.metadata.name,
      interval: '1s',
      targets: [
        {
          target: `127.0.0.1:${adminPort}`,
          labels: { namespace: service.metadata.namespace ?? '', [hashRelabel.targetLabel]: canaryHash },
        },
      ],
    });
    await prometheus.waitForTargets();
  });

  after(async () => {
    fixture.remove();
    if (api && api.exitCode === null) {
      const exited = new Promise((r) => api?.once('exit', r));
      api.kill('SIGTERM');
      await exited;
    }
    await prometheus?.close();
    await redis?.close();
    await pg?.close();
  });

  it('the ServiceMonitor selects exactly one Service, on the admin port, and relabels the pod-template hash', () => {
    assert.equal(services.length, 1);
    assert.equal(monitorSpec.endpoints.length, 1);
    assert.equal(monitorSpec.endpoints[0]?.port, 'admin');
    assert.ok(hashRelabel);
    assert.match(
      metric?.provider.prometheus.query ?? '',
      new RegExp(`${hashRelabel.targetLabel}="\\{\\{args\\.${canaryHashArg}\\}\\}"`),
    );
  });

  it('does not pass on no traffic: the measurement is inconclusive (neither success nor failure)', async () => {
    // Several scrapes of an idle lumen-api (only probe routes have been called).
    await new Promise((r) => setTimeout(r, 3000));
    // The target is scraped and the probe series exist: the empty answer is the guard, not a missing scrape.
    assert.ok((await prometheus.query('http_requests_total{route="/readyz"}')).length > 0);
    const result = await measure();
    assert.deepEqual(result, []);
    assert.equal(evaluateCondition(metric?.successCondition ?? '', result), false);
    assert.equal(evaluateCondition(metric?.failureCondition ?? '', result), false);
  });

  it('passes under healthy traffic', async () => {
    let n = 0;
    const load = traffic(() => {
      n++;
      return n % 3 === 0
        ? request('POST', '/items', { name: `item ${n}` })
        : request('GET', n % 3 === 1 ? '/hello' : '/items?limit=5');
    }, 30);
    try {
      let result: number[] = [];
      await waitFor(
        'the canary query to see enough traffic',
        async () => {
          result = await measure();
          return result.length > 0;
        },
        45_000,
        500,
      );
      assert.equal(result.length, 1);
      assert.equal(evaluateCondition(metric?.successCondition ?? '', result), true, `ratio ${result[0]}`);
      assert.equal(evaluateCondition(metric?.failureCondition ?? '', result), false);
    } finally {
      await load.stop();
    }
    assert.equal(
      [...load.statuses.keys()].filter((s) => s >= 500 || s === 0).length,
      0,
      JSON.stringify([...load.statuses]),
    );
  });

  it('fails once at least 5% of requests fail (PostgreSQL primary stopped while POSTing)', async () => {
    await pg.primary.stop();
    let n = 0;
    const load = traffic(() => request('POST', '/items', { name: `refused ${n++}` }), 30);
    try {
      let result: number[] = [];
      await waitFor(
        'the canary error ratio to reach 5%',
        async () => {
          result = await measure();
          return (result[0] ?? 0) >= 0.05;
        },
        45_000,
        500,
      );
      assert.equal(evaluateCondition(metric?.successCondition ?? '', result), false, `ratio ${result[0]}`);
      assert.equal(evaluateCondition(metric?.failureCondition ?? '', result), true);
    } finally {
      await load.stop();
    }
    assert.ok((load.statuses.get(503) ?? 0) > 0, JSON.stringify([...load.statuses]));
  });

  it('every PromQL expression of the dashboard returns data', async () => {
    for (const [title, q] of Object.entries(dashboardQueries)) {
      const samples = await prometheus.query(q.expr);
      assert.ok(samples.length > 0, `${title}: ${q.expr} returned nothing`);
    }
  });
});
