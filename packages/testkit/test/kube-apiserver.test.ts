/**
 * The harness's real kube-apiserver + etcd (binaries from the tool cache, scripts/tools.sh): it
 * answers as Kubernetes v1.36.4 to the generated administrator credentials only, and close()
 * stops both processes and removes their directory.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:https';
import { dirname } from 'node:path';
import { describe, test } from 'node:test';
import { startKubeApiserver } from '../src/kube-apiserver.ts';
import { toolPath } from '../src/tools.ts';

function get(url: string, ca: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const req = request(url, { ca, headers }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('kube-apiserver in the harness', () => {
  test('serves Kubernetes v1.36.4 to its administrator only, and close() reaps it', async () => {
    const server = await startKubeApiserver({
      apiserverBin: toolPath('kube-apiserver'),
      etcdBin: toolPath('etcd'),
    });
    const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(server.kubeconfig)?.[1] ?? '', 'base64').toString();
    const token = /token: (\S+)/.exec(server.kubeconfig)?.[1];
    assert.ok(token && token.length >= 24, 'a generated token');
    const version = await get(`${server.url}/version`, ca, token);
    assert.equal(version.status, 200);
    assert.equal(JSON.parse(version.body).gitVersion, 'v1.36.4');
    const namespaces = await get(`${server.url}/api/v1/namespaces`, ca, 'not-the-token');
    assert.equal(namespaces.status, 401);
    assert.ok(server.startupMs > 0);
    const dir = dirname(server.kubeconfigFile);
    await server.close();
    assert.equal(existsSync(dir), false, 'instance directory removed');
    await assert.rejects(get(`${server.url}/version`, ca, token), /ECONNREFUSED/);
  });
});
