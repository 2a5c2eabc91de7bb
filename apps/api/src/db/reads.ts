/**
 * Read routing: reads go to the replica while it is reachable and its lag is within the bound, otherwise to
 * the primary; if the preferred pool is unreachable the other one answers. A background probe (every
 * `intervalMs`) measures the lag, and a failed replica read marks the replica unusable at once, so a stopped
 * replica costs at most one failed attempt per request, never an error.
 *
 * Lag is LSN-based. Each probe samples the primary's current WAL position with the time; the replica is
 * caught up when it has replayed the position sampled in the same probe, and otherwise lags by the age of the
 * newest sample it has already replayed (an upper bound, with the probe period as resolution). Unlike
 * `now() - pg_last_xact_replay_timestamp()`, this does not report an idle primary's replica as lagging.
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

const REPLICA_SQL = 'SELECT pg_is_in_recovery() AS in_recovery, pg_last_wal_replay_lsn()::text AS replay_lsn';

/** Primary WAL positions kept for lag estimates: one per probe, so 120 s at the default period. */
const HISTORY = 120;

/** `X/Y` (pg_lsn text) → a comparable integer. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

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

  const samples: { at: number; lsn: bigint }[] = [];

  const probe = async (): Promise<ReplicaState> => {
    if (replica === undefined) return state;
    const started = performance.now();
    try {
      const sample = await withTimeout(
        primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'),
        timeoutMs,
      ).then(
        (r) => ({ at: Date.now(), lsn: parseLsn(r.rows[0]?.lsn ?? '0/0') }),
        () => undefined, // primary unreachable: the replica is all there is, lag unknown
      );
      if (sample !== undefined) {
        samples.push(sample);
        if (samples.length > HISTORY) samples.shift();
      }
      const replicaStarted = performance.now();
      const { rows } = await withTimeout(
        replica.query<{ in_recovery: boolean; replay_lsn: string | null }>(REPLICA_SQL),
        timeoutMs,
      );
      const latencyMs = round(performance.now() - replicaStarted);
      const row = rows[0];
      let lagMs: number | undefined;
      if (row?.in_recovery === false) {
        lagMs = 0; // promoted: it is a primary now
      } else if (sample !== undefined) {
        const replayed = row?.replay_lsn ? parseLsn(row.replay_lsn) : -1n;
        if (replayed >= sample.lsn) {
          lagMs = 0;
        } else {
          const newestReplayed = samples.findLast((s) => s.lsn <= replayed);
          lagMs = Date.now() - (newestReplayed?.at ?? (samples[0] as { at: number }).at);
        }
      }
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
          const schemaBehind = pool === replica && isSchemaBehind(error);
          if (i === order.length - 1 || !(isUnavailableError(error) || schemaBehind)) throw error;
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

/**
 * A replica that has not yet replayed a migration lacks the new table or column (SQLSTATE 42P01/42703);
 * the primary has it, so such a read is retried there.
 */
function isSchemaBehind(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === '42P01' || code === '42703';
}
