-- The next audit entry's number, in one row. Appending an entry moves it on in the same
-- statement that inserts the entry (one round trip); the row's lock, held until commit,
-- makes appenders take turns, so entries are numbered in commit order without gaps.
CREATE TABLE audit_head (
    one  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    next BIGINT NOT NULL CHECK (next >= 0)
);
INSERT INTO audit_head (next) SELECT COALESCE(MAX(seq) + 1, 0) FROM audit_entries;
