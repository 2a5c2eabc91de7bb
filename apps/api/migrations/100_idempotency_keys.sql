-- Idempotency keys recorded in the same transaction as the write they protect (apps/api/src/idempotency/ledger.ts).
-- Redis replication is asynchronous: a failover can lose the Redis record, and this row is what then keeps a
-- retried request from writing twice. Rows older than IDEMPOTENCY_TTL_SECONDS are pruned by the API.
CREATE TABLE IF NOT EXISTS idempotency_keys (
  key         text        PRIMARY KEY CHECK (char_length(key) BETWEEN 1 AND 255),
  fingerprint text        NOT NULL,
  status_code smallint,
  headers     jsonb,
  body        text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);
