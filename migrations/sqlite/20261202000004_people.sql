-- People who sign in, their roles, their sessions, the links that invite them or reset their
-- password, and the API tokens they make. Secrets are kept only as hashes: passwords as
-- argon2id PHC strings, session ids, invitation links and API tokens as SHA-256 (they are
-- long random values, so a fast hash does not weaken them).

CREATE TABLE people (
    id            INTEGER PRIMARY KEY,
    -- An e-mail address in lower case, or +84 and a phone number's digits.
    login         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT,
    status        TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- A role in an organization; the operator role (the province's IT team) has none.
CREATE TABLE memberships (
    person_id       INTEGER NOT NULL REFERENCES people (id),
    organization_id INTEGER REFERENCES organizations (id),
    role            TEXT NOT NULL
        CHECK (role IN ('owner', 'editor', 'printer', 'viewer', 'inspector', 'operator')),
    created_at      TEXT NOT NULL,
    CHECK ((role = 'operator') = (organization_id IS NULL))
);
CREATE UNIQUE INDEX memberships_one ON memberships (person_id, COALESCE(organization_id, 0));
CREATE INDEX memberships_organization ON memberships (organization_id);

CREATE TABLE sessions (
    id_hash      BLOB PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES people (id),
    -- Sent with every form and checked on every unsafe request.
    csrf_token   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at     TEXT
);
CREATE INDEX sessions_person ON sessions (person_id);

-- A one-time link: an invitation to a role, or a password reset.
CREATE TABLE access_links (
    token_hash      BLOB PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('invitation', 'reset')),
    -- An invitation names the role and organization; a reset, the person.
    organization_id INTEGER REFERENCES organizations (id),
    role            TEXT,
    person_id       INTEGER REFERENCES people (id),
    made_by         INTEGER REFERENCES people (id),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_at         TEXT,
    revoked_at      TEXT
);

CREATE TABLE api_tokens (
    id              INTEGER PRIMARY KEY,
    token_hash      BLOB NOT NULL UNIQUE,
    -- The first characters, shown in lists so a person can tell their tokens apart.
    prefix          TEXT NOT NULL,
    person_id       INTEGER NOT NULL REFERENCES people (id),
    -- The organization the token acts for, with `role` (at most its maker's); none for an
    -- operator's token.
    organization_id INTEGER REFERENCES organizations (id),
    role            TEXT NOT NULL
        CHECK (role IN ('owner', 'editor', 'printer', 'viewer', 'inspector', 'operator')),
    name            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    last_used_at    TEXT,
    revoked_at      TEXT,
    CHECK ((role = 'operator') = (organization_id IS NULL))
);
CREATE INDEX api_tokens_person ON api_tokens (person_id);
