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
/// Appenders of audit entries take turns on a transaction-level advisory lock (held until
/// commit), so entries are numbered in commit order without gaps. The key is arbitrary:
/// "truyxuat audit" as a number.
const AUDIT_APPENDERS_LOCK: Option<&str> = Some("SELECT pg_advisory_xact_lock(7461646974)");
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
include!("sql/labels.rs");
include!("sql/jobs.rs");
include!("sql/support.rs");
include!("sql/writes.rs");
include!("sql/people.rs");
