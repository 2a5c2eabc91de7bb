/**
 * Read routing: reads go to the replica while it is reachable and its lag is within the bound, otherwise to
 * the primary; if the preferred pool is unreachable the other one answers. A background probe (every
 * `intervalMs`) measures the lag, and a failed replica read marks the replica unusable at once, so a stopped
 * replica costs at most one failed attempt per request, never an error.
 *
 * Lag is LSN-based: the replica is caught up when it has replayed the primary's current WAL position; while
 * it is behind, lag is the age of the last replayed transaction (`pg_last_xact_replay_timestamp`). The
 * timestamp alone would be wrong on an idle primary, where it grows without the replica being behind.
 */
import type { Logger } from 'pino';
import { isUnavailableError } from '../errors.ts';
import { withTimeout } from '../timeout.ts';
import type { Database, Pool, Queryable } from './types.ts';

/** What the last probe found out about the read side. */
export interface ReplicaState {
  /** True when reads prefer the replica. */
  usable: boolean;
  /** `up`, `down` (unreachable) or `lagging` (behind by more than the bound). */
  status: 'up' | 'down' | 'lagging';
  /** Replication lag in ms; undefined when the primary cannot be asked or there is no replica. */
  lagMs: number | undefined;
  /** Round trip of the probe on the replica, ms. */
  latencyMs: number | undefined;
  /** The last error, for logs and /health. */
  error: string | undefined;
}

/** Routes reads; see the module comment. */
export interface ReadRouter {
  /** Runs `fn` on the preferred read pool, falling back to the other pool when the first is unreachable. */
  read<T>(fn: (q: Queryable) => Promise<T>): Promise<{ value: T; from: Pool['role'] }>;
  /** Probes the replica now (with `timeoutMs`) and returns the new state. */
  probe(): Promise<ReplicaState>;
  /** The state after the last probe or failed read. */
  readonly state: ReplicaState;
  /** Stops the background probe. */
  stop(): void;
}

/** Options for {@link createReadRouter}. */
export interface ReadRouterOptions {
  /** Probe period in ms (default 1000). */
  intervalMs?: number;
  /** Timeout of one probe in ms (default 1000). */
  timeoutMs?: number;
}

const LAG_SQL = `SELECT pg_is_in_recovery() AS in_recovery,
  CASE WHEN NOT pg_is_in_recovery() THEN true
       WHEN $1::pg_lsn IS NULL THEN NULL
       ELSE pg_last_wal_replay_lsn() >= $1::pg_lsn END AS caught_up,
  EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp())) * 1000 AS since_replay_ms`;

/** Creates the router for `db` and starts its background probe (unless there is no replica). */
export function createReadRouter(db: Database, logger: Logger, options: ReadRouterOptions = {}): ReadRouter {
  const intervalMs = options.intervalMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 1000;
  const { primary, replica } = db;
  let state: ReplicaState = {
    usable: replica !== undefined,
    status: 'up',
    lagMs: 0,
    latencyMs: undefined,
    error: undefined,
  };

  const setState = (next: ReplicaState): void => {
    if (next.status !== state.status) {
      const log = next.status === 'up' ? logger.info.bind(logger) : logger.warn.bind(logger);
      log({ replica: next.status, lag_ms: next.lagMs, error: next.error }, `read replica is ${next.status}`);
    }
    state = next;
  };

  const probe = async (): Promise<ReplicaState> => {
    if (replica === undefined) return state;
    const started = performance.now();
    try {
      const primaryLsn = await withTimeout(
        primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'),
        timeoutMs,
      ).then(
        (r) => r.rows[0]?.lsn ?? null,
        () => null, // primary unreachable: the replica is all there is, lag unknown
      );
      const replicaStarted = performance.now();
      const { rows } = await withTimeout(
        replica.query<{ in_recovery: boolean; caught_up: boolean | null; since_replay_ms: number | string | null }>(
          LAG_SQL,
          [primaryLsn],
        ),
        timeoutMs,
      );
      const latencyMs = round(performance.now() - replicaStarted);
      const row = rows[0];
      let lagMs: number | undefined;
      if (row?.caught_up === true) lagMs = 0;
      else if (row?.caught_up === false)
        lagMs = Math.max(0, round(Number(row.since_replay_ms ?? Number.POSITIVE_INFINITY)));
      const lagging = lagMs !== undefined && lagMs > db.maxReplicaLagMs;
      setState({ usable: !lagging, status: lagging ? 'lagging' : 'up', lagMs, latencyMs, error: undefined });
    } catch (error) {
      setState({
        usable: false,
        status: 'down',
        lagMs: undefined,
        latencyMs: round(performance.now() - started),
        error: (error as Error).message,
      });
    }
    return state;
  };

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  if (replica !== undefined) {
    const tick = (): void => {
      if (stopped) return;
      timer = setTimeout(() => void probe().finally(tick), intervalMs);
      timer.unref();
    };
    void probe().finally(tick);
  }

  return {
    get state() {
      return state;
    },
    probe,
    async read<T>(fn: (q: Queryable) => Promise<T>): Promise<{ value: T; from: Pool['role'] }> {
      const order: Pool[] = replica === undefined ? [primary] : state.usable ? [replica, primary] : [primary, replica];
      for (let i = 0; ; i++) {
        const pool = order[i] as Pool;
        try {
          return { value: await fn(pool), from: pool.role };
        } catch (error) {
          if (i === order.length - 1 || !isUnavailableError(error)) throw error;
          if (pool === replica) {
            setState({ ...state, usable: false, status: 'down', error: (error as Error).message });
          }
        }
      }
    },
    stop(): void {
      // A probe in flight re-arms the timer in its finally; `stopped` makes that a no-op.
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
