/**
 * `Idempotency-Key` for every POST and DELETE route, as docs/idempotency.md (Policy) specifies:
 *
 * - key: 1–255 visible ASCII characters, else 400 (checked before the body is read);
 * - fingerprint: method + request target (path and query) + SHA-256 of the raw body bytes; the same key
 *   with another fingerprint → 422, also when the key was first used on another route;
 * - the first request takes a short lock in the store (`SET NX PX`); a duplicate while it runs → 409 with
 *   `Retry-After`; once it finished → the stored status, body, `Content-Type` and `Location` are replayed
 *   with `Idempotency-Replayed: true`;
 * - 5xx and validation failures (400, 408, 409, 413, 415, 422, 429) are never stored: the lock is released
 *   and a retry executes again;
 * - store unreachable → 503 with `Retry-After` (fail closed: never a silent second execution);
 * - writes record the key, fingerprint and answer in PostgreSQL in their own transaction
 *   (`request.idempotency.begin(tx)` / `.finish(tx, response)`), so a retry whose Redis record was lost
 *   (asynchronous replication, failover) replays the PostgreSQL record instead of writing again.
 *
 * Unkeyed requests only pay for a header lookup: no store call, no body hashing.
 */
import { createHash, type Hash, randomUUID } from 'node:crypto';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  RouteHandlerMethod,
  RouteOptions,
} from 'fastify';
import type { Queryable } from '../db/types.ts';
import { Problem } from '../schemas.ts';
import { withTimeout } from '../timeout.ts';
import { claim, complete, prune, record } from './ledger.ts';
import {
  type DoneRecord,
  type IdempotencyStore,
  type PendingRecord,
  parseRecord,
  type StoredResponse,
  storeKey,
} from './store.ts';

/** What happened to one keyed request; the label of `lumen_idempotency_total{outcome}`. */
export type IdempotencyOutcome =
  /** Executed and its answer stored for replay. */
  | 'stored'
  /** Answered from the Redis (or in-process) record. */
  | 'replayed'
  /** Answered from the PostgreSQL record because the Redis record was missing (lost in a failover, or expired lock). */
  | 'recovered'
  /** 409: the first request with this key is still running. */
  | 'conflict'
  /** 422: the key was used with another method, target or body. */
  | 'mismatch'
  /** 400: the key is not 1–255 visible ASCII characters. */
  | 'invalid'
  /** 503: the store could not be reached; nothing executed. */
  | 'unavailable'
  /** Executed with a status that is never stored (5xx, validation failure); the lock was released. */
  | 'released'
  /** Executed, but the answer could not be written to the store (the PostgreSQL record still guards writes). */
  | 'store_failed';

/** Counts outcomes; a prom-client `Counter<'outcome'>` fits. */
export interface OutcomeCounter {
  inc(labels: { outcome: IdempotencyOutcome }): void;
}

/** Options of {@link idempotencyPlugin}. */
export interface IdempotencyOptions {
  /** Where records live (Redis in production, in-process in embedded mode). */
  store: IdempotencyStore;
  /** How long a finished answer is replayed: Redis PX and PostgreSQL row age. Default 86400 (24 h). */
  ttlSeconds?: number;
  /**
   * How long a running request holds its key. A crashed process leaves its lock behind this long (duplicates get
   * 409 meanwhile); it must exceed the longest request (statement timeout 5 s, connect timeout 2 s). Default 30000.
   */
  lockTtlMs?: number;
  /** Longest wait for one store call before answering 503. Default 1000 (REDIS_TIMEOUT_MS). */
  storeTimeoutMs?: number;
  /** `Retry-After` of a 409 (first request still running). Default 1. */
  conflictRetryAfterSeconds?: number;
  /** `Retry-After` of a 503 (store unreachable; a Sentinel failover takes 2-3 s). Default 2. */
  unavailableRetryAfterSeconds?: number;
  /** Counts every keyed request's outcome. */
  outcomes?: OutcomeCounter;
  /** The read-write pool: expired PostgreSQL records are deleted through it at start and every `pruneIntervalMs`. */
  ledger?: Queryable;
  /** Default 600000 (10 min). */
  pruneIntervalMs?: number;
}

/** The answer a write route will send, as recorded in PostgreSQL by {@link IdempotencyContext.finish}. */
export interface RouteResponse {
  statusCode: number;
  /** `location` (and `content-type`, default `application/json; charset=utf-8` when there is a body) are kept. */
  headers?: Record<string, string | number | undefined>;
  /** Serialized with `JSON.stringify`; omit for 204. */
  body?: unknown;
  /**
   * The body exactly as the route sends it (already serialized, e.g. JSON built by PostgreSQL); takes precedence over
   * `body`. Default: none.
   */
  payload?: string;
}

/**
 * `request.idempotency`: set on a keyed POST/DELETE request that holds its key, `null` otherwise.
 * A write route calls `finish` last inside its transaction:
 *
 * ```ts
 * const item = await withTransaction(async (tx) => {
 *   const item = await insertItem(tx, name);
 *   await request.idempotency?.finish(tx, { statusCode: 201, headers: { location: `/items/${item.id}` }, body: item });
 *   return item;
 * });
 * ```
 * `finish` throws (rolling the transaction back, write included) when PostgreSQL already has this key; the plugin
 * then answers with the recorded response (or 422) itself. A write whose repetition would answer differently
 * (a DELETE would find nothing and say 404) also calls `begin` first, which checks the key before the write.
 */
export interface IdempotencyContext {
  readonly key: string;
  readonly fingerprint: string;
  begin(tx: Queryable): Promise<void>;
  finish(tx: Queryable, response: RouteResponse): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: IdempotencyContext | null;
  }
}

/** Statuses whose answers are not replayed: failures a retry may fix, and validation failures. */
const NOT_STORED = new Set([400, 408, 409, 413, 415, 422, 429]);
const KEY = /^[\x21-\x7e]{1,255}$/;
const REPLAYED_HEADERS = ['content-type', 'location'] as const;
const STATE = Symbol('lumen.idempotency');

interface RequestState {
  key: string;
  storeKey: string;
  hash: Hash | undefined;
  fingerprint: string;
  /** Our lock's exact value while we hold it; undefined when not (or no longer) held. */
  lock: string | undefined;
  /** Set when the answer is a replay from PostgreSQL: store it in Redis again, count it as recovered. */
  recovered: boolean;
  outcome: IdempotencyOutcome | undefined;
}

type WithState = FastifyRequest & { [STATE]?: RequestState };

/** A signal thrown by `begin` through the route's transaction; the handler wrapper answers it. */
class LedgerAnswer extends Error {
  readonly answer: { kind: 'replay'; response: StoredResponse } | { kind: 'mismatch' } | { kind: 'in_flight' };
  constructor(answer: LedgerAnswer['answer']) {
    super(`idempotency key already recorded in PostgreSQL (${answer.kind})`);
    this.name = 'LedgerAnswer';
    this.answer = answer;
  }
}

/** The Fastify plugin. Register it BEFORE the routes: it attaches to POST/DELETE routes as they are added. */
export async function idempotencyPlugin(app: FastifyInstance, options: IdempotencyOptions): Promise<void> {
  const ttlSeconds = options.ttlSeconds ?? 86_400;
  const ttlMs = ttlSeconds * 1000;
  const lockTtlMs = options.lockTtlMs ?? 30_000;
  const timeoutMs = options.storeTimeoutMs ?? 1000;
  const conflictRetryAfter = String(options.conflictRetryAfterSeconds ?? 1);
  const unavailableRetryAfter = String(options.unavailableRetryAfterSeconds ?? 2);
  const { store, outcomes, ledger } = options;

  app.decorateRequest('idempotency', null);

  if (ledger !== undefined) {
    let timer: NodeJS.Timeout | undefined;
    const run = () => {
      prune(ledger, ttlSeconds).then(
        (n) => n > 0 && app.log.info({ deleted: n }, 'pruned expired idempotency records'),
        (error: unknown) => app.log.warn({ err: error }, 'pruning idempotency records failed; retrying later'),
      );
    };
    app.addHook('onReady', async () => {
      run();
      timer = setInterval(run, options.pruneIntervalMs ?? 600_000);
      timer.unref();
    });
    app.addHook('onClose', async () => clearInterval(timer));
  }

  // Callback style (also onResponse): these run on every POST/DELETE, keyed or not, and an async hook costs a
  // promise and a microtask more. A hook that answers itself does not call `done` (Fastify's contract).
  const onRequest: onRequestHookHandler = (request, reply, done) => {
    const header = request.headers['idempotency-key'];
    if (header === undefined) return done();
    const key = Array.isArray(header) ? header.join(', ') : header;
    if (!KEY.test(key)) {
      (request as WithState)[STATE] = state('', 'invalid');
      sendProblem(
        reply,
        400,
        'idempotency_key_invalid',
        'The Idempotency-Key header must be 1-255 visible ASCII characters',
      );
      return;
    }
    const s = state(key, undefined);
    s.hash = createHash('sha256');
    (request as WithState)[STATE] = s;
    done();
  };

  // The fingerprint is of the body as sent, not as parsed: the JSON parser (the only body parser lumen-api has; any
  // other content type is answered 415 before the fingerprint is used) hashes the raw bytes, then parses them
  // exactly as Fastify's own parser does. Measured against a Transform stream teed in preParsing: one stream, pipe
  // and their listeners less per keyed request (docs/telemetry.md#benchmark).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    (request as WithState)[STATE]?.hash?.update(body as Buffer);
    parseJson(request, (body as Buffer).toString(), done);
  });

  const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const s = (request as WithState)[STATE];
    if (s?.hash === undefined) return;
    s.fingerprint = `${request.method} ${request.url} ${s.hash.digest('hex')}`;
    s.hash = undefined;
    const pending: PendingRecord = { v: 1, state: 'pending', fingerprint: s.fingerprint, token: randomUUID() };
    const lock = JSON.stringify(pending);

    let previous: string | null;
    try {
      previous = await acquire(s.storeKey, lock);
    } catch (error) {
      request.log.warn({ err: error }, 'idempotency store unreachable: refusing the keyed request');
      s.outcome = 'unavailable';
      return sendProblem(
        reply,
        503,
        'idempotency_unavailable',
        'The idempotency store is unavailable; nothing was executed, retry with the same key',
        { 'retry-after': unavailableRetryAfter },
      );
    }
    const record = previous === null ? undefined : parseRecord(previous);
    if (previous === null || (record === undefined && (await replaceUnreadable(s.storeKey, previous, lock)))) {
      s.lock = lock;
      request.idempotency = context(s);
      return;
    }
    if (record === undefined || record.fingerprint !== s.fingerprint) {
      s.outcome = 'mismatch';
      return mismatch(reply);
    }
    if (record.state === 'pending') {
      s.outcome = 'conflict';
      return sendProblem(
        reply,
        409,
        'idempotency_in_flight',
        'A request with this Idempotency-Key is still being processed',
        { 'retry-after': conflictRetryAfter },
      );
    }
    s.outcome = 'replayed';
    return replay(reply, record.response);
  };

  const onSend = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const s = (request as WithState)[STATE];
    const lock = s?.lock;
    if (s === undefined || lock === undefined) return payload;
    s.lock = undefined;
    const status = reply.statusCode;
    const body =
      typeof payload === 'string'
        ? { body: payload }
        : payload instanceof Buffer
          ? { body: payload.toString('base64'), encoding: 'base64' as const }
          : payload === null || payload === undefined
            ? { body: '' }
            : undefined;
    if (status >= 500 || NOT_STORED.has(status) || body === undefined) {
      s.outcome ??= 'released';
      await guarded(request, store.release(s.storeKey, lock), timeoutMs, 'releasing an idempotency key');
      return payload;
    }
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const value = reply.getHeader(name);
      if (value !== undefined) headers[name] = String(value);
    }
    const done: DoneRecord = {
      v: 1,
      state: 'done',
      fingerprint: s.fingerprint,
      response: { statusCode: status, headers, ...body },
    };
    const stored = await guarded(
      request,
      store.replace(s.storeKey, lock, JSON.stringify(done), ttlMs),
      timeoutMs,
      'storing an idempotency answer',
    );
    s.outcome ??= s.recovered ? 'recovered' : stored === true ? 'stored' : 'store_failed';
    return payload;
  };

  const onResponse = (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    const s = (request as WithState)[STATE];
    if (s === undefined) return done();
    // A response that never passed onSend (aborted connection) must not keep its key locked until the TTL.
    if (s.lock !== undefined) {
      const lock = s.lock;
      s.lock = undefined;
      s.outcome ??= 'released';
      void guarded(request, store.release(s.storeKey, lock), timeoutMs, 'releasing an idempotency key');
    }
    if (s.outcome !== undefined) outcomes?.inc({ outcome: s.outcome });
    done();
  };

  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((m) => m === 'POST' || m === 'DELETE')) return;
    route.onRequest = [...hooks(route.onRequest), onRequest];
    route.preHandler = [...hooks(route.preHandler), preHandler];
    route.onSend = [...hooks(route.onSend), onSend as never];
    route.onResponse = [...hooks(route.onResponse), onResponse];
    route.handler = answerLedger(route.handler);
    document(route, ttlSeconds);
  });

  /** `store.acquire` bounded by the timeout; a lock that lands after we gave up is released again. */
  async function acquire(key: string, lock: string): Promise<string | null> {
    const acquiring = store.acquire(key, lock, lockTtlMs);
    try {
      return await storeDeadline(acquiring, timeoutMs);
    } catch (error) {
      acquiring.then(
        (previous) => {
          if (previous === null) store.release(key, lock).catch(() => {});
        },
        () => {},
      );
      throw error;
    }
  }

  async function replaceUnreadable(key: string, previous: string, lock: string): Promise<boolean> {
    return storeDeadline(store.replace(key, previous, lock, lockTtlMs), timeoutMs).catch(() => false);
  }

  function context(s: RequestState): IdempotencyContext {
    let claimed = false;
    return {
      key: s.key,
      fingerprint: s.fingerprint,
      async begin(tx) {
        const result = await claim(tx, s.key, s.fingerprint, ttlSeconds);
        if (result.kind !== 'claimed') throw new LedgerAnswer(result);
        claimed = true;
      },
      async finish(tx, response) {
        if (claimed) return complete(tx, s.key, routeResponse(response));
        const result = await record(tx, s.key, s.fingerprint, routeResponse(response), ttlSeconds);
        if (result.kind !== 'claimed') throw new LedgerAnswer(result);
      },
    };
  }

  function answerLedger(handler: RouteHandlerMethod): RouteHandlerMethod {
    return function idempotentHandler(this: FastifyInstance, request, reply) {
      const answer = (error: unknown) => {
        const signal = ledgerAnswer(error);
        if (signal === undefined) throw error;
        const s = (request as WithState)[STATE];
        if (signal.answer.kind === 'mismatch') {
          if (s) s.outcome = 'mismatch';
          return mismatch(reply);
        }
        if (signal.answer.kind === 'in_flight') {
          if (s) s.outcome = 'conflict';
          return sendProblem(
            reply,
            409,
            'idempotency_in_flight',
            'A request with this Idempotency-Key is still being processed',
            { 'retry-after': conflictRetryAfter },
          );
        }
        if (s) s.recovered = true;
        request.log.info('idempotency record missing in the store: replaying the PostgreSQL record');
        return replay(reply, signal.answer.response);
      };
      let result: unknown;
      try {
        result = handler.call(this, request, reply);
      } catch (error) {
        return answer(error);
      }
      if (result instanceof Promise) return result.catch(answer);
      return result;
    } as RouteHandlerMethod;
  }
}
// Not encapsulated (what fastify-plugin does): the onRoute hook must see routes registered in sibling plugins.
Object.assign(idempotencyPlugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'lumen-idempotency',
});

/** Adds the header parameter and the idempotency answers to the route's OpenAPI description. */
function document(route: RouteOptions, ttlSeconds: number): void {
  route.schema ??= {};
  const schema = route.schema as { headers?: { properties?: Record<string, unknown> }; response?: unknown };
  schema.headers ??= { type: 'object', properties: {} } as { properties: Record<string, unknown> };
  schema.headers.properties ??= {};
  schema.headers.properties['idempotency-key'] = {
    type: 'string',
    minLength: 1,
    maxLength: 255,
    pattern: '^[!-~]+$',
    description:
      `Optional. 1-255 visible ASCII characters (else 400). The first request with a key executes; a retry with the ` +
      `same key, method, target and body gets the stored status, body, Content-Type and Location with ` +
      `\`Idempotency-Replayed: true\` for ${ttlSeconds} s; 409 + Retry-After while the first still runs; 422 when ` +
      'the key was used for another request; 503 + Retry-After when the idempotency store is unreachable. ' +
      '5xx and 400/408/409/413/415/422/429 answers are not stored: retrying them executes again.',
  };
  schema.response ??= {};
  const response = schema.response as Record<string, unknown>;
  for (const status of [400, 409, 422, 503]) response[status] ??= Problem;
}

function state(key: string, outcome: IdempotencyOutcome | undefined): RequestState {
  return {
    key,
    storeKey: storeKey(key),
    hash: undefined,
    fingerprint: '',
    lock: undefined,
    recovered: false,
    outcome,
  };
}

function routeResponse(response: RouteResponse): StoredResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    const lower = name.toLowerCase();
    if (value !== undefined && (REPLAYED_HEADERS as readonly string[]).includes(lower)) headers[lower] = String(value);
  }
  if (response.payload === undefined && response.body === undefined) {
    return { statusCode: response.statusCode, headers, body: '' };
  }
  headers['content-type'] ??= 'application/json; charset=utf-8';
  return { statusCode: response.statusCode, headers, body: response.payload ?? JSON.stringify(response.body) };
}

function replay(reply: FastifyReply, response: StoredResponse): FastifyReply {
  reply.code(response.statusCode);
  for (const [name, value] of Object.entries(response.headers)) reply.header(name, value);
  reply.header('idempotency-replayed', 'true');
  return reply.send(response.encoding === 'base64' ? Buffer.from(response.body, 'base64') : response.body);
}

function mismatch(reply: FastifyReply): FastifyReply {
  return sendProblem(
    reply,
    422,
    'idempotency_key_reused',
    'This Idempotency-Key was used for a different request (method, target or body)',
  );
}

/** RFC 9457 body, same shape as every other lumen-api error (`src/errors.ts`). */
function sendProblem(
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  headers: Record<string, string> = {},
): FastifyReply {
  const title: Record<number, string> = {
    400: 'Invalid Idempotency-Key',
    409: 'Request in progress',
    422: 'Idempotency-Key reused',
    503: 'A dependency is unavailable; retry later',
  };
  return reply
    .code(status)
    .headers(headers)
    .type('application/problem+json')
    .send({
      type: `urn:lumen:problem:${code}`,
      title: title[status] ?? code,
      status,
      code,
      detail,
      instance: reply.request.url,
    });
}

function ledgerAnswer(error: unknown): LedgerAnswer | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof LedgerAnswer) return e;
  }
  return undefined;
}

function hooks<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** A store call bounded by the plugin's store timeout (`timeout.ts`). */
function storeDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return withTimeout(promise, ms, `idempotency store did not answer within ${ms} ms`);
}

async function guarded<T>(
  request: FastifyRequest,
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T | undefined> {
  try {
    return await storeDeadline(promise, ms);
  } catch (error) {
    request.log.warn({ err: error }, `${what} failed`);
    return undefined;
  }
}
