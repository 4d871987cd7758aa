-- Recalls with what GS1's Product Recall standard records, and the lots each covers. A
-- lot's recalled_at and recall_reason say whether an open recall covers it now; the
-- recall rows keep the history once it is closed.
CREATE TABLE recalls (
    id          INTEGER PRIMARY KEY,
    reason_code TEXT NOT NULL,
    reason      TEXT NOT NULL,
    risk_class  INTEGER NOT NULL CHECK (risk_class BETWEEN 1 AND 3),
    contact     TEXT NOT NULL,
    opened_at   TEXT NOT NULL,
    closed_at   TEXT,
    close_note  TEXT
);
CREATE TABLE recall_lots (
    recall_id INTEGER NOT NULL REFERENCES recalls (id),
    lot_id    INTEGER NOT NULL REFERENCES lots (id),
    PRIMARY KEY (recall_id, lot_id)
);
CREATE INDEX recall_lots_lot ON recall_lots (lot_id);
