//! A PostgreSQL store for a benchmark: a schema of its own on the server named, dropped after.

use std::str::FromStr;
use std::sync::Arc;

use truyxuat::store::{PostgresStore, Store};

/// A migrated store in a new schema `{prefix}_{pid}` on `server`.
pub struct SchemaStore {
    pub store: Arc<dyn Store>,
    admin: sqlx::PgPool,
    schema: String,
}

impl SchemaStore {
    pub async fn open(server: &str, prefix: &str) -> SchemaStore {
        let schema = format!("{prefix}_{}", std::process::id());
        let admin = sqlx::PgPool::connect(server).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .unwrap();
        let options = sqlx::postgres::PgConnectOptions::from_str(server)
            .unwrap()
            .options([("search_path", schema.as_str())]);
        let store: Arc<dyn Store> = Arc::new(PostgresStore::open_with(options).await.unwrap());
        store.migrate().await.unwrap();
        SchemaStore {
            store,
            admin,
            schema,
        }
    }

    /// Drops the schema and everything in it.
    pub async fn drop(self) {
        sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.schema))
            .execute(&self.admin)
            .await
            .unwrap();
    }
}
