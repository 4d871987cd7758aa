-- The audit log's Merkle tree: the hash of every complete subtree, numbered as Go's
-- sumdb/tlog numbers its "stored hashes" (about two a leaf). Roots, proofs and tiles are
-- read off them; they are derived from the entries' leaf hashes and can be made again.
CREATE TABLE audit_tree_hashes (
    idx  BIGINT PRIMARY KEY CHECK (idx >= 0),
    hash BYTEA NOT NULL CHECK (length(hash) = 32)
);

-- Every signed checkpoint, all kept: an inspector who saved one last month can ask for a
-- consistency proof from it to today's.
CREATE TABLE audit_checkpoints (
    size    BIGINT PRIMARY KEY CHECK (size >= 0),
    root    BYTEA NOT NULL CHECK (length(root) = 32),
    note    TEXT NOT NULL,
    made_at TIMESTAMPTZ NOT NULL
);
