/** The process lifecycle state the routes read: whether the instance is draining for shutdown. */
export interface Lifecycle {
  /** Set by the shutdown sequence; `/readyz` answers 503 and responses ask clients to close connections. */
  draining: boolean;
}

/** A lifecycle in the running state. */
export function createLifecycle(): Lifecycle {
  return { draining: false };
}
