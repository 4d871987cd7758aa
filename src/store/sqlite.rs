//! The embedded home: one SQLite file in WAL mode with `synchronous=FULL`, so that an
//! acknowledged change survives a power cut.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

type Db = sqlx::Sqlite;
type ThisStore = SqliteStore;
const BACKEND: &str = "sqlite";
/// Takes the write lock at once: a deferred transaction that reads first may find, when it
/// comes to write, that another process wrote meanwhile, and fail without waiting.
const BEGIN: &str = "BEGIN IMMEDIATE";
/// A scan's day in Vietnam (UTC+7, no daylight saving), as YYYY-MM-DD.
const SCAN_DAY: &str = "date(s.scanned_at, '+7 hours')";
/// Appends an audit entry in one statement, numbered next after the last: SQLite has one
/// writer at a time, so appenders take turns already.
const AUDIT_APPEND: &str = "INSERT INTO audit_entries \
    (seq, at, action, entity_type, entity_id, entry, leaf_hash) \
    SELECT COALESCE(MAX(seq) + 1, 0), $1, $2, $3, $4, $5, $6 FROM audit_entries RETURNING seq";
/// The first number of `$1` entries appended together.
const AUDIT_RESERVE: &str = "SELECT COALESCE(MAX(seq) + 1, 0) + 0 * $1 FROM audit_entries";
/// Readiness's write after a failed one: 256 KiB, more than a group of scans or a document
/// takes, so that a disk with room for a few bytes only is not called ready.
const PROBE_WRITE: &str = "INSERT INTO write_probe (id, written_at, headroom) \
    VALUES (1, $1, zeroblob(262144)) ON CONFLICT (id) DO UPDATE \
    SET written_at = excluded.written_at, headroom = excluded.headroom";
static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// The store on SQLite.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
    batches: std::sync::Arc<super::BatchCache>,
    changes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    writers: std::sync::Arc<super::Writers>,
    health: std::sync::Arc<super::WriteHealth>,
}

impl SqliteStore {
    /// Opens (and creates when missing) the database file named by a `sqlite:` URL.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // A file does not drop a connection as a network does: no ping before each use.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Ok(SqliteStore {
            pool,
            batches: Default::default(),
            changes: Default::default(),
            writers: std::sync::Arc::new(super::Writers::one_at_a_time()),
            health: Default::default(),
        })
    }
}

include!("sql/common.rs");
include!("sql/registry.rs");
include!("sql/finding.rs");
include!("sql/labels.rs");
include!("sql/jobs.rs");
include!("sql/support.rs");
include!("sql/writes.rs");
include!("sql/people.rs");
include!("sql/events.rs");
