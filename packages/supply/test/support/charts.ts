/**
 * Real Helm chart archives made in the test (Chart.yaml, values.yaml, a template, packed by
 * GNU tar as `helm package` lays them out) and a classic Helm repository (`index.yaml` + `.tgz`)
 * served over HTTPS on loopback with a certificate made by openssl at run time.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createPlainServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { selfSignedCertificate } from '@lumen/testkit';
import { stringify } from 'yaml';

export function makeChart(dir: string, name: string, version: string): Buffer {
  const root = join(dir, `src-${name}-${version}`, name);
  mkdirSync(join(root, 'templates'), { recursive: true });
  writeFileSync(
    join(root, 'Chart.yaml'),
    stringify({
      apiVersion: 'v2',
      name,
      version,
      description: `${name} test chart`,
      type: 'application',
      appVersion: '1.0.0',
    }),
  );
  writeFileSync(join(root, 'values.yaml'), 'replicaCount: 1\n');
  writeFileSync(
    join(root, 'templates', 'configmap.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  replicas: "{{ .Values.replicaCount }}"\n',
  );
  const out = join(dir, `${name}-${version}.tgz`);
  execFileSync('tar', ['-czf', out, '--owner=0', '--group=0', '-C', join(dir, `src-${name}-${version}`), name]);
  return readFileSync(out);
}

export interface ChartRepo {
  /** `https://127.0.0.1:PORT/charts` */
  url: string;
  /** PEM of the self-signed server certificate (trust it with NODE_EXTRA_CA_CERTS=caFile). */
  caFile: string;
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serves `charts` as a classic Helm repository over HTTPS (and `files` by path, as a download site
 * for files.yaml); trusts its certificate in this process. `plainHttp`: over plain HTTP instead.
 */
export async function startChartRepo(
  dir: string,
  charts: { name: string; version: string; archive: Buffer }[],
  files: Record<string, Buffer> = {},
  options: { plainHttp?: boolean } = {},
): Promise<ChartRepo> {
  const { keyFile: key, certFile: cert } = selfSignedCertificate(dir, {
    name: 'repo',
    commonName: '127.0.0.1',
    ipSan: '127.0.0.1',
  });
  const certPem = readFileSync(cert, 'utf8');
  if (!options.plainHttp) setDefaultCACertificates([...getCACertificates('default'), certPem]);
  const entries: Record<string, unknown[]> = {};
  for (const c of charts) {
    entries[c.name] ??= [];
    entries[c.name]?.push({
      apiVersion: 'v2',
      name: c.name,
      version: c.version,
      urls: [`${c.name}-${c.version}.tgz`],
      digest: createHash('sha256').update(c.archive).digest('hex'),
      created: '2026-01-01T00:00:00Z',
    });
  }
  const index = stringify({ apiVersion: 'v1', entries, generated: '2026-01-01T00:00:00Z' });
  const requests: string[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url ?? '');
    if (req.url === '/charts/index.yaml') {
      res.writeHead(200, { 'content-type': 'text/yaml' }).end(index);
      return;
    }
    const file = files[req.url ?? ''];
    if (file) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(file);
      return;
    }
    const c = charts.find((x) => req.url === `/charts/${x.name}-${x.version}.tgz`);
    if (c) res.writeHead(200, { 'content-type': 'application/gzip' }).end(c.archive);
    else res.writeHead(404).end();
  };
  const server = options.plainHttp
    ? createPlainServer(handle)
    : createServer({ key: readFileSync(key), cert: certPem }, handle);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.plainHttp ? 'http' : 'https'}://127.0.0.1:${port}/charts`,
    caFile: cert,
    requests,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
