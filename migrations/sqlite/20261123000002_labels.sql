-- Label batches. A batch is a range of one key's label numbers, not rows per label: minting
-- a million labels writes one row here and moves one counter. Rows per label exist only for
-- exceptions (ranges activated with a lot, voided), in label_ranges.

ALTER TABLE lots ADD COLUMN recalled_at TEXT;
ALTER TABLE lots ADD COLUMN recall_reason TEXT;

-- The next unused label number of each signing key.
CREATE TABLE key_counters (
    kid         TEXT PRIMARY KEY,
    next_number INTEGER NOT NULL CHECK (next_number >= 0)
);

CREATE TABLE label_batches (
    id           INTEGER PRIMARY KEY,
    product_id   INTEGER NOT NULL REFERENCES products (id),
    -- The lot printed in the labels' URIs (GS1 form), when the batch was minted for one.
    lot_id       INTEGER REFERENCES lots (id),
    kid          TEXT NOT NULL,
    key_slot     INTEGER NOT NULL CHECK (key_slot BETWEEN 0 AND 31),
    first_number INTEGER NOT NULL CHECK (first_number >= 0),
    count        INTEGER NOT NULL CHECK (count > 0),
    profile      TEXT NOT NULL CHECK (profile IN ('compact', 'offline')),
    -- The state of every label not covered by a later range: minted or activated.
    state        TEXT NOT NULL CHECK (state IN ('minted', 'activated')),
    created_at   TEXT NOT NULL,
    UNIQUE (kid, first_number)
);

-- Exceptions to a batch's state, for labels [first_index, end_index). The newest range
-- covering a label wins.
CREATE TABLE label_ranges (
    id          INTEGER PRIMARY KEY,
    batch_id    INTEGER NOT NULL REFERENCES label_batches (id),
    first_index INTEGER NOT NULL CHECK (first_index >= 0),
    end_index   INTEGER NOT NULL CHECK (end_index > first_index),
    state       TEXT NOT NULL CHECK (state IN ('activated', 'void')),
    lot_id      INTEGER REFERENCES lots (id),
    created_at  TEXT NOT NULL
);
CREATE INDEX label_ranges_batch ON label_ranges (batch_id, id);
