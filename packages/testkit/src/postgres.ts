/**
 * PostgreSQL primary + streaming replica from the Debian binaries, on free loopback ports.
 *
 * How long its steps take here is in docs/testing.md.
 * Authentication is scram-sha-256 over TCP with passwords generated per cluster; the application role
 * `lumen` owns the database `lumen`.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { instanceDir, removeInstanceDir, restartable, secret, startDaemon, waitFor } from './daemon.ts';
import { HarnessError } from './errors.ts';

/** The newest PostgreSQL the distribution installed (Debian 12: 15, Ubuntu 24.04: 16), or LUMEN_PG_BIN. */
const binDir = process.env.LUMEN_PG_BIN ?? newestPostgresBin();

function newestPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return join(root, versions[0] ?? '15', 'bin');
}

export interface StartPostgresOptions {
  /** Also start a streaming replica of the primary. Default false. */
  replica?: boolean;
  /** Extra `postgresql.conf` settings for both servers, e.g. `{ max_connections: '200' }`. */
  settings?: Record<string, string>;
}

/** One PostgreSQL server of the cluster. */
export interface PgNode {
  readonly role: 'primary' | 'replica';
  readonly host: string;
  readonly port: number;
  /** Connection string of the application role (`lumen`) to the database `lumen`. */
  readonly dsn: string;
  /** Connection string of the superuser `postgres`, for test set-up and inspection. */
  readonly superuserDsn: string;
  readonly dataDir: string;
  /** PID of the running postmaster; undefined while it is not running. */
  readonly pid: number | undefined;
  running(): boolean;
  /**
   * SIGSTOP to the postmaster and every backend: open connections stay open and no query is answered, new
   * connections are accepted by the kernel and get no answer either (a hung server, unlike `stop()`).
   */
  freeze(): void;
  /** SIGCONT after {@link freeze}; does nothing once the server has exited. */
  thaw(): void;
  /** Starts the server again after stop()/kill() (crash recovery after kill). */
  start(): Promise<void>;
  /** Fast shutdown (SIGINT): disconnects clients, checkpoints, exits. */
  stop(): Promise<void>;
  /** Immediate shutdown (SIGQUIT), as a crash: no checkpoint, recovery on next start. */
  kill(): Promise<void>;
}

export interface PgReplica extends PgNode {
  /** Promotes the replica to a primary (`pg_promote()`), waiting until it accepts writes. */
  promote(): Promise<void>;
  /** Waits until the replica has replayed everything the primary had written when called. */
  caughtUp(timeoutMs?: number): Promise<void>;
}

export interface PgCluster {
  readonly primary: PgNode;
  readonly replica: PgReplica | undefined;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /** Stops every server and removes the data. */
  close(): Promise<void>;
}

/** Starts a PostgreSQL primary (and, with `replica: true`, a streaming replica). Call `close()` in `after()`. */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PgCluster> {
  for (const tool of ['initdb', 'postgres', 'pg_basebackup']) {
    if (!existsSync(join(binDir, tool))) {
      throw new HarnessError(
        'HARNESS_MISSING',
        `PostgreSQL binary ${join(binDir, tool)} not found (apt-get install postgresql)`,
      );
    }
  }
  const dir = instanceDir('pg');
  const owner = serverOwner();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const superPassword = secret();
  const password = secret();
  const database = 'lumen';
  const user = 'lumen';

  const primaryData = join(dir, 'primary');
  const pwFile = join(dir, 'superuser.pw');
  writeFileSync(pwFile, `${superPassword}\n`, { mode: 0o600 });
  if (owner) chownSync(pwFile, owner.uid, owner.gid);
  runAsOwner(owner, join(binDir, 'initdb'), [
    '-D',
    primaryData,
    '-U',
    'postgres',
    '--pwfile',
    pwFile,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '--no-sync',
    '-E',
    'UTF8',
    '--locale=C',
  ]);
  writeFileSync(
    join(primaryData, 'pg_hba.conf'),
    [
      'local all all trust',
      'host all all 127.0.0.1/32 scram-sha-256',
      'host replication all 127.0.0.1/32 scram-sha-256',
      '',
    ].join('\n'),
  );
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    wal_level: 'replica',
    max_wal_senders: '10',
    hot_standby: 'on',
    hot_standby_feedback: 'on',
    // Test data is disposable: durability costs time and buys nothing here.
    fsync: 'off',
    full_page_writes: 'off',
    max_connections: '200',
    ...opts.settings,
  };
  writeFileSync(
    join(primaryData, 'postgresql.conf'),
    `${Object.entries(settings)
      .map(([k, v]) => `${k} = '${v.replaceAll("'", "''")}'`)
      .join('\n')}\n`,
    { flag: 'a' },
  );

  const primary = await node('primary', primaryData, dir, owner, superPassword, user, password, database);
  await primary.start();
  await withClient(primary.superuserDsn, async (c) => {
    await c.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
    await c.query(`CREATE DATABASE ${database} OWNER ${user}`);
    // The application reads replication lag; let it without superuser.
    await c.query(`GRANT pg_monitor TO ${user}`);
  });

  let replica: PgReplica | undefined;
  if (opts.replica) {
    const replicaData = join(dir, 'replica');
    runAsOwner(
      owner,
      join(binDir, 'pg_basebackup'),
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(primary.port),
        '-U',
        'postgres',
        '-D',
        replicaData,
        '-R',
        '-X',
        'stream',
        '-c',
        'fast',
      ],
      { ...process.env, PGPASSWORD: superPassword },
    );
    const base = await node('replica', replicaData, dir, owner, superPassword, user, password, database);
    await base.start();
    // Assigned onto the node, not spread from it: `port`, `pid` and the DSNs are getters that change on restart.
    replica = Object.assign(base, {
      async promote() {
        await withClient(base.superuserDsn, (c) => c.query('SELECT pg_promote(true, 30)'));
        await waitFor('promoted replica to accept writes', async () =>
          withClient(base.superuserDsn, async (c) => !(await c.query('SELECT pg_is_in_recovery() AS r')).rows[0].r),
        );
      },
      async caughtUp(timeoutMs = 10_000) {
        const lsn = await withClient(
          primary.superuserDsn,
          async (c) => (await c.query('SELECT pg_current_wal_lsn() AS l')).rows[0].l,
        );
        await waitFor(
          `replica to replay ${lsn}`,
          () =>
            withClient(base.superuserDsn, async (c) => {
              const r = await c.query('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [lsn]);
              return r.rows[0].ok === true;
            }),
          timeoutMs,
        );
      },
    });
  }

  return {
    primary,
    replica,
    database,
    user,
    password,
    async close() {
      await Promise.all([replica?.stop(), primary.stop()]);
      removeInstanceDir(dir);
    },
  };
}

/** Runs `fn` with a short-lived client; connection errors propagate. */
export async function withClient<T>(dsn: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: dsn, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

type Owner = { uid: number; gid: number } | undefined;

/** PostgreSQL refuses to run as root: as root, servers run as the `postgres` system user. */
function serverOwner(): Owner {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new HarnessError(
      'HARNESS_MISSING',
      'running as root needs the postgres system user (apt-get install postgresql)',
    );
  }
}

function runAsOwner(owner: Owner, bin: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  try {
    execFileSync(bin, args, { stdio: 'pipe', env, ...(owner ? { uid: owner.uid, gid: owner.gid } : {}), cwd: '/' });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new HarnessError('HARNESS_SPAWN', `${bin} failed: ${e.stderr?.toString().trim() || e.message}`);
  }
}

async function node(
  role: 'primary' | 'replica',
  dataDir: string,
  dir: string,
  owner: Owner,
  superPassword: string,
  user: string,
  password: string,
  database: string,
): Promise<PgNode> {
  const runDir = join(dir, `${role}-run`);
  mkdirSync(runDir, { recursive: true });
  chmodSync(dataDir, 0o700);
  if (owner) chownSync(runDir, owner.uid, owner.gid);
  // Restarts keep the port: clients (and the app under test) reconnect to the same address.
  const server = restartable((p) =>
    startDaemon(
      {
        name: `postgres ${role}`,
        bin: join(binDir, 'postgres'),
        // The port is given on the command line so a copied replica config never clashes with the primary's.
        args: ['-D', dataDir, '-p', String(p), '-c', `unix_socket_directories=${runDir}`],
        dir,
        logName: role,
        ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
        cwd: '/',
      },
      () => accepting(p, superPassword),
    ),
  );
  const self: PgNode = {
    role,
    host: '127.0.0.1',
    get port() {
      return server.port;
    },
    get dsn() {
      return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${server.port}/${database}`;
    },
    get superuserDsn() {
      return `postgres://postgres:${encodeURIComponent(superPassword)}@127.0.0.1:${server.port}/postgres`;
    },
    dataDir,
    get pid() {
      return server.pid;
    },
    running: server.running,
    freeze: server.freeze,
    thaw: server.thaw,
    start: server.start,
    // Fast shutdown (SIGINT) and immediate shutdown (SIGQUIT, crash-like) as PostgreSQL defines them.
    stop: () => server.stop('SIGINT', 30_000),
    kill: () => server.stop('SIGQUIT', 10_000),
  };
  return self;
}

async function accepting(port: number, superPassword: string): Promise<boolean> {
  const dsn = `postgres://postgres:${encodeURIComponent(superPassword)}@127.0.0.1:${port}/postgres`;
  return withClient(dsn, async (c) => {
    await c.query('SELECT 1');
    return true;
  });
}
