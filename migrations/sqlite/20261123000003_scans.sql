-- Scans of labels whose proof holds (a forged code writes nothing), and problems reported
-- by shoppers.

CREATE TABLE scans (
    id          INTEGER PRIMARY KEY,
    batch_id    INTEGER NOT NULL REFERENCES label_batches (id),
    label_index INTEGER NOT NULL CHECK (label_index >= 0),
    verdict     TEXT NOT NULL,
    -- Coarse facts only: the kind of client (android, ios, desktop, bot, other) and the
    -- in-app browser, never an address or a full user agent.
    client      TEXT NOT NULL,
    scanned_at  TEXT NOT NULL
);
CREATE INDEX scans_label ON scans (batch_id, label_index);

CREATE TABLE problem_reports (
    id          INTEGER PRIMARY KEY,
    batch_id    INTEGER REFERENCES label_batches (id),
    label_index INTEGER,
    product_id  INTEGER REFERENCES products (id),
    message     TEXT NOT NULL CHECK (length(message) BETWEEN 1 AND 2000),
    contact     TEXT,
    created_at  TEXT NOT NULL
);

-- Per-label scan counts, kept with each scan in the same transaction, so that a label's
-- page reads one row however often it has been scanned.
CREATE TABLE label_scan_counts (
    batch_id    INTEGER NOT NULL REFERENCES label_batches (id),
    label_index INTEGER NOT NULL,
    count       INTEGER NOT NULL CHECK (count > 0),
    first_at    TEXT NOT NULL,
    last_at     TEXT NOT NULL,
    PRIMARY KEY (batch_id, label_index)
);
