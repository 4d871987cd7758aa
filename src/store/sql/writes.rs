// Write transactions in SQL: the one way anything is written. Part of the store compiled by
// `include!` (see `common.rs`).

/// One write transaction on a pooled connection of its own, begun and ended through the
/// driver's transaction manager while this value owns the connection: so that a connection
/// whose transaction did not end cleanly can be closed rather than returned to the pool. (A
/// connection left inside a transaction the driver no longer tracks, as sqlx's SQLite driver
/// could after a failed COMMIT on a full disk, would answer later "commits" that never reach
/// the file, and hold the write lock against everyone else.)
pub struct ThisWrites {
    conn: sqlx::pool::PoolConnection<Db>,
    /// Committed: the connection may go back to the pool.
    committed: bool,
    /// Whether the commit counts as a change to the registry or the labels (what the scan
    /// cache watches); scans and probes do not.
    counted: bool,
    /// SQLite's writers of this process, one at a time: held until the transaction ends.
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    health: std::sync::Arc<WriteHealth>,
    changes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Drop for ThisWrites {
    fn drop(&mut self) {
        // Uncommitted (refused, failed, or abandoned by a client that went away): closing
        // the connection rolls the transaction back, and it is never used again.
        if !self.committed {
            self.conn.close_on_drop();
        }
    }
}

impl ThisStore {
    /// Opens a write transaction; `counted` says whether its commit is a change to the
    /// records.
    async fn begin_writes(&self, counted: bool) -> Result<ThisWrites, StoreError> {
        use sqlx::TransactionManager as _;
        let turn = self.writers.turn().await;
        let begun = async {
            let mut conn = self.pool.acquire().await?;
            let begin = <Db as sqlx::Database>::TransactionManager::begin(
                &mut conn,
                Some(std::borrow::Cow::Borrowed(BEGIN)),
            )
            .await;
            if let Err(e) = begin {
                conn.close_on_drop();
                return Err(StoreError::from(e));
            }
            Ok(conn)
        }
        .await;
        match begun {
            Ok(conn) => Ok(ThisWrites {
                conn,
                committed: false,
                counted,
                _turn: turn,
                health: self.health.clone(),
                changes: self.changes.clone(),
            }),
            Err(e) => {
                if e.is_fault() {
                    self.health.failed(&e);
                }
                Err(e)
            }
        }
    }

    /// Runs `work` in one transaction that is not a change to the records (scans, reports,
    /// probes) and returns its value once committed.
    async fn write<T>(
        &self,
        work: impl AsyncFnOnce(&mut Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut tx = self.begin_writes(false).await?;
        let value = work(&mut tx.conn).await;
        let value = tx.noting(value)?;
        tx.finish().await?;
        Ok(value)
    }
}

impl ThisWrites {
    /// Marks the write path unwell when a statement met a fault of the database (not a
    /// refusal such as a duplicate).
    fn noting<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(e) = &result {
            if e.is_fault() {
                self.health.failed(e);
            }
        }
        result
    }

    async fn finish(mut self) -> Result<(), StoreError> {
        use sqlx::TransactionManager as _;
        match <Db as sqlx::Database>::TransactionManager::commit(&mut self.conn).await {
            Ok(()) => {
                self.committed = true;
                self.health.wrote();
                if self.counted {
                    // Counted after the commit, so that a cache that reads the count before
                    // loading never keeps what this change replaced.
                    self.changes
                        .fetch_add(1, std::sync::atomic::Ordering::Release);
                }
                Ok(())
            }
            Err(e) => {
                let e = StoreError::from(e);
                self.health.failed(&e);
                Err(e)
            }
        }
    }
}

#[async_trait]
impl Transactions for ThisStore {
    async fn begin(&self) -> Result<Box<dyn Writes>, StoreError> {
        Ok(Box::new(self.begin_writes(true).await?))
    }
}

/// Rows in one multi-row INSERT: at most 16 parameters a row, far below both databases'
/// limits, and few enough statements that a 60,000-row import writes in well under a second.
const ROWS_PER_INSERT: usize = 500;

/// Inserts `items` with multi-row statements (`per_statement` rows each, a pause between
/// statements when `pace` is given, for crash tests) and returns their ids in `items`' order.
///
/// Ids are taken sorted: both databases give the rows of one INSERT increasing ids in the
/// order of its VALUES (SQLite as max(rowid) + 1 each, PostgreSQL by one nextval per row, in
/// order), whatever order RETURNING lists them in.
async fn insert_all<'a, T>(
    conn: &mut Conn,
    head: &'static str,
    items: &'a [T],
    per_statement: usize,
    pace: Option<std::time::Duration>,
    bind: impl Fn(&mut sqlx::query_builder::Separated<'_, 'a, Db, &'static str>, &'a T),
) -> Result<Vec<i64>, sqlx::Error> {
    let mut ids = Vec::with_capacity(items.len());
    for chunk in items.chunks(per_statement.max(1)) {
        let mut query = sqlx::QueryBuilder::<Db>::new(head);
        query.push_values(chunk, |mut row, item| bind(&mut row, item));
        query.push(" RETURNING id");
        let mut chunk_ids: Vec<i64> = query.build_query_scalar().fetch_all(&mut *conn).await?;
        chunk_ids.sort_unstable();
        ids.extend(chunk_ids);
        if let Some(d) = pace {
            tokio::time::sleep(d).await;
        }
    }
    Ok(ids)
}

/// The columns of a product row written many a statement (`bind_product` fills them).
const PRODUCTS_HEAD: &str = "INSERT INTO products (producer_id, name, category, unit, \
     description, photo_url, gtin, growing_area_code, search_text, updated_at, created_at) ";

fn bind_product<'q>(
    row: &mut sqlx::query_builder::Separated<'_, 'q, Db, &'static str>,
    producer_id: i64,
    p: &'q NewProduct,
    now: DateTime<Utc>,
) {
    row.push_bind(producer_id)
        .push_bind(&p.name)
        .push_bind(&p.category)
        .push_bind(&p.unit)
        .push_bind(&p.description)
        .push_bind(&p.photo_url)
        .push_bind(p.gtin.map(|g| g.as_gtin14()))
        .push_bind(&p.growing_area_code)
        .push_bind(product_search_text(p))
        .push_bind(now)
        .push_bind(now);
}

/// The columns of a lot row written many a statement (`bind_lot` fills them).
const LOTS_HEAD: &str = "INSERT INTO lots (product_id, code, produced_on, expires_on, \
     quantity, growing_area, commune, province, search_text, updated_at, created_at) ";

fn bind_lot<'q>(
    row: &mut sqlx::query_builder::Separated<'_, 'q, Db, &'static str>,
    product_id: i64,
    l: &'q NewLot,
    now: DateTime<Utc>,
) {
    row.push_bind(product_id)
        .push_bind(&l.code)
        .push_bind(l.produced_on)
        .push_bind(l.expires_on)
        .push_bind(l.quantity)
        .push_bind(&l.growing_area)
        .push_bind(&l.commune)
        .push_bind(l.province.map(|p| p.slug))
        .push_bind(lot_search_text(l))
        .push_bind(now)
        .push_bind(now);
}

#[async_trait]
impl Writes for ThisWrites {
    async fn organization(&mut self, id: i64) -> Result<Option<Organization>, StoreError> {
        let found = fetch_organization(&mut self.conn, id).await;
        self.noting(found)
    }

    async fn product(&mut self, id: i64) -> Result<Option<Product>, StoreError> {
        let found = fetch_product(&mut self.conn, id).await;
        self.noting(found)
    }

    async fn certification(&mut self, id: i64) -> Result<Option<Certification>, StoreError> {
        let found = fetch_certification(&mut self.conn, id).await;
        self.noting(found)
    }

    async fn lot(&mut self, id: i64) -> Result<Option<Lot>, StoreError> {
        let found = fetch_lot(&mut self.conn, id).await;
        self.noting(found)
    }

    async fn lot_by_code(
        &mut self,
        product_id: i64,
        code: &str,
    ) -> Result<Option<Lot>, StoreError> {
        let found = async {
            sqlx::query_as::<_, LotRow>(&format!(
                "{LOT_SELECT} AND l.product_id = $1 AND l.code = $2"
            ))
            .bind(product_id)
            .bind(code)
            .fetch_optional(&mut *self.conn)
            .await?
            .map(Lot::try_from)
            .transpose()
        }
        .await;
        self.noting(found)
    }

    async fn batch(&mut self, id: i64) -> Result<Option<LabelBatch>, StoreError> {
        let found = fetch_batch(&mut self.conn, id).await;
        self.noting(found)
    }

    async fn document_stored(&mut self, sha256: &str) -> Result<bool, StoreError> {
        let found: Result<Option<String>, sqlx::Error> =
            sqlx::query_scalar("SELECT sha256 FROM documents WHERE sha256 = $1")
                .bind(sha256.to_ascii_lowercase())
                .fetch_optional(&mut *self.conn)
                .await;
        self.noting(found.map(|f| f.is_some()).map_err(StoreError::from))
    }

    async fn batches_of_product(&mut self, id: i64) -> Result<Vec<i64>, StoreError> {
        let found = batches_of(&mut self.conn, "product_id", id).await;
        self.noting(found)
    }

    async fn batches_printing_lot(&mut self, id: i64) -> Result<Vec<i64>, StoreError> {
        let found = batches_of(&mut self.conn, "lot_id", id).await;
        self.noting(found)
    }

    async fn batches_activated_on_lot(&mut self, id: i64) -> Result<Vec<i64>, StoreError> {
        let found = batches_with_ranges_of_lot(&mut self.conn, id).await;
        self.noting(found)
    }

    async fn insert_organization(
        &mut self,
        org: &NewOrganization,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError> {
        let conn = &mut *self.conn;
        let stored = async {
            let id = save_organization(conn, None, org, now).await?;
            fetch_organization(conn, id)
                .await?
                .ok_or(StoreError::NotFound)
        }
        .await;
        self.noting(stored)
    }

    async fn update_organization(
        &mut self,
        id: i64,
        org: &NewOrganization,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError> {
        let conn = &mut *self.conn;
        let stored = async {
            save_organization(conn, Some(id), org, now).await?;
            fetch_organization(conn, id)
                .await?
                .ok_or(StoreError::NotFound)
        }
        .await;
        self.noting(stored)
    }

    async fn insert_product(
        &mut self,
        product: &NewProduct,
        now: DateTime<Utc>,
    ) -> Result<Product, StoreError> {
        let conn = &mut *self.conn;
        let stored = async {
            let id = save_product(conn, None, product, now).await?;
            fetch_product(conn, id).await?.ok_or(StoreError::NotFound)
        }
        .await;
        self.noting(stored)
    }

    async fn update_product(
        &mut self,
        id: i64,
        product: &NewProduct,
        now: DateTime<Utc>,
    ) -> Result<Product, StoreError> {
        let conn = &mut *self.conn;
        let stored = async {
            save_product(conn, Some(id), product, now).await?;
            fetch_product(conn, id).await?.ok_or(StoreError::NotFound)
        }
        .await;
        self.noting(stored)
    }

    async fn insert_certification(
        &mut self,
        cert: &NewCertification,
        now: DateTime<Utc>,
    ) -> Result<Certification, StoreError> {
        let conn = &mut *self.conn;
        let stored = async {
            let id = save_certification(conn, None, cert, now).await?;
            fetch_certification(conn, id)
                .await?
                .ok_or(StoreError::NotFound)
        }
        .await;
        self.noting(stored)
    }

    async fn update_certification(
        &mut self,
        id: i64,
        cert: &NewCertification,
        now: DateTime<Utc>,
    ) -> Result<Certification, StoreError> {
        let conn = &mut *self.conn;
        let stored = async {
            save_certification(conn, Some(id), cert, now).await?;
            fetch_certification(conn, id)
                .await?
                .ok_or(StoreError::NotFound)
        }
        .await;
        self.noting(stored)
    }

    async fn set_certification_status(
        &mut self,
        id: i64,
        from: CertStatus,
        to: CertStatus,
        by: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Certification, StoreError> {
        let conn = &mut *self.conn;
        let stored = async {
            // The status in the WHERE clause makes a concurrent change lose instead of
            // overwrite.
            let changed = sqlx::query(
                "UPDATE certifications SET status = $1, status_changed_by = $2, \
                 status_changed_at = $3, updated_at = $4, status_reason = $5 \
                 WHERE id = $6 AND status = $7",
            )
            .bind(to.as_str())
            .bind(by)
            .bind(now)
            .bind(now)
            .bind(reason)
            .bind(id)
            .bind(from.as_str())
            .execute(&mut *conn)
            .await?;
            if changed.rows_affected() == 0 {
                return Err(StoreError::Conflict(Invalid::field(
                    "status",
                    "the certificate changed meanwhile; reload and try again",
                )));
            }
            fetch_certification(conn, id)
                .await?
                .ok_or(StoreError::NotFound)
        }
        .await;
        self.noting(stored)
    }

    async fn insert_lot(&mut self, lot: &NewLot, now: DateTime<Utc>) -> Result<Lot, StoreError> {
        let conn = &mut *self.conn;
        let stored = async {
            let id = save_lot(conn, None, lot, now).await?;
            fetch_lot(conn, id).await?.ok_or(StoreError::NotFound)
        }
        .await;
        self.noting(stored)
    }

    async fn update_lot(
        &mut self,
        id: i64,
        lot: &NewLot,
        now: DateTime<Utc>,
    ) -> Result<Lot, StoreError> {
        let conn = &mut *self.conn;
        let stored = async {
            save_lot(conn, Some(id), lot, now).await?;
            fetch_lot(conn, id).await?.ok_or(StoreError::NotFound)
        }
        .await;
        self.noting(stored)
    }

    async fn set_suspension(
        &mut self,
        id: i64,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError> {
        let conn = &mut *self.conn;
        let stored = async {
            require_updated(
                sqlx::query(
                    "UPDATE organizations SET suspended_at = $1, suspension_reason = $2, \
                     updated_at = $3 WHERE id = $4",
                )
                .bind(reason.map(|_| now))
                .bind(reason)
                .bind(now)
                .bind(id)
                .execute(&mut *conn)
                .await?,
            )?;
            fetch_organization(conn, id)
                .await?
                .ok_or(StoreError::NotFound)
        }
        .await;
        self.noting(stored)
    }

    async fn recall(&mut self, id: i64) -> Result<Option<Recall>, StoreError> {
        let found = fetch_recall(&mut self.conn, id).await;
        self.noting(found)
    }

    async fn insert_recall(
        &mut self,
        recall: &NewRecall,
        now: DateTime<Utc>,
    ) -> Result<Recall, StoreError> {
        let conn = &mut *self.conn;
        let stored = async {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO recalls (reason_code, reason, risk_class, contact, opened_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(recall.reason_code.as_str())
            .bind(&recall.reason)
            .bind(recall.risk_class)
            .bind(&recall.contact)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
            for lot in &recall.lot_ids {
                sqlx::query("INSERT INTO recall_lots (recall_id, lot_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(lot)
                    .execute(&mut *conn)
                    .await?;
                require_updated(
                    sqlx::query(
                        "UPDATE lots SET recalled_at = COALESCE(recalled_at, $1), \
                         recall_reason = $2, updated_at = $3 WHERE id = $4",
                    )
                    .bind(now)
                    .bind(&recall.reason)
                    .bind(now)
                    .bind(lot)
                    .execute(&mut *conn)
                    .await?,
                )?;
            }
            fetch_recall(conn, id).await?.ok_or(StoreError::NotFound)
        }
        .await;
        self.noting(stored)
    }

    async fn close_recall(
        &mut self,
        id: i64,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<Recall, StoreError> {
        let conn = &mut *self.conn;
        let stored = async {
            require_updated(
                sqlx::query(
                    "UPDATE recalls SET closed_at = $1, close_note = $2 \
                     WHERE id = $3 AND closed_at IS NULL",
                )
                .bind(now)
                .bind(note)
                .bind(id)
                .execute(&mut *conn)
                .await?,
            )?;
            // A lot no other open recall covers is recalled no more; one that another covers
            // takes the newest open recall's reason.
            sqlx::query(
                "UPDATE lots SET recall_reason = (SELECT r.reason FROM recall_lots rl \
                 JOIN recalls r ON r.id = rl.recall_id \
                 WHERE rl.lot_id = lots.id AND r.closed_at IS NULL ORDER BY r.id DESC LIMIT 1), \
                 updated_at = $1 \
                 WHERE id IN (SELECT lot_id FROM recall_lots WHERE recall_id = $2)",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "UPDATE lots SET recalled_at = NULL \
                 WHERE id IN (SELECT lot_id FROM recall_lots WHERE recall_id = $1) \
                 AND recall_reason IS NULL",
            )
            .bind(id)
            .execute(&mut *conn)
            .await?;
            fetch_recall(conn, id).await?.ok_or(StoreError::NotFound)
        }
        .await;
        self.noting(stored)
    }

    async fn insert_products(
        &mut self,
        products: &[NewProduct],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let conn = &mut *self.conn;
        let stored = insert_all(
            conn,
            PRODUCTS_HEAD,
            products,
            ROWS_PER_INSERT,
            None,
            |row, p| bind_product(row, p.producer_id, p, now),
        )
        .await
        .map_err(|e| unique_conflict(e, "gtin", "another product already has this GTIN"));
        self.noting(stored)
    }

    async fn insert_lots(
        &mut self,
        lots: &[NewLot],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let conn = &mut *self.conn;
        let stored = insert_all(conn, LOTS_HEAD, lots, ROWS_PER_INSERT, None, |row, l| {
            bind_lot(row, l.product_id, l, now)
        })
        .await
        .map_err(|e| unique_conflict(e, "code", "this product already has a lot with this code"));
        self.noting(stored)
    }

    async fn append_audits(&mut self, entries: &[AuditEntry]) -> Result<Vec<i64>, StoreError> {
        let conn = &mut *self.conn;
        let appended = async {
            let first: i64 = sqlx::query_scalar(AUDIT_RESERVE)
                .bind(entries.len() as i64)
                .fetch_one(&mut *conn)
                .await?;
            // A chunk's canonical bytes at a time: the whole import's would be hundreds of MB.
            for (c, chunk) in entries.chunks(ROWS_PER_INSERT).enumerate() {
                let mut rows = Vec::with_capacity(chunk.len());
                for (i, entry) in chunk.iter().enumerate() {
                    let seq = first + (c * ROWS_PER_INSERT + i) as i64;
                    let bytes = entry
                        .canonical_bytes()
                        .map_err(|e| StoreError::Corrupt(format!("audit entry: {e}")))?;
                    let leaf = crate::domain::audit::leaf_hash(&bytes).to_vec();
                    let at = DateTime::parse_from_rfc3339(&entry.at)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|e| StoreError::Corrupt(format!("audit time: {e}")))?;
                    let entity_id = match &entry.entity.id {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    rows.push((seq, at, entry, entity_id, bytes, leaf));
                }
                let mut query = sqlx::QueryBuilder::<Db>::new(
                    "INSERT INTO audit_entries (seq, at, action, entity_type, entity_id, entry, \
                     leaf_hash) ",
                );
                query.push_values(
                    &rows,
                    |mut row, (seq, at, entry, entity_id, bytes, leaf)| {
                        row.push_bind(*seq)
                            .push_bind(*at)
                            .push_bind(&entry.action)
                            .push_bind(&entry.entity.kind)
                            .push_bind(entity_id)
                            .push_bind(bytes)
                            .push_bind(leaf);
                    },
                );
                query.build().execute(&mut *conn).await?;
            }
            Ok((first..first + entries.len() as i64).collect())
        }
        .await;
        self.noting(appended)
    }

    async fn insert_print_job(
        &mut self,
        job: &NewPrintJob,
        total_labels: i64,
        now: DateTime<Utc>,
    ) -> Result<PrintJob, StoreError> {
        let conn = &mut *self.conn;
        let inserted = async {
            let spec = serde_json::to_string(&job.spec)
                .map_err(|e| StoreError::Corrupt(format!("print spec: {e}")))?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO print_jobs (batch_id, requested_by, person_id, spec, state, \
                 total_labels, created_at) VALUES ($1, $2, $3, $4, 'queued', $5, $6) RETURNING id",
            )
            .bind(job.batch_id)
            .bind(&job.requested_by)
            .bind(job.person_id)
            .bind(spec)
            .bind(total_labels)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
            fetch_job(conn, id).await?.ok_or(StoreError::NotFound)
        }
        .await;
        self.noting(inserted)
    }

    async fn claim_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
        request_sha256: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(Vec<u8>, Option<i64>)>, StoreError> {
        let conn = &mut *self.conn;
        let claimed = async {
            // On PostgreSQL a concurrent insert of the same key waits here for the other
            // transaction, then does nothing if it committed.
            let inserted: Option<String> = sqlx::query_scalar(
                "INSERT INTO idempotency_keys (scope, key, request_sha256, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (scope, key) DO NOTHING RETURNING scope",
            )
            .bind(scope)
            .bind(key)
            .bind(request_sha256)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?;
            if inserted.is_some() {
                return Ok(None);
            }
            let earlier: (Vec<u8>, Option<i64>) = sqlx::query_as(
                "SELECT request_sha256, batch_id FROM idempotency_keys \
                 WHERE scope = $1 AND key = $2",
            )
            .bind(scope)
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
            Ok(Some(earlier))
        }
        .await;
        self.noting(claimed)
    }

    async fn settle_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
        batch_id: i64,
    ) -> Result<(), StoreError> {
        let conn = &mut *self.conn;
        let settled =
            sqlx::query("UPDATE idempotency_keys SET batch_id = $1 WHERE scope = $2 AND key = $3")
                .bind(batch_id)
                .bind(scope)
                .bind(key)
                .execute(&mut *conn)
                .await
                .map(|_| ())
                .map_err(StoreError::from);
        self.noting(settled)
    }

    async fn take_label_numbers(&mut self, kid: &str, count: u32) -> Result<u64, StoreError> {
        let conn = &mut *self.conn;
        let taken = async {
            sqlx::query(
                "INSERT INTO key_counters (kid, next_number) VALUES ($1, 0) \
                 ON CONFLICT (kid) DO NOTHING",
            )
            .bind(kid)
            .execute(&mut *conn)
            .await?;
            let end: i64 = sqlx::query_scalar(
                "UPDATE key_counters SET next_number = next_number + $1 WHERE kid = $2 \
                 RETURNING next_number",
            )
            .bind(i64::from(count))
            .bind(kid)
            .fetch_one(&mut *conn)
            .await?;
            u64::try_from(end).map_err(|_| StoreError::Corrupt(format!("key counter {end}")))
        }
        .await;
        self.noting(taken)
    }

    async fn insert_batch(
        &mut self,
        batch: &NewBatch,
        first_number: u32,
        now: DateTime<Utc>,
    ) -> Result<LabelBatch, StoreError> {
        let conn = &mut *self.conn;
        let state = if batch.lot_id.is_some() {
            LabelState::Activated
        } else {
            LabelState::Minted
        };
        let stored = async {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO label_batches (product_id, lot_id, kid, key_slot, first_number, \
                 count, profile, state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 RETURNING id",
            )
            .bind(batch.product_id)
            .bind(batch.lot_id)
            .bind(&batch.kid)
            .bind(i64::from(batch.key_slot))
            .bind(i64::from(first_number))
            .bind(i64::from(batch.count))
            .bind(profile_name(batch.profile))
            .bind(state.as_str())
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
            fetch_batch(conn, id).await?.ok_or(StoreError::NotFound)
        }
        .await;
        self.noting(stored)
    }

    async fn insert_label_range(
        &mut self,
        batch_id: i64,
        change: &RangeChange,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let stored = sqlx::query(
            "INSERT INTO label_ranges (batch_id, first_index, end_index, state, lot_id, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(batch_id)
        .bind(i64::from(change.range.first))
        .bind(i64::from(change.range.end))
        .bind(change.state.as_str())
        .bind(change.lot_id)
        .bind(now)
        .execute(&mut *self.conn)
        .await;
        self.noting(stored.map(|_| ()).map_err(StoreError::from))
    }

    async fn insert_document(
        &mut self,
        content: &[u8],
        media_type: &str,
        file_name: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let sha256 = hex::encode(Sha256::digest(content));
        let stored = sqlx::query(
            "INSERT INTO documents (sha256, media_type, file_name, size_bytes, content, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&sha256)
        .bind(media_type)
        .bind(file_name)
        .bind(i64::try_from(content.len()).unwrap_or(i64::MAX))
        .bind(content)
        .bind(now)
        .execute(&mut *self.conn)
        .await;
        self.noting(stored.map(|_| sha256).map_err(StoreError::from))
    }

    async fn insert_photo(
        &mut self,
        sha256: &str,
        small_sha256: &str,
        large_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let stored = sqlx::query(
            "INSERT INTO photos (sha256, small_sha256, large_sha256, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(sha256)
        .bind(small_sha256)
        .bind(large_sha256)
        .bind(now)
        .execute(&mut *self.conn)
        .await;
        self.noting(stored.map(|_| ()).map_err(StoreError::from))
    }

    async fn insert_bundle(
        &mut self,
        bundle: &RegistryBundle,
        links: &BundleLinks,
        now: DateTime<Utc>,
        pace: Option<std::time::Duration>,
    ) -> Result<ImportedIds, StoreError> {
        let rows = if pace.is_some() { 1 } else { ROWS_PER_INSERT };
        let conn = &mut *self.conn;
        let stored = async {
            let orgs = insert_all(
                conn,
                "INSERT INTO organizations (kind, name, province, address, phone, email, \
             search_text, updated_at, created_at) ",
                &bundle.organizations,
                rows,
                pace,
                |row, (_, o)| {
                    row.push_bind(o.kind.as_str())
                        .push_bind(&o.name)
                        .push_bind(o.province.slug)
                        .push_bind(&o.address)
                        .push_bind(&o.phone)
                        .push_bind(&o.email)
                        .push_bind(organization_search_text(o))
                        .push_bind(now)
                        .push_bind(now);
                },
            )
            .await?;
            let products: Vec<(i64, &NewProduct)> = (links.product_producer.iter())
                .zip(&bundle.products)
                .map(|(&o, (_, _, p))| (orgs[o], p))
                .collect();
            let product_ids = insert_all(
                conn,
                PRODUCTS_HEAD,
                &products,
                rows,
                pace,
                |row, &(producer_id, p)| bind_product(row, producer_id, p, now),
            )
            .await
            // Only a write made since the GTINs were looked up can take one.
            .map_err(|e| {
                unique_conflict(e, "products", "a GTIN of this import was taken meanwhile")
            })?;
            let certs: Vec<(i64, i64, Option<i64>, &BundleCertification)> =
                (links.certification.iter())
                    .zip(&bundle.certifications)
                    .map(|(&(holder, issuer, product), c)| {
                        (
                            orgs[holder],
                            orgs[issuer],
                            product.map(|p| product_ids[p]),
                            c,
                        )
                    })
                    .collect();
            let certification_ids = insert_all(
                conn,
                "INSERT INTO certifications (holder_id, issuer_id, product_id, kind, ocop_stars, \
             number, scope, issued_on, valid_until, evidence_sha256, search_text, status, \
             status_changed_by, status_changed_at, updated_at, created_at) ",
                &certs,
                rows,
                pace,
                |row, &(holder, issuer, product, linked)| {
                    let cert = &linked.cert;
                    // A certificate imported with its verifier is verified from the import on.
                    let status = match linked.verified_by {
                        Some(_) => CertStatus::Verified,
                        None => CertStatus::Submitted,
                    };
                    row.push_bind(holder)
                        .push_bind(issuer)
                        .push_bind(product)
                        .push_bind(cert.kind.as_str())
                        .push_bind(cert.ocop_stars)
                        .push_bind(&cert.number)
                        .push_bind(&cert.scope)
                        .push_bind(cert.issued_on)
                        .push_bind(cert.valid_until)
                        .push_bind(&cert.evidence_sha256)
                        .push_bind(certification_search_text(cert))
                        .push_bind(status.as_str())
                        .push_bind(&linked.verified_by)
                        .push_bind(linked.verified_by.as_ref().map(|_| now))
                        .push_bind(now)
                        .push_bind(now);
                },
            )
            .await?;
            let lots: Vec<(i64, &NewLot)> = (links.lot_product.iter())
                .zip(&bundle.lots)
                .map(|(&p, (_, lot))| (product_ids[p], lot))
                .collect();
            let lot_ids = insert_all(
                conn,
                LOTS_HEAD,
                &lots,
                rows,
                pace,
                |row, &(product_id, l)| bind_lot(row, product_id, l, now),
            )
            .await?;
            Ok(ImportedIds {
                organizations: orgs,
                products: product_ids,
                certifications: certification_ids,
                lots: lot_ids,
            })
        }
        .await;
        self.noting(stored)
    }

    async fn person(&mut self, id: i64) -> Result<Option<Person>, StoreError> {
        let found = fetch_person(&mut self.conn, id).await;
        self.noting(found)
    }

    async fn insert_person(
        &mut self,
        person: &NewPerson,
        now: DateTime<Utc>,
    ) -> Result<Person, StoreError> {
        let inserted: Result<i64, sqlx::Error> = sqlx::query_scalar(
            "INSERT INTO people (login, display_name, status, created_at, updated_at) \
             VALUES ($1, $2, 'active', $3, $3) RETURNING id",
        )
        .bind(&person.login)
        .bind(&person.display_name)
        .bind(now)
        .fetch_one(&mut *self.conn)
        .await;
        let id = self.noting(
            inserted.map_err(|e| unique_conflict(e, "login", "someone already has this login")),
        )?;
        let person = self.person_changed(id).await;
        self.noting(person)
    }

    async fn set_person_status(
        &mut self,
        id: i64,
        status: PersonStatus,
        now: DateTime<Utc>,
    ) -> Result<Person, StoreError> {
        let updated = sqlx::query("UPDATE people SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(now)
            .bind(id)
            .execute(&mut *self.conn)
            .await;
        self.noting(updated.map_err(StoreError::from).and_then(require_updated))?;
        let person = self.person_changed(id).await;
        self.noting(person)
    }

    async fn set_password_hash(
        &mut self,
        id: i64,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let updated =
            sqlx::query("UPDATE people SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(hash)
                .bind(now)
                .bind(id)
                .execute(&mut *self.conn)
                .await;
        self.noting(updated.map_err(StoreError::from).and_then(require_updated))
    }

    async fn insert_membership(
        &mut self,
        person_id: i64,
        membership: &Membership,
        now: DateTime<Utc>,
    ) -> Result<Person, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO memberships (person_id, organization_id, role, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(person_id)
        .bind(membership.organization_id)
        .bind(membership.role.as_str())
        .bind(now)
        .execute(&mut *self.conn)
        .await;
        self.noting(inserted.map(|_| ()).map_err(|e| {
            unique_conflict(
                e,
                "organization_id",
                "this person already has a role in this organization",
            )
        }))?;
        let person = self.person_changed(person_id).await;
        self.noting(person)
    }

    async fn delete_membership(
        &mut self,
        person_id: i64,
        organization_id: Option<i64>,
    ) -> Result<Person, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM memberships WHERE person_id = $1 \
             AND COALESCE(organization_id, 0) = COALESCE($2, 0)",
        )
        .bind(person_id)
        .bind(organization_id)
        .execute(&mut *self.conn)
        .await;
        self.noting(deleted.map_err(StoreError::from).and_then(require_updated))?;
        let person = self.person_changed(person_id).await;
        self.noting(person)
    }

    async fn end_sessions_of(
        &mut self,
        person_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = $1 WHERE person_id = $2 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(person_id)
        .execute(&mut *self.conn)
        .await;
        self.noting(ended.map(|_| ()).map_err(StoreError::from))
    }

    async fn insert_api_token(
        &mut self,
        hash: &[u8],
        token: &ApiToken,
    ) -> Result<ApiToken, StoreError> {
        let inserted: Result<i64, sqlx::Error> = sqlx::query_scalar(
            "INSERT INTO api_tokens (token_hash, prefix, person_id, organization_id, role, name, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(hash)
        .bind(&token.prefix)
        .bind(token.person_id)
        .bind(token.organization_id)
        .bind(token.role.as_str())
        .bind(&token.name)
        .bind(token.created_at)
        .bind(token.expires_at)
        .fetch_one(&mut *self.conn)
        .await;
        let id = self.noting(inserted.map_err(StoreError::from))?;
        let stored = fetch_api_token(&mut self.conn, id)
            .await
            .and_then(|t| t.ok_or(StoreError::NotFound));
        self.noting(stored)
    }

    async fn api_token(&mut self, id: i64) -> Result<Option<ApiToken>, StoreError> {
        let found = fetch_api_token(&mut self.conn, id).await;
        self.noting(found)
    }

    async fn revoke_api_token(
        &mut self,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<ApiToken, StoreError> {
        let updated = sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *self.conn)
        .await;
        self.noting(updated.map_err(StoreError::from).and_then(require_updated))?;
        let stored = fetch_api_token(&mut self.conn, id)
            .await
            .and_then(|t| t.ok_or(StoreError::NotFound));
        self.noting(stored)
    }

    async fn insert_access_link(
        &mut self,
        hash: &[u8],
        link: &AccessLink,
    ) -> Result<(), StoreError> {
        let (kind, organization_id, role, person_id) = match &link.purpose {
            LinkPurpose::Invitation {
                organization_id,
                role,
            } => ("invitation", *organization_id, Some(role.as_str()), None),
            LinkPurpose::Reset { person_id } => ("reset", None, None, Some(*person_id)),
        };
        let inserted = sqlx::query(
            "INSERT INTO access_links (token_hash, kind, organization_id, role, person_id, \
             made_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(hash)
        .bind(kind)
        .bind(organization_id)
        .bind(role)
        .bind(person_id)
        .bind(link.made_by)
        .bind(link.created_at)
        .bind(link.expires_at)
        .execute(&mut *self.conn)
        .await;
        self.noting(inserted.map(|_| ()).map_err(StoreError::from))
    }

    async fn access_link(&mut self, hash: &[u8]) -> Result<Option<AccessLink>, StoreError> {
        let found = fetch_access_link(&mut self.conn, hash).await;
        self.noting(found)
    }

    async fn revoke_access_link(
        &mut self,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE access_links SET revoked_at = COALESCE(revoked_at, $1) WHERE token_hash = $2",
        )
        .bind(now)
        .bind(hash)
        .execute(&mut *self.conn)
        .await;
        self.noting(updated.map_err(StoreError::from).and_then(require_updated))
    }

    async fn use_access_link(&mut self, hash: &[u8], now: DateTime<Utc>) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE access_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
             AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(hash)
        .execute(&mut *self.conn)
        .await;
        let used = updated.map_err(StoreError::from).and_then(|r| {
            if r.rows_affected() == 1 {
                Ok(())
            } else {
                Err(StoreError::Conflict(Invalid::field(
                    "link",
                    "this link has been used already",
                )))
            }
        });
        self.noting(used)
    }

    async fn captured_events(&mut self, hash_ids: &[String]) -> Result<Vec<String>, StoreError> {
        let found = captured_hash_ids(&mut self.conn, hash_ids).await;
        self.noting(found)
    }

    async fn insert_events(
        &mut self,
        events: &[crate::domain::epcis::event::NewEvent],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let stored = insert_event_rows(&mut self.conn, events, now).await;
        self.noting(stored)
    }

    async fn insert_capture_job(
        &mut self,
        job: &crate::domain::job::NewCaptureJob,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let id = insert_capture_job_row(&mut self.conn, job, now).await;
        self.noting(id)
    }

    async fn finish_capture_job(
        &mut self,
        id: i64,
        captured: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let done = finish_capture_job_row(&mut self.conn, id, captured, now).await;
        self.noting(done)
    }

    async fn append_audit(&mut self, entry: &AuditEntry) -> Result<i64, StoreError> {
        let conn = &mut *self.conn;
        let appended = async {
            let bytes = entry
                .canonical_bytes()
                .map_err(|e| StoreError::Corrupt(format!("audit entry: {e}")))?;
            let leaf = crate::domain::audit::leaf_hash(&bytes);
            let entity_id = match &entry.entity.id {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let seq: i64 = sqlx::query_scalar(AUDIT_APPEND)
                .bind(
                    DateTime::parse_from_rfc3339(&entry.at)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|e| StoreError::Corrupt(format!("audit time: {e}")))?,
                )
                .bind(&entry.action)
                .bind(&entry.entity.kind)
                .bind(entity_id)
                .bind(bytes)
                .bind(leaf.to_vec())
                .fetch_one(&mut *conn)
                .await?;
            Ok(seq)
        }
        .await;
        self.noting(appended)
    }

    async fn report(&mut self, id: i64) -> Result<Option<Report>, StoreError> {
        let conn = &mut *self.conn;
        let read = async {
            sqlx::query_as::<_, ReportRow>(&format!(
                "SELECT {REPORT_COLUMNS} FROM problem_reports WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .map(Report::try_from)
            .transpose()
        }
        .await;
        self.noting(read)
    }

    async fn update_report(
        &mut self,
        id: i64,
        state: ReportState,
        assigned_to: Option<i64>,
        note: Option<&str>,
    ) -> Result<Report, StoreError> {
        let conn = &mut *self.conn;
        let written = async {
            sqlx::query_as::<_, ReportRow>(&format!(
                "UPDATE problem_reports SET state = $1, assigned_to = $2, handling_note = $3 \
                 WHERE id = $4 RETURNING {REPORT_COLUMNS}"
            ))
            .bind(state.as_str())
            .bind(assigned_to)
            .bind(note)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)
            .and_then(Report::try_from)
        }
        .await;
        self.noting(written)
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        (*self).finish().await
    }
}
