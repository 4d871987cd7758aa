-- Print runs too large to render while a browser waits (a million labels is about a minute
-- and 340 MB of PDF): queued here, rendered by a worker in the server process, the file kept
-- under the data folder until it expires. A run interrupted by a restart is queued again.
CREATE TABLE print_jobs (
    id           INTEGER PRIMARY KEY,
    batch_id     INTEGER NOT NULL REFERENCES label_batches (id),
    -- Who asked (as the audit entry of the order records them) and, for a person, who may
    -- find it in their list.
    requested_by TEXT NOT NULL,
    person_id    INTEGER REFERENCES people (id),
    -- What to print: format, layout, dpi, range, calibration, text (JSON).
    spec         TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'expired')),
    total_labels INTEGER NOT NULL,
    done_labels  INTEGER NOT NULL DEFAULT 0,
    file_name    TEXT,
    file_bytes   INTEGER,
    error        TEXT,
    created_at   TEXT NOT NULL,
    started_at   TEXT,
    finished_at  TEXT,
    expires_at   TEXT
);
CREATE INDEX print_jobs_state ON print_jobs (state, id);
