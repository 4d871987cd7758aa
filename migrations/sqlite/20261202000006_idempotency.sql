-- Idempotency keys of label orders (`POST /api/v1/batches` with an `Idempotency-Key`): the
-- same key from the same actor with the same request gives the same batch, however often
-- and however concurrently it is sent. The key is claimed in the minting transaction, so a
-- refused or failed order leaves no claim behind.
CREATE TABLE idempotency_keys (
    -- Whose key: "token:ID", "person:ID" or "cli:USER".
    scope          TEXT NOT NULL,
    key            TEXT NOT NULL,
    -- SHA-256 of the request as understood (not its bytes: spacing does not matter).
    request_sha256 BLOB NOT NULL,
    batch_id       INTEGER REFERENCES label_batches (id),
    created_at     TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
