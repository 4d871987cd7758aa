-- The audit log: one entry for every change to the records, numbered 0, 1, 2... in commit
-- order without gaps (appenders hold a transaction-level advisory lock). `entry` holds the
-- entry's exact bytes (canonical JSON, RFC 8785) and `leaf_hash` their RFC 6962 leaf hash,
-- SHA-256(0x00 || entry): the leaves of the Merkle tree that lets anyone holding an old
-- checkpoint detect a quiet edit. The other columns repeat what the bytes say, for
-- searching.
CREATE TABLE audit_entries (
    seq         BIGINT PRIMARY KEY CHECK (seq >= 0),
    at          TIMESTAMPTZ NOT NULL,
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    entry       BYTEA NOT NULL,
    leaf_hash   BYTEA NOT NULL CHECK (length(leaf_hash) = 32)
);
CREATE INDEX audit_entries_entity ON audit_entries (entity_type, entity_id, seq);

-- Entries are appended, never changed: the service has no statement that would, and this
-- refuses one made by mistake. (It stops no administrator; the Merkle tree shows one.)
CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are appended, never changed or removed';
END;
$$;
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();
