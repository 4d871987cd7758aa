-- The audit log: one entry for every change to the records, numbered 0, 1, 2... in commit
-- order without gaps. `entry` holds the entry's exact bytes (canonical JSON, RFC 8785) and
-- `leaf_hash` their RFC 6962 leaf hash, SHA-256(0x00 || entry): the leaves of the Merkle
-- tree that lets anyone holding an old checkpoint detect a quiet edit. The other columns
-- repeat what the bytes say, for searching.
CREATE TABLE audit_entries (
    seq         INTEGER PRIMARY KEY CHECK (seq >= 0),
    at          TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    entry       BLOB NOT NULL,
    leaf_hash   BLOB NOT NULL CHECK (length(leaf_hash) = 32)
);
CREATE INDEX audit_entries_entity ON audit_entries (entity_type, entity_id, seq);

-- Entries are appended, never changed: the service has no statement that would, and these
-- refuse one made by mistake. (They stop no administrator; the Merkle tree shows one.)
CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are never changed'); END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are never removed'); END;
