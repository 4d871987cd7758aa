-- One row that readiness rewrites after a write has failed (a lost connection, a full
-- disk): only a write that succeeds shows that writes work again. Never read by anything
-- else. (`headroom` is used on SQLite, where the probe must be as large as a real write.)
CREATE TABLE write_probe (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    written_at TIMESTAMPTZ NOT NULL,
    headroom   BYTEA
);
