//! A fresh database per test: a SQLite file in a temporary folder, or a PostgreSQL schema
//! of its own that is dropped afterwards.

use std::str::FromStr;
use std::sync::Arc;

use sqlx::postgres::PgConnectOptions;
use truyxuat::store::{self, PostgresStore, Store};

/// The environment variable naming the PostgreSQL server the tests may use.
pub const POSTGRES_URL_VAR: &str = "TRUYXUAT_TEST_POSTGRES_URL";

pub struct TestDb {
    pub store: Arc<dyn Store>,
    /// The URL a separate process (the CLI under test) opens the same database with.
    #[allow(dead_code)]
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    /// A file in a folder the test owns.
    Nothing,
    Postgres {
        server: String,
        schema: String,
    },
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let store = store::open(&url).await.expect("open SQLite store");
        TestDb {
            store,
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A SQLite file in `dir`, a folder the test owns (a small filesystem, say).
    #[allow(dead_code)]
    pub async fn sqlite_in(dir: &std::path::Path) -> TestDb {
        let url = format!("sqlite://{}", dir.join("test.db").display());
        let store = store::open(&url).await.expect("open SQLite store");
        TestDb {
            store,
            url,
            cleanup: Cleanup::Nothing,
        }
    }

    /// A schema of its own on the configured server. Panics, rather than passing, when no
    /// server is configured: `make test` skips these tests by name and says so.
    pub async fn postgres() -> TestDb {
        Self::postgres_on(None).await
    }

    /// `postgres`, with the store connecting to `port` on the loopback instead (a proxy the
    /// test can cut), while the schema is made and dropped on the server itself.
    pub async fn postgres_on(port: Option<u16>) -> TestDb {
        let server = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
            panic!("{POSTGRES_URL_VAR} is not set: PostgreSQL tests cannot run")
        });
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(&server)
            .await
            .expect("connect to PostgreSQL");
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .expect("create schema");
        admin.close().await;
        let mut options = PgConnectOptions::from_str(&server)
            .expect("PostgreSQL URL")
            .options([("search_path", schema.as_str())]);
        if let Some(port) = port {
            options = options.host("127.0.0.1").port(port);
        }
        let pg = PostgresStore::open_with(options)
            .await
            .expect("open PostgreSQL store");
        let store: Arc<dyn Store> = Arc::new(pg);
        store.migrate().await.expect("migrate PostgreSQL schema");
        let url = format!(
            "{server}{}options=-csearch_path%3D{schema}",
            if server.contains('?') { '&' } else { '?' }
        );
        TestDb {
            store,
            url,
            cleanup: Cleanup::Postgres { server, schema },
        }
    }

    /// Every row of every table (but the migrations' own), as text, sorted: two snapshots
    /// are equal when nothing in the database changed.
    #[allow(dead_code)]
    pub async fn snapshot(&self) -> Vec<(String, Vec<String>)> {
        use sqlx::Row;
        let mut tables = Vec::new();
        if self.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&self.url)
                .await
                .expect("open SQLite");
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
            )
            .fetch_all(&pool)
            .await
            .expect("tables");
            for name in names {
                let columns: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
                        .bind(&name)
                        .fetch_all(&pool)
                        .await
                        .expect("columns");
                // quote() renders every value, blobs included, as an SQL literal.
                let row = columns
                    .iter()
                    .map(|c| format!("quote(\"{c}\")"))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                let rows = sqlx::query(&format!("SELECT {row} FROM \"{name}\""))
                    .fetch_all(&pool)
                    .await
                    .expect("rows");
                let mut rows: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
                rows.sort();
                tables.push((name, rows));
            }
            pool.close().await;
        } else {
            let pool = sqlx::PgPool::connect(&self.url)
                .await
                .expect("open PostgreSQL");
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                 AND table_name <> '_sqlx_migrations' ORDER BY 1",
            )
            .fetch_all(&pool)
            .await
            .expect("tables");
            for name in names {
                let mut rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT t::text FROM \"{name}\" t"))
                        .fetch_all(&pool)
                        .await
                        .expect("rows");
                rows.sort();
                tables.push((name, rows));
            }
            pool.close().await;
        }
        tables
    }

    /// Drops what the test created. Called at the end of each test; a failed test leaves its
    /// schema behind for inspection.
    pub async fn finish(self) {
        if let Cleanup::Postgres { server, schema } = self.cleanup {
            if let Ok(admin) = sqlx::PgPool::connect(&server).await {
                let _ = sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(&admin)
                    .await;
            }
        }
    }
}

/// Defines each listed `async fn(Arc<dyn Store>)` as a test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = $crate::support::db::TestDb::sqlite().await;
                    super::$name(db.store.clone()).await;
                    db.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = $crate::support::db::TestDb::postgres().await;
                    super::$name(db.store.clone()).await;
                    db.finish().await;
                }
            )*
        }
    };
}
