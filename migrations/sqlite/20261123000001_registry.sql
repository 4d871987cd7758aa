-- The registry: organizations, products, evidence documents, certifications and lots.
-- search_text holds the folded (lower case, no diacritics) words a search matches.

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('cooperative', 'enterprise', 'household',
                                              'department', 'ocop_council', 'certification_body')),
    name        TEXT NOT NULL CHECK (name <> ''),
    province    TEXT NOT NULL,
    address     TEXT,
    phone       TEXT,
    email       TEXT,
    search_text TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE products (
    id                INTEGER PRIMARY KEY,
    producer_id       INTEGER NOT NULL REFERENCES organizations (id),
    name              TEXT NOT NULL CHECK (name <> ''),
    category          TEXT NOT NULL,
    unit              TEXT NOT NULL,
    description       TEXT,
    photo_url         TEXT,
    gtin              TEXT UNIQUE CHECK (length(gtin) = 14),
    growing_area_code TEXT,
    search_text       TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX products_producer ON products (producer_id);

-- Evidence is addressed by its SHA-256, so that a certificate names exactly what was shown.
CREATE TABLE documents (
    sha256     TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    media_type TEXT NOT NULL,
    file_name  TEXT,
    size_bytes INTEGER NOT NULL,
    content    BLOB NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE certifications (
    id                INTEGER PRIMARY KEY,
    holder_id         INTEGER NOT NULL REFERENCES organizations (id),
    product_id        INTEGER REFERENCES products (id),
    issuer_id         INTEGER NOT NULL REFERENCES organizations (id),
    kind              TEXT NOT NULL,
    ocop_stars        INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
    number            TEXT NOT NULL,
    scope             TEXT,
    issued_on         TEXT NOT NULL,
    valid_until       TEXT NOT NULL CHECK (valid_until > issued_on),
    evidence_sha256   TEXT REFERENCES documents (sha256),
    status            TEXT NOT NULL CHECK (status IN ('submitted', 'verified', 'rejected', 'revoked')),
    status_changed_by TEXT,
    status_changed_at TEXT,
    search_text       TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (issuer_id, number)
);
CREATE INDEX certifications_product ON certifications (product_id);
CREATE INDEX certifications_holder ON certifications (holder_id);
CREATE INDEX certifications_valid_until ON certifications (valid_until);

CREATE TABLE lots (
    id           INTEGER PRIMARY KEY,
    product_id   INTEGER NOT NULL REFERENCES products (id),
    code         TEXT NOT NULL CHECK (length(code) BETWEEN 1 AND 20),
    produced_on  TEXT NOT NULL,
    expires_on   TEXT CHECK (expires_on IS NULL OR expires_on >= produced_on),
    quantity     REAL CHECK (quantity IS NULL OR quantity >= 0),
    growing_area TEXT,
    commune      TEXT,
    province     TEXT,
    search_text  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (product_id, code)
);
