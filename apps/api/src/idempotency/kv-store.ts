/**
 * {@link IdempotencyStore} on lumen-api's {@link KeyValueStore} (Redis standalone/Sentinel, or the in-process
 * map of embedded mode), with the Lua-free commands it offers: `SET NX PX`, `GET`, `SET PX`, `DEL`.
 *
 * Without scripts, `replace` and `release` are not atomic compare-and-set: a request that outlived its lock
 * (`lockTtlMs`) could overwrite or delete the record of the request after it. That only costs a duplicate
 * execution attempt, and a duplicate write is still impossible: the PostgreSQL record decides (ledger.ts).
 */
import type { KeyValueStore } from '../kv/store.ts';
import type { IdempotencyStore } from './store.ts';

/** Builds the idempotency store on the key-value store lumen-api already uses. */
export function kvIdempotencyStore(kv: Pick<KeyValueStore, 'setIfAbsent' | 'get' | 'set' | 'del'>): IdempotencyStore {
  return {
    async acquire(key, value, ttlMs) {
      // Two attempts: the holder may release or expire between our SET NX and our GET.
      for (let attempt = 0; attempt < 2; attempt++) {
        if (await kv.setIfAbsent(key, value, ttlMs)) return null;
        const existing = await kv.get(key);
        if (existing !== null) return existing;
      }
      return kv.setIfAbsent(key, value, ttlMs).then((set) => {
        if (!set) throw new Error('idempotency key changes hands too fast to read');
        return null;
      });
    },
    async replace(key, expected, next, ttlMs) {
      // One round trip on the hot path; see the module comment for why no compare is needed.
      void expected;
      await kv.set(key, next, ttlMs);
      return true;
    },
    async release(key, expected) {
      if ((await kv.get(key)) === expected) await kv.del(key);
    },
    async renew(key, expected, ttlMs, held) {
      // `held()` is asked after the GET, right before the SET is sent: a request that has just stored its answer
      // (sent after the GET, on the same connection) stops holding first, so the SET never overwrites that answer.
      if ((await kv.get(key)) !== expected || !held()) return false;
      await kv.set(key, expected, ttlMs);
      return true;
    },
  };
}
