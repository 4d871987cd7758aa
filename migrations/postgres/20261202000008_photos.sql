-- Product photos: the file as sent is a document (stored once, by its SHA-256); its two
-- sizes, made once when it was sent, are documents too.
CREATE TABLE photos (
    sha256       TEXT PRIMARY KEY REFERENCES documents (sha256),
    small_sha256 TEXT NOT NULL REFERENCES documents (sha256),
    large_sha256 TEXT NOT NULL REFERENCES documents (sha256),
    created_at   TIMESTAMPTZ NOT NULL
);
