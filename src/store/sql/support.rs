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
        rows.into_iter().map(stored_entry).collect()
    }

    async fn audit_entries_of(
        &self,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT seq, entry, leaf_hash FROM audit_entries \
             WHERE entity_type = $1 AND entity_id = $2 ORDER BY seq",
        )
        .bind(entity_type)
        .bind(entity_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(stored_entry).collect()
    }

    async fn audit_leaf_hashes(
        &self,
        from: i64,
        limit: i64,
    ) -> Result<Vec<(i64, [u8; 32])>, StoreError> {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT seq, leaf_hash FROM audit_entries WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(from)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(seq, leaf)| Ok((seq, hash32(leaf, || format!("audit entry {seq}"))?)))
            .collect()
    }

    async fn audit_tree_hashes(
        &self,
        indexes: &[u64],
    ) -> Result<HashMap<u64, [u8; 32]>, StoreError> {
        let mut found = HashMap::with_capacity(indexes.len());
        for chunk in indexes.chunks(ROWS_PER_INSERT) {
            let mut query = sqlx::QueryBuilder::<Db>::new(
                "SELECT idx, hash FROM audit_tree_hashes WHERE idx IN (",
            );
            let mut list = query.separated(", ");
            for index in chunk {
                list.push_bind(i64::try_from(*index).unwrap_or(i64::MAX));
            }
            query.push(")");
            let rows: Vec<(i64, Vec<u8>)> = query.build_query_as().fetch_all(&self.pool).await?;
            for (index, hash) in rows {
                let hash = hash32(hash, || format!("audit tree hash {index}"))?;
                found.insert(index as u64, hash);
            }
        }
        Ok(found)
    }

    async fn audit_tree_hash_range(
        &self,
        from: u64,
        to: u64,
    ) -> Result<HashMap<u64, [u8; 32]>, StoreError> {
        let rows: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT idx, hash FROM audit_tree_hashes WHERE idx >= $1 AND idx < $2")
                .bind(i64::try_from(from).unwrap_or(i64::MAX))
                .bind(i64::try_from(to).unwrap_or(i64::MAX))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(index, hash)| {
                let hash = hash32(hash, || format!("audit tree hash {index}"))?;
                Ok((index as u64, hash))
            })
            .collect()
    }

    async fn add_to_audit_tree(
        &self,
        hashes: &[(u64, [u8; 32])],
        checkpoint: Option<&StoredCheckpoint>,
    ) -> Result<(), StoreError> {
        self.write(async |conn| {
            for chunk in hashes.chunks(ROWS_PER_INSERT) {
                let mut query =
                    sqlx::QueryBuilder::<Db>::new("INSERT INTO audit_tree_hashes (idx, hash) ");
                query.push_values(chunk, |mut row, (index, hash)| {
                    row.push_bind(*index as i64).push_bind(hash.to_vec());
                });
                query.push(" ON CONFLICT (idx) DO NOTHING");
                query.build().execute(&mut *conn).await?;
            }
            if let Some(checkpoint) = checkpoint {
                sqlx::query(
                    "INSERT INTO audit_checkpoints (size, root, note, made_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING",
                )
                .bind(checkpoint.size as i64)
                .bind(checkpoint.root.to_vec())
                .bind(&checkpoint.note)
                .bind(checkpoint.made_at)
                .execute(&mut *conn)
                .await?;
            }
            Ok(())
        })
        .await
    }

    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        let row: Option<CheckpointRow> = sqlx::query_as(
            "SELECT size, root, note, made_at FROM audit_checkpoints ORDER BY size DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(checkpoint_of).transpose()
    }

    async fn checkpoint(&self, size: u64) -> Result<Option<StoredCheckpoint>, StoreError> {
        let row: Option<CheckpointRow> = sqlx::query_as(
            "SELECT size, root, note, made_at FROM audit_checkpoints WHERE size = $1",
        )
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .fetch_optional(&self.pool)
        .await?;
        row.map(checkpoint_of).transpose()
    }

    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let rows: Vec<CheckpointRow> =
            sqlx::query_as("SELECT size, root, note, made_at FROM audit_checkpoints ORDER BY size")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(checkpoint_of).collect()
    }
}

/// An audit entry's row: its number, bytes and leaf hash.
fn stored_entry((seq, bytes, leaf): (i64, Vec<u8>, Vec<u8>)) -> Result<StoredEntry, StoreError> {
    Ok(StoredEntry {
        seq,
        bytes,
        leaf_hash: hash32(leaf, || format!("audit entry {seq}"))?,
    })
}

type CheckpointRow = (i64, Vec<u8>, String, DateTime<Utc>);

fn checkpoint_of(
    (size, root, note, made_at): CheckpointRow,
) -> Result<StoredCheckpoint, StoreError> {
    Ok(StoredCheckpoint {
        size: size as u64,
        root: hash32(root, || format!("audit checkpoint {size}"))?,
        note,
        made_at,
    })
}

/// A 32-byte hash read back; `what` names it when it is not.
fn hash32(bytes: Vec<u8>, what: impl FnOnce() -> String) -> Result<[u8; 32], StoreError> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("{}: not a 32-byte hash", what())))
}
