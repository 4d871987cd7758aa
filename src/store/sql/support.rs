// Evidence documents, bundle imports and readiness in SQL; part of the store compiled by
// `include!` (see `common.rs`).

#[async_trait]
impl DocumentStore for ThisStore {
    async fn document(&self, sha256: &str) -> Result<Option<Document>, StoreError> {
        let row: Option<(String, String, Option<String>, Vec<u8>)> = sqlx::query_as(
            "SELECT sha256, media_type, file_name, content FROM documents WHERE sha256 = $1",
        )
        .bind(sha256.to_ascii_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            row.map(|(sha256, media_type, file_name, content)| Document {
                sha256,
                media_type,
                file_name,
                content,
            }),
        )
    }

    async fn photo_size(&self, sha256: &str, large: bool) -> Result<Option<Vec<u8>>, StoreError> {
        let size = if large {
            "large_sha256"
        } else {
            "small_sha256"
        };
        Ok(sqlx::query_scalar(&format!(
            "SELECT d.content FROM photos p JOIN documents d ON d.sha256 = p.{size} \
             WHERE p.sha256 = $1"
        ))
        .bind(sha256.to_ascii_lowercase())
        .fetch_optional(&self.pool)
        .await?)
    }
}

#[async_trait]
impl RegistryStore for ThisStore {
    async fn count_organizations(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
            .fetch_one(&self.pool)
            .await?)
    }
}

#[async_trait]
impl KeyRecordStore for ThisStore {
    async fn key_first_seen(
        &self,
        kid: &str,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        self.write(async |c| {
            sqlx::query(
                "INSERT INTO env_signing_keys (kid, first_seen_at) VALUES ($1, $2) \
                 ON CONFLICT (kid) DO NOTHING",
            )
            .bind(kid)
            .bind(now)
            .execute(&mut *c)
            .await?;
            Ok(
                sqlx::query_scalar("SELECT first_seen_at FROM env_signing_keys WHERE kid = $1")
                    .bind(kid)
                    .fetch_one(&mut *c)
                    .await?,
            )
        })
        .await
    }
}

#[async_trait]
impl HealthStore for ThisStore {
    async fn readiness(&self, now: DateTime<Utc>) -> Result<(), String> {
        // Since a write failed, only a write that succeeds says writes work again: try one.
        if let Some(failure) = self.health.failure() {
            self.write(async |c| {
                sqlx::query(PROBE_WRITE).bind(now).execute(&mut *c).await?;
                Ok(())
            })
            .await
            .map_err(|e| format!("writes are failing ({failure}); a probe write: {e}"))?;
        }
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| format!("database not reachable or not migrated: {e}"))?;
        let missing: Vec<i64> = MIGRATOR
            .iter()
            .map(|m| m.version)
            .filter(|v| !applied.contains(v))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("migrations not applied: {missing:?}"))
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        BACKEND
    }
}

#[async_trait]
impl AuditStore for ThisStore {
    async fn audit_size(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn audit_entries(&self, from: i64, limit: i64) -> Result<Vec<StoredEntry>, StoreError> {
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT seq, entry, leaf_hash FROM audit_entries WHERE seq >= $1 ORDER BY seq \
             LIMIT $2",
        )
        .bind(from)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(seq, bytes, leaf)| {
                let leaf_hash = leaf
                    .try_into()
                    .map_err(|_| StoreError::Corrupt(format!("audit entry {seq}: leaf hash")))?;
                Ok(StoredEntry {
                    seq,
                    bytes,
                    leaf_hash,
                })
            })
            .collect()
    }
}
