/**
 * `request.idempotency`: the PostgreSQL side of a keyed write, called by the route inside its own transaction
 * (ledger.ts). When PostgreSQL already has the key, `begin`/`finish` throw a {@link LedgerAnswer} through the route's
 * transaction (rolling its write back); the handler wrapper (hooks.ts) answers it.
 */
import { claim, complete, record } from './ledger.ts';
import type { RequestState } from './state.ts';
import { REPLAYED_HEADERS, type StoredResponse } from './store.ts';
import type { IdempotencyContext, RouteResponse } from './types.ts';

/** A signal thrown by `begin`/`finish` through the route's transaction; the handler wrapper answers it. */
export class LedgerAnswer extends Error {
  readonly answer: { kind: 'replay'; response: StoredResponse } | { kind: 'mismatch' } | { kind: 'in_flight' };
  constructor(answer: LedgerAnswer['answer']) {
    super(`idempotency key already recorded in PostgreSQL (${answer.kind})`);
    this.name = 'LedgerAnswer';
    this.answer = answer;
  }
}

/** The context of a request that holds its key. */
export function ledgerContext(s: RequestState, ttlSeconds: number): IdempotencyContext {
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

/** The {@link LedgerAnswer} in `error` or its causes (a transaction helper may wrap it), if any. */
export function ledgerAnswer(error: unknown): LedgerAnswer | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof LedgerAnswer) return e;
  }
  return undefined;
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
