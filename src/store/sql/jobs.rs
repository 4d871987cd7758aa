// Print jobs in SQL; part of the store compiled by `include!` (see `common.rs`).

const JOB_SELECT: &str = "SELECT id, batch_id, requested_by, person_id, spec, state, \
     total_labels, done_labels, file_name, file_bytes, error, created_at, started_at, \
     finished_at, expires_at FROM print_jobs";

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    batch_id: i64,
    requested_by: String,
    person_id: Option<i64>,
    spec: String,
    state: String,
    total_labels: i64,
    done_labels: i64,
    file_name: Option<String>,
    file_bytes: Option<i64>,
    error: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}

impl TryFrom<JobRow> for PrintJob {
    type Error = StoreError;
    fn try_from(r: JobRow) -> Result<Self, StoreError> {
        Ok(PrintJob {
            id: r.id,
            batch_id: r.batch_id,
            requested_by: r.requested_by,
            person_id: r.person_id,
            spec: serde_json::from_str(&r.spec)
                .map_err(|e| StoreError::Corrupt(format!("print job {} spec: {e}", r.id)))?,
            state: r
                .state
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("print job state {}", r.state)))?,
            total_labels: r.total_labels,
            done_labels: r.done_labels,
            file_name: r.file_name,
            file_bytes: r.file_bytes,
            error: r.error,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            expires_at: r.expires_at,
        })
    }
}

async fn fetch_job(conn: &mut Conn, id: i64) -> Result<Option<PrintJob>, StoreError> {
    sqlx::query_as::<_, JobRow>(&format!("{JOB_SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(PrintJob::try_from)
        .transpose()
}

#[async_trait]
impl JobStore for ThisStore {
    async fn print_job(&self, id: i64) -> Result<Option<PrintJob>, StoreError> {
        fetch_job(&mut *self.pool.acquire().await?, id).await
    }

    async fn print_jobs_of_batch(&self, batch_id: i64) -> Result<Vec<PrintJob>, StoreError> {
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "{JOB_SELECT} WHERE batch_id = $1 ORDER BY id DESC"
        ))
        .bind(batch_id)
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
    }

    async fn claim_print_job(&self, now: DateTime<Utc>) -> Result<Option<PrintJob>, StoreError> {
        self.write(async |c| {
            // One worker a process; a guard on the state keeps two processes from taking
            // the same job.
            let id: Option<i64> = sqlx::query_scalar(
                "UPDATE print_jobs SET state = 'running', started_at = $1, done_labels = 0 \
                 WHERE id = (SELECT id FROM print_jobs WHERE state = 'queued' ORDER BY id LIMIT 1) \
                 AND state = 'queued' RETURNING id",
            )
            .bind(now)
            .fetch_optional(&mut *c)
            .await?;
            match id {
                Some(id) => fetch_job(c, id).await,
                None => Ok(None),
            }
        })
        .await
    }

    async fn note_print_progress(&self, id: i64, done_labels: i64) -> Result<(), StoreError> {
        self.write(async |c| {
            sqlx::query(
                "UPDATE print_jobs SET done_labels = $1 WHERE id = $2 AND state = 'running'",
            )
            .bind(done_labels)
            .bind(id)
            .execute(&mut *c)
            .await?;
            Ok(())
        })
        .await
    }

    async fn finish_print_job(
        &self,
        id: i64,
        outcome: Result<(String, i64), String>,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write(async |c| {
            let query = match &outcome {
                Ok((file_name, bytes)) => sqlx::query(
                    "UPDATE print_jobs SET state = 'done', done_labels = total_labels, \
                     file_name = $1, file_bytes = $2, finished_at = $3, expires_at = $4 \
                     WHERE id = $5",
                )
                .bind(file_name)
                .bind(*bytes)
                .bind(now)
                .bind(expires_at)
                .bind(id),
                Err(error) => sqlx::query(
                    "UPDATE print_jobs SET state = 'failed', error = $1, finished_at = $2 \
                     WHERE id = $3",
                )
                .bind(error)
                .bind(now)
                .bind(id),
            };
            query.execute(&mut *c).await?;
            Ok(())
        })
        .await
    }

    async fn requeue_running_print_jobs(&self) -> Result<u64, StoreError> {
        self.write(async |c| {
            Ok(sqlx::query(
                "UPDATE print_jobs SET state = 'queued', done_labels = 0, started_at = NULL \
                 WHERE state = 'running'",
            )
            .execute(&mut *c)
            .await?
            .rows_affected())
        })
        .await
    }

    async fn requeue_print_job(&self, id: i64) -> Result<(), StoreError> {
        self.write(async |c| {
            sqlx::query(
                "UPDATE print_jobs SET state = 'queued', done_labels = 0, started_at = NULL \
                 WHERE id = $1 AND state = 'running'",
            )
            .bind(id)
            .execute(&mut *c)
            .await?;
            Ok(())
        })
        .await
    }

    async fn expire_print_jobs(&self, now: DateTime<Utc>) -> Result<Vec<PrintJob>, StoreError> {
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "{JOB_SELECT} WHERE state = 'done' AND expires_at < $1 ORDER BY id"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let expired = convert_all::<JobRow, PrintJob>(rows)?;
        for job in &expired {
            self.write(async |c| {
                sqlx::query("UPDATE print_jobs SET state = 'expired' WHERE id = $1")
                    .bind(job.id)
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
            .await?;
        }
        Ok(expired)
    }
}
