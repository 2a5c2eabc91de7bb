/**
 * A real registry on a free loopback port: Debian's Distribution `docker-registry` (v2.8) by default, or, with
 * `referrers: true`, go-containerregistry's registry (tools/referrers-registry, built into the tool cache) with the
 * OCI distribution spec 1.1 referrers API on, which no Distribution release serves.
 *
 * v2.8's quirks (docs/testing.md): no referrers API; OCI manifests are 404 unless the OCI media type is
 * in `Accept`; no single-POST upload; a manifest PUT is refused unless its blobs are in that repository.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';
import { instanceDir, type Restartable, removeInstanceDir, restartable, secret, startDaemon } from './daemon.ts';
import { HarnessError } from './errors.ts';
import { toolPath } from './tools.ts';

const registryBin = process.env.LUMEN_REGISTRY_BIN ?? '/usr/bin/docker-registry';

export interface StartRegistryOptions {
  /** Serve the referrers API (go-containerregistry's registry; no auth, manifests kept in memory). */
  referrers?: boolean;
  /** Require HTTP basic auth with these credentials (htpasswd, bcrypt). Default: no auth. */
  auth?: { username: string; password: string };
  /**
   * Require bearer tokens (Distribution's `auth.token`): clients are sent to `realm` for a JWT that
   * `issuer` signed with a key certified in the PEM file `rootCertBundle`. The token server is the test's.
   */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

export interface Registry {
  /** `127.0.0.1:PORT`, as used in image references. */
  readonly host: string;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** Where blobs and manifests are stored on disk. */
  readonly storageDir: string;
  /** The basic-auth credentials, when started with `auth`. */
  readonly auth: { username: string; password: string } | undefined;
  running(): boolean;
  /** Starts it again on the same port, with the same storage. */
  start(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a Distribution registry (plain HTTP, loopback only). Call `close()` in `after()`. */
export async function startRegistry(opts: StartRegistryOptions = {}): Promise<Registry> {
  if (opts.referrers) return startReferrersRegistry(opts);
  if (!existsSync(registryBin))
    throw new HarnessError('HARNESS_MISSING', `${registryBin} not found (apt-get install docker-registry)`);
  const dir = instanceDir('registry');
  const storageDir = join(dir, 'storage');
  const configFile = join(dir, 'config.yml');
  if (opts.auth) {
    // Distribution accepts only bcrypt entries in htpasswd.
    writeFileSync(join(dir, 'htpasswd'), `${opts.auth.username}:${bcrypt.hashSync(opts.auth.password, 8)}\n`);
  }
  const launch = (p: number) => {
    writeFileSync(
      configFile,
      stringify({
        version: 0.1,
        log: { level: 'warn', accesslog: { disabled: true } },
        storage: {
          filesystem: { rootdirectory: storageDir },
          delete: { enabled: true },
          cache: { blobdescriptor: 'inmemory' },
        },
        http: { addr: `127.0.0.1:${p}`, secret: secret(), headers: { 'X-Content-Type-Options': ['nosniff'] } },
        ...(opts.auth ? { auth: { htpasswd: { realm: 'lumen-test', path: join(dir, 'htpasswd') } } } : {}),
        ...(opts.token
          ? {
              auth: {
                token: {
                  realm: opts.token.realm,
                  service: opts.token.service,
                  issuer: opts.token.issuer,
                  rootcertbundle: opts.token.rootCertBundle,
                },
              },
            }
          : {}),
      }),
    );
    return startDaemon(
      { name: 'registry', bin: registryBin, args: ['serve', configFile], dir, logName: 'registry' },
      async () => {
        const res = await fetch(`http://127.0.0.1:${p}/v2/`);
        await res.arrayBuffer();
        return res.status === 200 || res.status === 401;
      },
    );
  };
  return handle(restartable(launch), dir, storageDir, opts.auth);
}

/** go-containerregistry's registry with the referrers API (see the module comment). */
async function startReferrersRegistry(opts: StartRegistryOptions): Promise<Registry> {
  if (opts.auth || opts.token)
    throw new HarnessError('HARNESS_USAGE', 'the referrers registry serves no authentication');
  const bin = toolPath('referrers-registry');
  const dir = instanceDir('registry');
  const storageDir = join(dir, 'storage');
  const launch = (p: number) =>
    startDaemon(
      { name: 'registry', bin, args: ['--address', `127.0.0.1:${p}`, '--disk', storageDir], dir, logName: 'registry' },
      async () => {
        const res = await fetch(`http://127.0.0.1:${p}/v2/`);
        await res.arrayBuffer();
        return res.status === 200;
      },
    );
  return handle(restartable(launch), dir, storageDir, undefined);
}

async function handle(server: Restartable, dir: string, storageDir: string, auth: Registry['auth']): Promise<Registry> {
  const registry: Registry = {
    get host() {
      return `127.0.0.1:${server.port}`;
    },
    get url() {
      return `http://127.0.0.1:${server.port}`;
    },
    get port() {
      return server.port;
    },
    storageDir,
    auth,
    running: server.running,
    start: server.start,
    stop: () => server.stop('SIGTERM'),
    async close() {
      await server.stop('SIGKILL');
      removeInstanceDir(dir);
    },
  };
  await registry.start();
  return registry;
}
