import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { startPrometheus, startRegistry } from '@lumen/testkit';

describe('testkit: Distribution registry', () => {
  it('serves the distribution API without auth', async () => {
    const reg = await startRegistry();
    after(() => reg.close());
    const res = await fetch(`${reg.url}/v2/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });

  it('requires basic auth when started with credentials', async () => {
    const reg = await startRegistry({ auth: { username: 'ci', password: 's3cret-at-runtime' } });
    after(() => reg.close());
    assert.equal((await fetch(`${reg.url}/v2/`)).status, 401);
    const good = `Basic ${Buffer.from('ci:s3cret-at-runtime').toString('base64')}`;
    assert.equal((await fetch(`${reg.url}/v2/`, { headers: { authorization: good } })).status, 200);
    const bad = `Basic ${Buffer.from('ci:wrong').toString('base64')}`;
    assert.equal((await fetch(`${reg.url}/v2/`, { headers: { authorization: bad } })).status, 401);
  });
});

describe('testkit: Prometheus', () => {
  it('scrapes a target and answers instant queries with its static labels', async () => {
    const target = createServer((_req, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end('# TYPE lumen_probe gauge\nlumen_probe 7\n');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    after(() => target.close());
    const addr = `127.0.0.1:${(target.address() as AddressInfo).port}`;
    const prom = await startPrometheus({
      targets: [{ target: addr, labels: { rollouts_pod_template_hash: 'canary' } }],
    });
    after(() => prom.close());
    await prom.waitForTargets();
    const samples = await prom.query('lumen_probe');
    assert.equal(samples.length, 1);
    assert.equal(samples[0]?.value, 7);
    assert.equal(samples[0]?.metric.rollouts_pod_template_hash, 'canary');
    await assert.rejects(prom.query('sum(('), /prometheus query/);
  });
});
