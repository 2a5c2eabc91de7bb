/**
 * A real Kubernetes API server (kube-apiserver at the inventory's K3s version) on an etcd of its
 * own, both on free loopback ports with throwaway certificates and keys made at run time, reaped
 * like every other server of the harness. It is the engine of `lumen check --server` and of the
 * tests: no controllers run (no kube-controller-manager, no scheduler), so nothing is reconciled;
 * admission (Pod Security, validation, defaulting) and storage are the real ones.
 *
 * The binaries come from the tool cache (scripts/tools.sh); callers pass their paths.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { type Daemon, freePort, instanceDir, removeInstanceDir, startDaemon } from './daemon.ts';
import { selfSignedCertificate } from './tls.ts';

export interface StartKubeApiserverOptions {
  /** Path of the kube-apiserver binary. */
  apiserverBin: string;
  /** Path of the etcd binary. */
  etcdBin: string;
  /** How long to wait for `/readyz` (default 60 s: a cold start on 2 cores takes 2–5 s). */
  timeoutMs?: number;
}

export interface KubeApiserver {
  /** `https://127.0.0.1:PORT`. */
  readonly url: string;
  /** A kubeconfig for an administrator (group system:masters) of this server, as YAML. */
  readonly kubeconfig: string;
  /** The same kubeconfig written to a file. */
  readonly kubeconfigFile: string;
  /** Milliseconds from spawning etcd to the API server's `/readyz` answering ok. */
  readonly startupMs: number;
  close(): Promise<void>;
}

/** GET with the bearer token and the server's certificate; resolves with the status and body. */
function get(url: string, token: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` }, ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts etcd and kube-apiserver; call `close()` when done (the harness also reaps them on exit). */
export async function startKubeApiserver(opts: StartKubeApiserverOptions): Promise<KubeApiserver> {
  const started = performance.now();
  const dir = instanceDir('kube-apiserver');
  const daemons: Daemon[] = [];
  const close = async () => {
    for (const d of daemons.reverse()) await d.stop('SIGTERM', 10_000);
    removeInstanceDir(dir);
  };
  try {
    const [clientPort, peerPort, securePort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${clientPort}`;
    daemons.push(
      await startDaemon(
        {
          name: 'etcd',
          bin: opts.etcdBin,
          args: [
            `--data-dir=${join(dir, 'etcd')}`,
            `--listen-client-urls=${etcdUrl}`,
            `--advertise-client-urls=${etcdUrl}`,
            `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
            `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
            `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
            '--log-level=warn',
            // Throwaway data: no fsync per write.
            '--unsafe-no-fsync',
          ],
          dir,
          logName: 'etcd',
        },
        async () => (await fetch(`${etcdUrl}/health`)).ok,
        opts.timeoutMs ?? 60_000,
      ),
    );
    const tls = selfSignedCertificate(dir, { name: 'serving', commonName: 'kube-apiserver', ipSan: '127.0.0.1' });
    const saKey = join(dir, 'service-account-key.pem');
    const saPub = join(dir, 'service-account-pub.pem');
    execFileSync('openssl', ['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', saKey], {
      stdio: 'ignore',
    });
    execFileSync('openssl', ['ec', '-in', saKey, '-pubout', '-out', saPub], { stdio: 'ignore' });
    const token = randomBytes(24).toString('base64url');
    const tokens = join(dir, 'tokens.csv');
    writeFileSync(tokens, `${token},lumen-admin,lumen-admin,system:masters\n`, { mode: 0o600 });
    const url = `https://127.0.0.1:${securePort}`;
    const ca = readFileSync(tls.certFile, 'utf8');
    daemons.push(
      await startDaemon(
        {
          name: 'kube-apiserver',
          bin: opts.apiserverBin,
          args: [
            `--etcd-servers=${etcdUrl}`,
            '--bind-address=127.0.0.1',
            '--advertise-address=127.0.0.1',
            `--secure-port=${securePort}`,
            `--tls-cert-file=${tls.certFile}`,
            `--tls-private-key-file=${tls.keyFile}`,
            `--cert-dir=${join(dir, 'certs')}`,
            '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
            `--service-account-key-file=${saPub}`,
            `--service-account-signing-key-file=${saKey}`,
            `--token-auth-file=${tokens}`,
            '--authorization-mode=RBAC',
            // K3s' defaults: its service range, privileged containers allowed (Pod Security decides).
            '--service-cluster-ip-range=10.43.0.0/16',
            '--allow-privileged=true',
            // No controllers run, and a loopback address cannot be an Endpoints address.
            '--endpoint-reconciler-type=none',
          ],
          dir,
          logName: 'kube-apiserver',
        },
        async () => {
          const res = await get(`${url}/readyz`, token, ca);
          return res.status === 200 && res.body.trim() === 'ok';
        },
        opts.timeoutMs ?? 60_000,
      ),
    );
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: lumen-check',
      '    cluster:',
      `      server: ${url}`,
      `      certificate-authority-data: ${Buffer.from(ca).toString('base64')}`,
      'users:',
      '  - name: lumen-admin',
      '    user:',
      `      token: ${token}`,
      'contexts:',
      '  - name: lumen-check',
      '    context: { cluster: lumen-check, user: lumen-admin }',
      'current-context: lumen-check',
      '',
    ].join('\n');
    const kubeconfigFile = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigFile, kubeconfig, { mode: 0o600 });
    return { url, kubeconfig, kubeconfigFile, startupMs: performance.now() - started, close };
  } catch (err) {
    await close();
    throw err;
  }
}
