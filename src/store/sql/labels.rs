// Label batches, label ranges and scans in SQL; part of the store compiled by `include!`
// (see `common.rs`).

async fn fetch_batch(conn: &mut Conn, id: i64) -> Result<Option<LabelBatch>, StoreError> {
    sqlx::query_as::<_, BatchRow>(&format!("{BATCH_SELECT} AND id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(LabelBatch::try_from)
        .transpose()
}

#[async_trait]
impl LabelStore for ThisStore {
    async fn batch(&self, id: i64) -> Result<Option<LabelBatch>, StoreError> {
        fetch_batch(&mut *self.pool.acquire().await?, id).await
    }

    async fn batch_of_label(
        &self,
        kid: &str,
        number: u32,
    ) -> Result<Option<LabelBatch>, StoreError> {
        if let Some(batch) = self.batches.find(kid, number) {
            return Ok(Some(batch));
        }
        let row: Option<BatchRow> = sqlx::query_as(&format!(
            "{BATCH_SELECT} AND kid = $1 AND first_number <= $2 ORDER BY first_number DESC LIMIT 1"
        ))
        .bind(kid)
        .bind(i64::from(number))
        .fetch_optional(&self.pool)
        .await?;
        let batch = row.map(LabelBatch::try_from).transpose()?;
        let batch = batch.filter(|b| b.index_of(number).is_some());
        if let Some(b) = &batch {
            self.batches.keep(b);
        }
        Ok(batch)
    }

    async fn list_batches(&self, product_id: Option<i64>) -> Result<Vec<LabelBatch>, StoreError> {
        let rows: Vec<BatchRow> = match product_id {
            Some(id) => {
                sqlx::query_as(&format!(
                    "{BATCH_SELECT} AND product_id = $1 ORDER BY id DESC"
                ))
                .bind(id)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(&format!("{BATCH_SELECT} ORDER BY id DESC"))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        convert_all(rows)
    }

    async fn label_changes(
        &self,
        batch_id: i64,
        limit: usize,
    ) -> Result<Vec<RangeChange>, StoreError> {
        let rows: Vec<RangeRow> = sqlx::query_as(&format!("{RANGE_SELECT} ORDER BY id LIMIT $2"))
            .bind(batch_id)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(RangeChange::try_from).collect()
    }

    async fn label_change(
        &self,
        batch_id: i64,
        index: u32,
    ) -> Result<Option<RangeChange>, StoreError> {
        let row: Option<RangeRow> = sqlx::query_as(&format!(
            "{RANGE_SELECT} AND first_index <= $2 AND end_index > $3 ORDER BY id DESC LIMIT 1"
        ))
        .bind(batch_id)
        .bind(i64::from(index))
        .bind(i64::from(index))
        .fetch_optional(&self.pool)
        .await?;
        row.map(RangeChange::try_from).transpose()
    }
}

#[async_trait]
impl ScanStore for ThisStore {
    async fn record_scans(&self, scans: &[NewScan]) -> Result<Vec<ScanSummary>, StoreError> {
        // Two statements a group, however many scans: one INSERT of every scan, one upsert
        // of each label's count (a label scanned k times in the group counts k at once).
        let mut per_label: Vec<((i64, u32), LabelTally)> = Vec::new();
        let mut slots = HashMap::new();
        let mut place = Vec::with_capacity(scans.len());
        for scan in scans {
            let key = (scan.batch_id, scan.label_index);
            let slot = *slots.entry(key).or_insert_with(|| {
                per_label.push((key, LabelTally::new(scan.scanned_at)));
                per_label.len() - 1
            });
            let tally = &mut per_label[slot].1;
            place.push((slot, tally.scans));
            tally.scans += 1;
            tally.last_at = tally.last_at.max(scan.scanned_at);
        }
        let totals = self
            .write(async |c| {
                for chunk in scans.chunks(SCANS_PER_STATEMENT) {
                    sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO scans (batch_id, label_index, verdict, client, scanned_at) ",
                    )
                    .push_values(chunk, |mut row, scan| {
                        row.push_bind(scan.batch_id)
                            .push_bind(i64::from(scan.label_index))
                            .push_bind(scan.verdict)
                            .push_bind(scan.client)
                            .push_bind(scan.scanned_at);
                    })
                    .build()
                    .execute(&mut *c)
                    .await?;
                }
                let mut totals = HashMap::with_capacity(per_label.len());
                for chunk in per_label.chunks(SCANS_PER_STATEMENT) {
                    let rows: Vec<(i64, i64, i64, DateTime<Utc>)> = sqlx::QueryBuilder::<Db>::new(
                        "INSERT INTO label_scan_counts (batch_id, label_index, count, first_at, last_at) ",
                    )
                    .push_values(chunk, |mut row, ((batch_id, index), tally)| {
                        row.push_bind(*batch_id)
                            .push_bind(i64::from(*index))
                            .push_bind(tally.scans)
                            .push_bind(tally.first_at)
                            .push_bind(tally.last_at);
                    })
                    .push(
                        " ON CONFLICT (batch_id, label_index) DO UPDATE \
                         SET count = label_scan_counts.count + excluded.count, last_at = excluded.last_at \
                         RETURNING batch_id, label_index, count, first_at",
                    )
                    .build_query_as()
                    .fetch_all(&mut *c)
                    .await?;
                    for (batch_id, index, count, first_at) in rows {
                        totals.insert((batch_id, index), (count, first_at));
                    }
                }
                Ok(totals)
            })
            .await?;
        place
            .into_iter()
            .map(|(slot, nth)| {
                let ((batch_id, index), tally) = &per_label[slot];
                let (total, first_at) = totals
                    .get(&(*batch_id, i64::from(*index)))
                    .ok_or_else(|| StoreError::Corrupt("a label's scan count is missing".into()))?;
                Ok(ScanSummary {
                    // The group's scans of one label count in the order they came.
                    count: total - tally.scans + nth + 1,
                    first_at: Some(*first_at),
                })
            })
            .collect()
    }

    async fn label_scans(&self, batch_id: i64, index: u32) -> Result<ScanSummary, StoreError> {
        let row: Option<(i64, DateTime<Utc>)> = sqlx::query_as(
            "SELECT count, first_at FROM label_scan_counts WHERE batch_id = $1 AND label_index = $2",
        )
        .bind(batch_id)
        .bind(i64::from(index))
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            row.map_or_else(ScanSummary::default, |(count, first_at)| ScanSummary {
                count,
                first_at: Some(first_at),
            }),
        )
    }

    async fn daily_scans(
        &self,
        producer_id: i64,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {SCAN_DAY} AS day, COUNT(*) FROM scans s \
             JOIN label_batches b ON b.id = s.batch_id JOIN products p ON p.id = b.product_id \
             WHERE p.producer_id = $1 AND s.scanned_at >= $2 GROUP BY day ORDER BY day"
        ))
        .bind(producer_id)
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn batch_scans(&self, batch_id: i64) -> Result<BatchScans, StoreError> {
        // SUM over no rows is NULL; COUNT is 0.
        let (labels, scans): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), CAST(SUM(count) AS BIGINT) FROM label_scan_counts WHERE batch_id = $1",
        )
        .bind(batch_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(BatchScans {
            labels,
            scans: scans.unwrap_or(0),
        })
    }

    async fn count_scans(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM scans")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn often_scanned_labels(
        &self,
        reach: &Reach,
        times: i64,
        ratio: f64,
        limit: i64,
    ) -> Result<Vec<SuspiciousLabel>, StoreError> {
        // The others' average: the batch's scans but this label's, over its other scanned
        // labels; 1 when no other label of the batch has been scanned.
        let typical = "CASE WHEN t.labels > 1 \
             THEN CAST(t.scans - c.count AS DOUBLE PRECISION) / (t.labels - 1) \
             ELSE CAST(1 AS DOUBLE PRECISION) END";
        let mut q = sqlx::QueryBuilder::<Db>::new(format!(
            "SELECT c.batch_id, c.label_index, b.product_id, c.count, {typical} AS typical, \
             c.last_at FROM label_scan_counts c \
             JOIN (SELECT batch_id, COUNT(*) AS labels, SUM(count) AS scans \
                   FROM label_scan_counts GROUP BY batch_id) t ON t.batch_id = c.batch_id \
             JOIN label_batches b ON b.id = c.batch_id WHERE c.count >= "
        ));
        q.push_bind(times)
            .push(" AND c.count >= ")
            .push_bind(ratio)
            .push(format!(" * ({typical})"));
        push_product_reach(&mut q, reach);
        q.push(" ORDER BY c.count DESC, c.batch_id, c.label_index LIMIT ")
            .push_bind(limit);
        let rows: Vec<(i64, i64, i64, i64, f64, DateTime<Utc>)> =
            q.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(
                |(batch_id, index, product_id, scans, typical, last_at)| SuspiciousLabel {
                    batch_id,
                    label_index: index as u32,
                    product_id,
                    scans,
                    typical: Some(typical),
                    verdict: None,
                    last_at,
                },
            )
            .collect())
    }

    async fn labels_scanned_after_recall(
        &self,
        reach: &Reach,
        limit: i64,
    ) -> Result<Vec<SuspiciousLabel>, StoreError> {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT s.batch_id, s.label_index, b.product_id, s.verdict, COUNT(*), \
             MAX(s.scanned_at) AS last_at \
             FROM scans s JOIN label_batches b ON b.id = s.batch_id \
             WHERE s.verdict IN ('recalled', 'void')",
        );
        push_product_reach(&mut q, reach);
        q.push(
            " GROUP BY s.batch_id, s.label_index, b.product_id, s.verdict \
             ORDER BY last_at DESC, s.batch_id, s.label_index LIMIT ",
        )
        .push_bind(limit);
        let rows: Vec<(i64, i64, i64, String, i64, DateTime<Utc>)> =
            q.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(
                |(batch_id, index, product_id, verdict, scans, last_at)| SuspiciousLabel {
                    batch_id,
                    label_index: index as u32,
                    product_id,
                    scans,
                    typical: None,
                    verdict: Some(verdict),
                    last_at,
                },
            )
            .collect())
    }

    async fn add_report(&self, r: &NewReport, now: DateTime<Utc>) -> Result<i64, StoreError> {
        self.write(async |c| {
            Ok(sqlx::query_scalar(
                "INSERT INTO problem_reports (batch_id, label_index, product_id, message, \
                 contact, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(r.batch_id)
            .bind(r.label_index.map(i64::from))
            .bind(r.product_id)
            .bind(&r.message)
            .bind(&r.contact)
            .bind(now)
            .fetch_one(&mut *c)
            .await?)
        })
        .await
    }

    async fn list_reports(
        &self,
        q: &ListQuery,
        product_id: Option<i64>,
    ) -> Result<Vec<Report>, StoreError> {
        let rows: Vec<ReportRow> = sqlx::query_as(&format!(
            "SELECT {REPORT_COLUMNS} FROM problem_reports WHERE ($1 IS NULL OR product_id = $1) \
             ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(product_id)
        .bind(q.limit())
        .bind(q.offset())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Report::try_from).collect()
    }
}

/// Rows in one multi-row statement: 5 parameters each, far below both databases' limits.
const SCANS_PER_STATEMENT: usize = 1000;

/// One label's scans within a group.
struct LabelTally {
    scans: i64,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
}

impl LabelTally {
    fn new(at: DateTime<Utc>) -> LabelTally {
        LabelTally {
            scans: 0,
            first_at: at,
            last_at: at,
        }
    }
}
