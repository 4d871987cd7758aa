-- One row that readiness rewrites after a write has failed (a full disk, say): only a write
-- that succeeds shows that writes work again. Its 256 KiB of headroom make the probe larger
-- than the writes it stands for (a group of scans, a document), so a disk with room for a
-- tiny probe but not for them is not called ready. Never read by anything else.
CREATE TABLE write_probe (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    written_at TEXT NOT NULL,
    headroom   BLOB
);
