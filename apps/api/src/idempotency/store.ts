/**
 * Where idempotency records live between requests (Redis, or an in-process map in embedded mode), and
 * the record format. The store only needs three atomic operations; everything that decides something
 * lives in `hooks.ts`.
 */

/** The response headers a replay repeats (lower-case names). */
export const REPLAYED_HEADERS = ['content-type', 'location'] as const;

/** The response stored for replay: exactly what docs/idempotency.md says is replayed. */
export interface StoredResponse {
  statusCode: number;
  /** Only `content-type` and `location` are kept (lower-case names). */
  headers: Record<string, string>;
  /** The response body as sent (a UTF-8 string; binary bodies are base64 with `encoding: 'base64'`). */
  body: string;
  encoding?: 'base64';
}

/** A request holds the key and has not finished yet. `token` tells one holder from another. */
export interface PendingRecord {
  v: 1;
  state: 'pending';
  fingerprint: string;
  token: string;
}

/** The request finished with a storable status: replay it. */
export interface DoneRecord {
  v: 1;
  state: 'done';
  fingerprint: string;
  response: StoredResponse;
}

export type IdempotencyRecord = PendingRecord | DoneRecord;

/**
 * The three atomic operations idempotency needs from a key-value store. Values are opaque strings
 * (JSON of an {@link IdempotencyRecord}); comparisons are on the exact string, so no JSON parsing
 * happens inside the store (no Lua cjson, no read-modify-write race).
 */
export interface IdempotencyStore {
  /**
   * If `key` is absent, stores `value` for `ttlMs` and resolves `null` (the caller now holds the key);
   * otherwise resolves the value already there and changes nothing. Redis: `SET key value NX PX ttl GET`.
   */
  acquire(key: string, value: string, ttlMs: number): Promise<string | null>;
  /** Replaces the value with `next` (for `ttlMs`) only if it still equals `expected`; resolves whether it did. */
  replace(key: string, expected: string, next: string, ttlMs: number): Promise<boolean>;
  /** Deletes the key only if its value still equals `expected`. */
  release(key: string, expected: string): Promise<void>;
  /**
   * Extends the key's TTL to `ttlMs` only if its value still equals `expected` and `held()` still says so when the
   * extension is sent; resolves whether it did. Keeps a running request's lock alive (a lease).
   */
  renew(key: string, expected: string, ttlMs: number, held: () => boolean): Promise<boolean>;
}

/** Redis key of an idempotency key (namespaced so it never collides with application keys). */
export function storeKey(idempotencyKey: string): string {
  return `idem:${idempotencyKey}`;
}

/** Parses a stored value; anything unreadable counts as absent rather than failing the request. */
export function parseRecord(value: string): IdempotencyRecord | undefined {
  try {
    const record = JSON.parse(value) as IdempotencyRecord;
    if (record?.v !== 1 || typeof record.fingerprint !== 'string') return undefined;
    if (record.state === 'pending' || (record.state === 'done' && typeof record.response?.statusCode === 'number')) {
      return record;
    }
  } catch {}
  return undefined;
}
