/** The in-process {@link KeyValueStore} of embedded mode: a Map with lazy expiry. Not shared between processes. */
import type { KeyValueStore } from './store.ts';

/** Creates an empty in-memory store. */
export function createMemoryStore(now: () => number = Date.now): KeyValueStore {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const live = (key: string) => {
    const entry = entries.get(key);
    if (entry !== undefined && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  return {
    kind: 'memory',
    async incr(key) {
      const entry = live(key);
      const current = entry === undefined ? 0 : Number(entry.value);
      if (!Number.isSafeInteger(current)) throw new Error('ERR value is not an integer or out of range');
      entries.set(key, { value: String(current + 1), expiresAt: entry?.expiresAt ?? Number.POSITIVE_INFINITY });
      return current + 1;
    },
    async get(key) {
      return live(key)?.value ?? null;
    },
    async set(key, value, ttlMs) {
      entries.set(key, { value, expiresAt: now() + ttlMs });
    },
    async setIfAbsent(key, value, ttlMs) {
      if (live(key) !== undefined) return false;
      entries.set(key, { value, expiresAt: now() + ttlMs });
      return true;
    },
    async del(key) {
      return live(key) !== undefined && entries.delete(key);
    },
    async ping() {},
    async close() {
      entries.clear();
    },
  };
}
