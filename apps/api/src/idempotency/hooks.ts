/**
 * The hooks idempotency adds to each POST/DELETE route, and the wrapper of its handler: they take the key, answer
 * duplicates (409, 422, replay) and store the answer, as docs/idempotency.md (Policy) specifies.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, RouteHandlerMethod } from 'fastify';
import {
  idempotencyInFlight,
  idempotencyKeyInvalid,
  idempotencyKeyReused,
  idempotencyUnavailable,
  sendProblem,
} from '../errors.ts';
import { ledgerAnswer, ledgerContext } from './context.ts';
import type { BoundedStore } from './deadline.ts';
import { bodyHash, fingerprint } from './hash.ts';
import { requestState, STATE, type WithState } from './state.ts';
import { type DoneRecord, type PendingRecord, parseRecord, REPLAYED_HEADERS, type StoredResponse } from './store.ts';
import type { OutcomeCounter } from './types.ts';

/** The plugin's options with their defaults applied (plugin.ts). */
export interface HookSettings {
  store: BoundedStore;
  outcomes: OutcomeCounter | undefined;
  ttlSeconds: number;
  /** `Retry-After` of a 409 and of a 503, as sent. */
  conflictRetryAfter: string;
  unavailableRetryAfter: string;
}

/** Statuses whose answers are not replayed: failures a retry may fix, and validation failures. */
const NOT_STORED = new Set([400, 408, 409, 413, 415, 422, 429]);
const KEY = /^[\x21-\x7e]{1,255}$/;

/** The route hooks and handler wrapper of one plugin instance. */
export function idempotencyHooks(settings: HookSettings) {
  const { store, outcomes, ttlSeconds, conflictRetryAfter, unavailableRetryAfter } = settings;
  const ttlMs = ttlSeconds * 1000;

  // Callback style (also onResponse): these run on every POST/DELETE, keyed or not, and an async hook costs a
  // promise and a microtask more. A hook that answers itself does not call `done` (Fastify's contract).
  const onRequest: onRequestHookHandler = (request, reply, done) => {
    const header = request.headers['idempotency-key'];
    if (header === undefined) return done();
    const key = Array.isArray(header) ? header.join(', ') : header;
    if (!KEY.test(key)) {
      (request as WithState)[STATE] = requestState('', 'invalid');
      sendProblem(reply, idempotencyKeyInvalid());
      return;
    }
    const s = requestState(key, undefined);
    s.hash = bodyHash();
    (request as WithState)[STATE] = s;
    done();
  };

  const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const s = (request as WithState)[STATE];
    if (s?.hash === undefined) return;
    s.fingerprint = fingerprint(request, s.hash);
    s.hash = undefined;
    const pending: PendingRecord = { v: 1, state: 'pending', fingerprint: s.fingerprint, token: randomUUID() };
    const lock = JSON.stringify(pending);

    let previous: string | null;
    try {
      previous = await store.acquire(s.storeKey, lock);
    } catch (error) {
      request.log.warn({ err: error }, 'idempotency store unreachable: refusing the keyed request');
      s.outcome = 'unavailable';
      return sendProblem(reply, idempotencyUnavailable(unavailableRetryAfter));
    }
    const record = previous === null ? undefined : parseRecord(previous);
    if (previous === null || (record === undefined && (await store.replaceUnreadable(s.storeKey, previous, lock)))) {
      s.lock = lock;
      s.stopRenewing = store.keepAlive(request, s.storeKey, lock, () => s.lock === lock);
      request.idempotency = ledgerContext(s, ttlSeconds);
      return;
    }
    if (record === undefined || record.fingerprint !== s.fingerprint) {
      s.outcome = 'mismatch';
      return sendProblem(reply, idempotencyKeyReused());
    }
    if (record.state === 'pending') {
      s.outcome = 'conflict';
      return sendProblem(reply, idempotencyInFlight(conflictRetryAfter));
    }
    s.outcome = 'replayed';
    return replay(reply, record.response);
  };

  const onSend = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const s = (request as WithState)[STATE];
    const lock = s?.lock;
    if (s === undefined || lock === undefined) return payload;
    s.lock = undefined;
    s.stopRenewing?.();
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
      await store.release(request, s.storeKey, lock);
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
    const stored = await store.replace(request, s.storeKey, lock, JSON.stringify(done), ttlMs);
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
      s.stopRenewing?.();
      s.outcome ??= 'released';
      void store.release(request, s.storeKey, lock);
    }
    if (s.outcome !== undefined) outcomes?.inc({ outcome: s.outcome });
    done();
  };

  /** Wraps a route's handler so that a {@link LedgerAnswer} thrown through its transaction is answered here. */
  function answerLedger(handler: RouteHandlerMethod): RouteHandlerMethod {
    return function idempotentHandler(this: FastifyInstance, request, reply) {
      const answer = (error: unknown) => {
        const signal = ledgerAnswer(error);
        if (signal === undefined) throw error;
        const s = (request as WithState)[STATE];
        if (signal.answer.kind === 'mismatch') {
          if (s) s.outcome = 'mismatch';
          return sendProblem(reply, idempotencyKeyReused());
        }
        if (signal.answer.kind === 'in_flight') {
          if (s) s.outcome = 'conflict';
          return sendProblem(reply, idempotencyInFlight(conflictRetryAfter));
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

  return { onRequest, preHandler, onSend, onResponse, answerLedger };
}

function replay(reply: FastifyReply, response: StoredResponse): FastifyReply {
  reply.code(response.statusCode);
  for (const [name, value] of Object.entries(response.headers)) reply.header(name, value);
  reply.header('idempotency-replayed', 'true');
  return reply.send(response.encoding === 'base64' ? Buffer.from(response.body, 'base64') : response.body);
}
