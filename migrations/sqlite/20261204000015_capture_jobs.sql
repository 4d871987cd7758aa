-- EPCIS capture jobs: a document above the synchronous limit, kept here once accepted (so a
-- stop loses nothing acknowledged) until a worker captures its events, all or none, and
-- notes the outcome in the same transaction.
CREATE TABLE capture_jobs (
    id              INTEGER PRIMARY KEY,
    -- The organization its events are captured for; none for an operator.
    organization_id INTEGER REFERENCES organizations (id),
    -- Who sent it, as its events' audit entries name them (JSON), and the request's id.
    actor           TEXT NOT NULL,
    request_id      TEXT,
    -- The document as received; emptied once the job ends.
    document        BLOB,
    events          INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    captured        INTEGER NOT NULL DEFAULT 0,
    -- Why it failed (a problem JSON: title, detail, the field as a JSON pointer).
    error           TEXT,
    created_at      TEXT NOT NULL,
    finished_at     TEXT
);
CREATE INDEX capture_jobs_state ON capture_jobs (state, id);
