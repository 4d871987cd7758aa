"""The floor under what an audit entry adds to a registry write on SQLite.

The same commit as `cargo bench --bench audit` times (a lot row in its own transaction,
WAL, synchronous=FULL, on a file), made through Python's sqlite3 module, which adds almost
nothing of its own, with and without a second row in another table (the entry's). Whatever
the second row holds, it is another page written and synced at each commit: what is printed
here is the least an entry committed with its change can add on this machine's disk.
"""

import hashlib
import os
import sqlite3
import statistics
import sys
import tempfile
import time

WRITES = 3000


def commit_times(entity_index: bool, entry_bytes: int) -> tuple[float, float]:
    folder = tempfile.mkdtemp()
    db = sqlite3.connect(os.path.join(folder, "floor.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE lots (id INTEGER PRIMARY KEY, product_id INTEGER, code TEXT,"
        " produced_on TEXT, search_text TEXT, created_at TEXT, updated_at TEXT,"
        " UNIQUE (product_id, code))"
    )
    db.execute(
        "CREATE TABLE audit_entries (seq INTEGER PRIMARY KEY, at TEXT, action TEXT,"
        " entity_type TEXT, entity_id TEXT, entry BLOB, leaf_hash BLOB)"
    )
    if entity_index:
        db.execute("CREATE INDEX audit_entries_entity ON audit_entries (entity_type, entity_id, seq)")
    now = "2026-12-03T10:00:00+00:00"

    def write(code: str, with_entry: bool) -> float:
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "INSERT INTO lots (product_id, code, produced_on, search_text, created_at, updated_at)"
            " VALUES (1, ?, '2026-11-15', ?, ?, ?)",
            (code, "che bench " + code, now, now),
        )
        if with_entry:
            entry = os.urandom(entry_bytes)
            db.execute(
                "INSERT INTO audit_entries SELECT COALESCE(MAX(seq) + 1, 0), ?, 'lot.create',"
                " 'lot', ?, ?, ? FROM audit_entries",
                (now, code, entry, hashlib.sha256(b"\0" + entry).digest()),
            )
        db.execute("COMMIT")
        return time.perf_counter() - started

    without, with_ = [], []
    for i in range(WRITES):
        without.append(write(f"a{i}", False))
        with_.append(write(f"b{i}", True))
    return statistics.median(without) * 1000, statistics.median(with_) * 1000


def main() -> None:
    print(f"\nthe floor (Python sqlite3, medians of {WRITES} commits, {sys.version.split()[0]}):")
    for index in (True, False):
        for size in (460, 40):
            base, with_ = commit_times(index, size)
            label = f"{size}-byte entry, {'with' if index else 'without'} its entity index"
            print(f"  {label:40} {base:.3f} -> {with_:.3f} ms   +{(with_ - base) / base * 100:.1f} %")


main()
