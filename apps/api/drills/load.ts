/**
 * The steady load of a drill: an open loop of client operations at a fixed rate (so latency injected on a
 * dependency shows as latency, not as a lower request rate), mixed as an operator's traffic is:
 *
 * - `hello`: GET /hello (one Redis INCR);
 * - `list`:  GET /items?limit=5 (one query on the replica);
 * - `write`: keyed POST /items — a client with its own Idempotency-Key that retries with the same key and body on
 *   503, 409 `idempotency_in_flight`, or a network error, every `retryMs`, until the answer or its deadline.
 *
 * A kept-alive connection can be closed by the server at the very moment the client sends on it (HTTP/1.1 has no way
 * to tell the client first; RFC 9112 §9.3.1). Like Go's transport (Traefik in front of the pods), curl and browsers,
 * the clients then send a replayable request (a GET, or one with an Idempotency-Key) once more, at once, on another
 * connection. Only that: a connection reset, a refused connection or a timeout is not replayed, nor is a fuzz request
 * (the fuzz drill judges dropped connections itself). The attempt records that it was replayed, so a drill can bound
 * how often it happens.
 *
 * Every attempt is one recorded request. What a drill judges comes from these records and from the database.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** One HTTP attempt as the client saw it. */
export interface Attempt {
  kind: Kind;
  /** ms since the epoch, when the attempt was sent and when it settled. */
  start: number;
  end: number;
  /** HTTP status, or 0 for a network error or timeout. */
  status: number;
  /** The problem `code` of an error answer, or the network error's code. */
  code?: string;
  /** Its connection was closed with no answer and it was sent once more (see the top of this file). */
  replayed?: boolean;
}

/** The operations of the steady load, and `fuzz` for the fuzz drill's requests. */
export type Kind = 'hello' | 'list' | 'write' | 'fuzz';

/** One keyed write as its client saw it. */
export interface KeyedWrite {
  key: string;
  /** The name sent: the key, so the database tells whether it was stored once, twice or never. */
  name: string;
  start: number;
  /** When the answer (2xx) arrived; undefined when the client gave up at its deadline or got a final 4xx. */
  acknowledgedAt?: number;
  /** The id of the stored item, from the answer. */
  id?: number;
  /** When it was last refused (503, 409 in flight, network error). */
  lastRefusedAt?: number;
  /** Its first refusal. */
  firstRefusedAt?: number;
  /** A final answer that is neither 2xx nor retried (a 4xx other than 409 in flight). */
  finalStatus?: number;
}

export interface LoadOptions {
  /** The API (the balancer in front of the instances). */
  url: string;
  /** Client operations per second. Default 120. */
  rate?: number;
  /** Shares of hello, list and write operations. Default 3:3:4. */
  mix?: Record<LoadKind, number>;
  /** Wait between two attempts of a keyed write, ms. Default 100. */
  retryMs?: number;
  /** How long a keyed write's client keeps trying, ms. Default 15000. */
  deadlineMs?: number;
  /** Timeout of one attempt, ms. Default 3000. */
  attemptTimeoutMs?: number;
  /** Prefix of the keys (and names), so each drill's rows are its own. */
  prefix?: string;
}

/** The kinds the steady load mixes. */
export type LoadKind = Exclude<Kind, 'fuzz'>;

export interface Load {
  readonly attempts: Attempt[];
  readonly writes: KeyedWrite[];
  /** One recorded attempt outside the steady mix (the fuzz drill's requests); resolves with it and the body. */
  send(kind: Kind, path: string, init?: RequestInit): Promise<{ attempt: Attempt; text: string }>;
  /** One recorded keyed write with this key, retried as the load's writes are (the duplicate storm's clients). */
  write(key: string): Promise<KeyedWrite>;
  /** Stops starting operations and resolves once every started one has settled (bounded by its deadline). */
  stop(): Promise<void>;
}

/** Starts the load; call `stop()`. */
export function startLoad(options: LoadOptions): Load {
  const rate = options.rate ?? 120;
  const mix = options.mix ?? { hello: 3, list: 3, write: 4 };
  const retryMs = options.retryMs ?? 100;
  const deadlineMs = options.deadlineMs ?? 15_000;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 3000;
  const prefix = options.prefix ?? `drill-${randomUUID().slice(0, 8)}`;
  const attempts: Attempt[] = [];
  const writes: KeyedWrite[] = [];
  const running = new Set<Promise<void>>();
  const pick = interleaved(mix);

  const send = async (kind: Kind, path: string, init?: RequestInit) => {
    const attempt: Attempt = { kind, start: Date.now(), end: 0, status: 0 };
    attempts.push(attempt);
    const text = await sendAttempt(attempt, `${options.url}${path}`, init, attemptTimeoutMs);
    return { attempt, text };
  };

  const write = async (key: string): Promise<KeyedWrite> => {
    const record: KeyedWrite = { key, name: key, start: Date.now() };
    writes.push(record);
    const body = JSON.stringify({ name: key });
    const headers = { 'content-type': 'application/json', 'idempotency-key': key };
    while (Date.now() < record.start + deadlineMs) {
      const { attempt, text } = await send('write', '/items', { method: 'POST', headers, body });
      if (attempt.status >= 200 && attempt.status < 300) {
        record.acknowledgedAt = attempt.end;
        record.id = Number(JSON.parse(text).id);
        return record;
      }
      const retried = attempt.status === 0 || attempt.status >= 500 || attempt.code === 'idempotency_in_flight';
      if (!retried) {
        record.finalStatus = attempt.status;
        return record;
      }
      record.firstRefusedAt ??= attempt.end;
      record.lastRefusedAt = attempt.end;
      await sleep(retryMs);
    }
    return record;
  };

  let stopped = false;
  const loop = (async () => {
    const began = Date.now();
    for (let n = 0; !stopped; n++) {
      const due = began + (n * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      if (stopped) break;
      const kind = pick();
      const op =
        kind === 'write'
          ? write(`${prefix}-${n}`).then(() => undefined)
          : send(kind, kind === 'hello' ? '/hello' : '/items?limit=5').then(() => undefined);
      running.add(op);
      void op.finally(() => running.delete(op));
    }
  })();

  return {
    attempts,
    writes,
    send,
    write,
    async stop() {
      stopped = true;
      await loop;
      await Promise.all(running);
    },
  };
}

/**
 * The kinds in the shares of `mix`, spread evenly (smooth weighted round robin, as nginx picks upstreams): 3:3:4 gives
 * write, hello, list, write, … rather than bursts of one kind.
 */
function interleaved(mix: Record<LoadKind, number>): () => LoadKind {
  const kinds = (Object.keys(mix) as LoadKind[]).filter((k) => mix[k] > 0);
  const total = kinds.reduce((sum, k) => sum + mix[k], 0);
  const current = new Map(kinds.map((k) => [k, 0]));
  return () => {
    let best = kinds[0] as LoadKind;
    for (const k of kinds) {
      current.set(k, (current.get(k) ?? 0) + mix[k]);
      if ((current.get(k) ?? 0) > (current.get(best) ?? 0)) best = k;
    }
    current.set(best, (current.get(best) ?? 0) - total);
    return best;
  };
}

/**
 * Sends one request and records its outcome in `attempt` (status, problem or network code, end, replayed); resolves
 * with the answer's body, '' when there was none.
 */
export async function sendAttempt(
  attempt: Attempt,
  url: string,
  init: RequestInit | undefined,
  timeoutMs: number,
): Promise<string> {
  const signal = AbortSignal.timeout(timeoutMs);
  const request = () => fetch(url, { ...init, signal });
  try {
    const response = await request().catch((error: unknown) => {
      if (attempt.kind === 'fuzz' || !replayable(init) || networkCode(error) !== CLOSED_WITHOUT_ANSWER) throw error;
      attempt.replayed = true;
      return request();
    });
    const text = await response.text();
    attempt.status = response.status;
    if (response.status >= 400) attempt.code = problemCode(text);
    return text;
  } catch (error) {
    attempt.code = networkCode(error);
    return '';
  } finally {
    attempt.end = Date.now();
  }
}

/** undici's code for a connection the server closed while a request on it had no answer yet ("other side closed"). */
const CLOSED_WITHOUT_ANSWER = 'UND_ERR_SOCKET';

/** A request a client may send again by itself (RFC 9110 §9.2.2, and Go's `isReplayable`): GET, or keyed. */
function replayable(init: RequestInit | undefined): boolean {
  const method = (init?.method ?? 'GET').toUpperCase();
  return method === 'GET' || new Headers(init?.headers).has('idempotency-key');
}

/** The `code` of a problem+json body, if it is one. */
export function problemCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { code?: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** A short code for a failed fetch: the cause's errno code, or the error's name (TimeoutError). */
export function networkCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error as Error).name ?? 'network';
}
