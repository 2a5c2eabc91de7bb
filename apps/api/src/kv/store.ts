/**
 * The few key-value operations lumen-api needs, implemented by Redis (standalone or Sentinel) and by an
 * in-process map for embedded mode. Kept to commands that need no Lua (EVAL), so both implementations are
 * trivially equivalent.
 */
export interface KeyValueStore {
  /** `redis`, `sentinel` or `memory`; reported by /health. */
  readonly kind: 'redis' | 'sentinel' | 'memory';
  /** `INCR key`: the incremented value. */
  incr(key: string): Promise<number>;
  /** `GET key`: the value, or null. */
  get(key: string): Promise<string | null>;
  /** `SET key value PX ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** `SET key value NX PX ttlMs`: true when the key was absent and is now set. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** `DEL key`: true when a key was removed. */
  del(key: string): Promise<boolean>;
  /** `PING` bounded by `timeoutMs`; throws when the store does not answer in time. */
  ping(timeoutMs: number): Promise<void>;
  /** Closes connections; pending commands are allowed to finish. */
  close(): Promise<void>;
}
