//! The scale-out home: PostgreSQL behind any number of stateless truyxuat processes.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

type Db = sqlx::Postgres;
type ThisStore = PostgresStore;
const BACKEND: &str = "postgres";
const BEGIN: &str = "BEGIN";
/// A scan's day in Vietnam (UTC+7, no daylight saving), as YYYY-MM-DD.
const SCAN_DAY: &str = "to_char(s.scanned_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD')";
/// Appends an audit entry in one statement: the entry takes the next number from
/// `audit_head`, whose row lock (held until commit) makes appenders take turns, so entries
/// are numbered in commit order without gaps. (A lock, a `MAX(seq)` and an insert took
/// three round trips; `make bench` measures what an entry adds to a write.)
const AUDIT_APPEND: &str = "WITH head AS (UPDATE audit_head SET next = next + 1 \
    RETURNING next - 1 AS seq) \
    INSERT INTO audit_entries (seq, at, action, entity_type, entity_id, entry, leaf_hash) \
    SELECT seq, $1, $2, $3, $4, $5, $6 FROM head RETURNING seq";
/// Reserves `$1` numbers for entries appended together; the first of them.
const AUDIT_RESERVE: &str = "UPDATE audit_head SET next = next + $1 RETURNING next - $1";
/// Readiness's write after a failed one (the server keeps its own disk in check).
const PROBE_WRITE: &str = "INSERT INTO write_probe (id, written_at) VALUES (1, $1) \
    ON CONFLICT (id) DO UPDATE SET written_at = excluded.written_at";
static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// The store on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: sqlx::PgPool,
    batches: std::sync::Arc<super::BatchCache>,
    changes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    writers: std::sync::Arc<super::Writers>,
    health: std::sync::Arc<super::WriteHealth>,
}

impl PostgresStore {
    /// Connects to the database named by a `postgres:` URL.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(PgConnectOptions::from_str(url)?).await
    }

    /// Connects with prepared options, e.g. a `search_path` that gives each test its own
    /// schema.
    pub async fn open_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            // While the server is down, a request waits this long for a connection, then
            // gets a 503: a shopper sees "try again" in 2 seconds, not a 10-second hang.
            .acquire_timeout(Duration::from_secs(2))
            .connect_with(options)
            .await?;
        Ok(PostgresStore {
            pool,
            batches: Default::default(),
            changes: Default::default(),
            writers: std::sync::Arc::new(super::Writers::many()),
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
