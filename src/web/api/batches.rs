//! Label batches through the API: order (mint, once per `Idempotency-Key`), read, list,
//! activate and void ranges, and stream a batch's labels as CSV or NDJSON.

use std::io::Write;

use axum::Json;
use axum::body::Body as HttpBody;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum_extra::extract::WithRejection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiResult, Body, Id, Params, ok};
use crate::app::labels::{self, MintRequest, PrintRecord};
use crate::app::registry;
use crate::domain::batch::{IndexRange, LabelBatch, RangeChange, parse_profile};
use crate::domain::job::PrintJob;
use crate::domain::lot::Lot;
use crate::domain::scan::BatchScans;
use crate::domain::validation::Invalid;
use crate::render::Label;
use crate::render::files::{CSV_HEAD, csv_line};
use crate::web::AppState;
use crate::web::auth::ApiCaller;
use crate::web::downloads::{self, PrintRequest, Printed, Refused, print_spec};
use crate::web::error::AppError;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_batches, mint_batch))
        .routes(routes!(batch))
        .routes(routes!(batch_labels))
        .routes(routes!(activate_labels))
        .routes(routes!(void_labels))
        .routes(routes!(print_batch))
        .routes(routes!(print_job))
        .routes(routes!(print_job_file))
}

/// What to print: as `truyxuat print` takes it.
#[derive(Deserialize, ToSchema)]
struct PrintInput {
    #[serde(default = "default_format")]
    format: String,
    #[serde(default = "default_layout")]
    layout: String,
    #[serde(default = "default_dpi")]
    dpi: u32,
    /// `A..B` (B excluded); the whole batch when absent.
    #[serde(default)]
    range: Option<String>,
    #[serde(default)]
    calibration: bool,
    #[serde(default)]
    no_text: bool,
}

fn default_format() -> String {
    "pdf".into()
}
fn default_layout() -> String {
    "a4-5x8".into()
}
fn default_dpi() -> u32 {
    300
}

/// Prints a batch: up to 20,000 labels, the file itself (200); more, a print job (202,
/// `Location: /api/v1/jobs/{id}`) to follow until its `state` is `done`, then its `/file`.
#[utoipa::path(post, path = "/api/v1/batches/{id}/print", tag = "batches",
    params(("id" = i64, Path, description = "Batch id")),
    request_body = PrintInput,
    responses(
        (status = OK, description = "The file itself, for up to 20,000 labels", content(("application/pdf"), ("application/zip"), ("text/csv"))),
        (status = ACCEPTED, description = "A print job to follow at `Location` until it is done", body = PrintJob, headers(("Location" = String, description = "The job"))),
    )
)]
async fn print_batch(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(input), _): Body<PrintInput>,
) -> ApiResult {
    let id = id.0.0;
    let printable = labels::for_printing(&s.app, &caller, id).await?;
    let dpi = input.dpi.to_string();
    let request = PrintRequest {
        format: &input.format,
        layout: &input.layout,
        dpi: &dpi,
        range: input.range.as_deref(),
        calibration: input.calibration,
        no_text: input.no_text,
    };
    let spec = print_spec(&request, &printable.batch)?;
    match downloads::print(&s, &caller, printable, &spec).await {
        Ok(Printed::File(response)) => Ok(response),
        Ok(Printed::Queued(job)) => {
            let location = format!("/api/v1/jobs/{}", job.id);
            let mut response = (StatusCode::ACCEPTED, Json(job)).into_response();
            if let Ok(location) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        Err(Refused::Layout(m)) => Err(Invalid::field("layout", m).into()),
        Err(Refused::App(e)) => Err(e.into()),
    }
}

/// A print job the caller may see: one of a batch whose labels they may print.
async fn readable_job(
    s: &AppState,
    caller: &crate::app::Caller,
    id: i64,
) -> Result<crate::domain::job::PrintJob, AppError> {
    let job = s
        .store
        .print_job(id)
        .await?
        .ok_or(AppError::NotFound("print job"))?;
    labels::for_printing(&s.app, caller, job.batch_id).await?;
    Ok(job)
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = i64, Path, description = "Print job id")),
    responses((status = OK, description = "The job and its progress", body = PrintJob))
)]
async fn print_job(ApiCaller(caller): ApiCaller, State(s): State<AppState>, id: Id) -> ApiResult {
    ok(readable_job(&s, &caller, id.0.0).await?)
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}/file", tag = "jobs",
    params(("id" = i64, Path, description = "Print job id")),
    responses((status = OK, description = "The printed file of a done job", content(("application/pdf"), ("application/zip"), ("text/csv"))))
)]
async fn print_job_file(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
) -> ApiResult {
    let job = readable_job(&s, &caller, id.0.0).await?;
    if job.state != crate::domain::job::JobState::Done {
        return Err(AppError::NotFound("print file").into());
    }
    Ok(downloads::job_file(&s, &job).await?)
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct MintInput {
    pub product_id: i64,
    #[schema(minimum = 1)]
    pub count: u32,
    #[serde(default)]
    pub lot: Option<String>,
    /// `compact` (the default) or `offline`.
    #[serde(default)]
    pub profile: Option<String>,
}

/// Mints a batch of labels (one row, whatever the count). With an `Idempotency-Key`
/// header, the same key and order give the same batch however often they are sent (the
/// repeats say `Idempotent-Replayed: true`), and the same key with another order is 422.
#[utoipa::path(post, path = "/api/v1/batches", tag = "batches",
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key and order give the same batch; another order with it is 422")),
    request_body = MintInput,
    responses((status = CREATED, description = "The batch (or, for a repeated key, the batch it made)", body = LabelBatch, headers(("Location" = String, description = "The batch"), ("Idempotent-Replayed" = String, description = "`true` on a repeat"))))
)]
async fn mint_batch(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    headers: HeaderMap,
    WithRejection(Json(input), _): Body<MintInput>,
) -> ApiResult {
    let profile = parse_profile(input.profile.as_deref().unwrap_or("compact"))
        .map_err(|e| Invalid::field("profile", e))?;
    let request = MintRequest {
        product_id: input.product_id,
        count: input.count,
        lot: input.lot,
        profile,
    };
    let key =
        match headers.get("idempotency-key") {
            Some(value) => Some(value.to_str().map_err(|_| {
                Invalid::field("Idempotency-Key", "must be visible ASCII characters")
            })?),
            None => None,
        };
    let minted = labels::mint_with_key(
        &s.app,
        &caller,
        &s.keyring,
        &request,
        s.settings.max_batch,
        key,
    )
    .await?;
    let location = format!("/api/v1/batches/{}", minted.batch.id);
    let mut response = (StatusCode::CREATED, Json(minted.batch)).into_response();
    let h = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&location) {
        h.insert(header::LOCATION, location);
    }
    if minted.replayed {
        h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// A batch with what a cooperative asks about it.
#[derive(Serialize, ToSchema)]
struct BatchView {
    #[serde(flatten)]
    batch: LabelBatch,
    lot: Option<Lot>,
    scans: BatchScans,
    /// Activations and voids, oldest first (at most `CHANGES_SHOWN`).
    changes: Vec<RangeChange>,
}

const CHANGES_SHOWN: usize = 1000;

/// The batch, or 404; refused (403) to those who may not read its producer's records.
async fn readable_batch(
    s: &AppState,
    caller: &crate::app::Caller,
    id: i64,
) -> Result<LabelBatch, AppError> {
    let batch = s
        .store
        .batch(id)
        .await?
        .ok_or(AppError::NotFound("batch"))?;
    let product = s
        .store
        .product(batch.product_id)
        .await?
        .ok_or(AppError::NotFound("batch"))?;
    registry::require_readable(&s.app, caller, product.data.producer_id).await?;
    Ok(batch)
}

#[utoipa::path(get, path = "/api/v1/batches/{id}", tag = "batches",
    params(("id" = i64, Path, description = "Batch id")),
    responses((status = OK, description = "The batch, its lot, scans and range changes", body = BatchView))
)]
async fn batch(ApiCaller(caller): ApiCaller, State(s): State<AppState>, id: Id) -> ApiResult {
    let batch = readable_batch(&s, &caller, id.0.0).await?;
    let lot = match batch.lot_id {
        Some(lot) => s.store.lot(lot).await?,
        None => None,
    };
    ok(BatchView {
        scans: s.store.batch_scans(batch.id).await?,
        changes: s.store.label_changes(batch.id, CHANGES_SHOWN).await?,
        lot,
        batch,
    })
}

/// `?limit=&before=`: a page of batches, newest first, and the cursor to the next.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct BatchPage {
    limit: Option<usize>,
    /// Only batches with a smaller id (the `next` link carries it).
    before: Option<i64>,
    product_id: Option<i64>,
}

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 500;

/// The batches the caller may read, newest first, a page at a time; the next page is in
/// the `Link: <…>; rel="next"` header.
#[utoipa::path(get, path = "/api/v1/batches", tag = "batches",
    params(BatchPage),
    responses((status = OK, description = "A page of batches, newest first", body = Vec<LabelBatch>, headers(("Link" = String, description = "`<…>; rel=\"next\"` while there are more"))))
)]
async fn list_batches(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Query(p), _): Params<BatchPage>,
) -> ApiResult {
    let limit = p.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let readable: Vec<i64> = registry::readable_organizations(&s.app, &caller)
        .await?
        .iter()
        .map(|o| o.id)
        .collect();
    let mut producers = std::collections::HashMap::new();
    let mut page = Vec::new();
    let mut more = false;
    for batch in s.store.list_batches(p.product_id).await? {
        if p.before.is_some_and(|before| batch.id >= before) {
            continue;
        }
        let producer = match producers.get(&batch.product_id) {
            Some(p) => *p,
            None => {
                let product = s.store.product(batch.product_id).await?;
                let producer = product.map_or(0, |p| p.data.producer_id);
                producers.insert(batch.product_id, producer);
                producer
            }
        };
        if !readable.contains(&producer) {
            continue;
        }
        if page.len() == limit {
            more = true;
            break;
        }
        page.push(batch);
    }
    let mut response = Json(&page).into_response();
    if more && let Some(last) = page.last() {
        let mut next = format!("/api/v1/batches?limit={limit}&before={}", last.id);
        if let Some(product) = p.product_id {
            next.push_str(&format!("&product_id={product}"));
        }
        if let Ok(link) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
            response.headers_mut().insert(header::LINK, link);
        }
    }
    Ok(response)
}

/// `?format=csv|ndjson&range=A..B`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LabelsParams {
    format: Option<String>,
    range: Option<String>,
}

/// Streams a batch's labels (index, serial, URI) as CSV (the default) or NDJSON, for a
/// printing house's own software. Taking the URIs is printing: `labels.print`, and an audit
/// entry saying who took which labels.
#[utoipa::path(get, path = "/api/v1/batches/{id}/labels", tag = "batches",
    params(("id" = i64, Path, description = "Batch id"), LabelsParams),
    responses((status = OK, description = "Index, serial and URI of each label", content(("text/csv"), ("application/x-ndjson"))))
)]
async fn batch_labels(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Query(p), _): Params<LabelsParams>,
) -> ApiResult {
    let id = id.0.0;
    let printable = labels::for_printing(&s.app, &caller, id).await?;
    let ndjson = match p.format.as_deref().unwrap_or("csv") {
        "csv" => false,
        "ndjson" => true,
        other => {
            let message = format!("'{other}' is not a format here: use csv or ndjson");
            return Err(Invalid::field("format", message).into());
        }
    };
    let range = match p.range.as_deref() {
        Some(r) => r
            .parse::<IndexRange>()
            .map_err(|e| Invalid::field("range", e))?,
        None => printable.batch.all(),
    };
    let range = range
        .within(printable.batch.count)
        .map_err(|e| Invalid::field("range", e))?;
    let base = s
        .settings
        .label_base()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let keyring = s.keyring.clone();
    // The batch's key must be here before anything is recorded or sent.
    let first = IndexRange {
        first: range.first,
        end: range.first + 1,
    };
    printable.for_each_uri(&keyring, &base, first, |_, _, _| {
        Ok::<(), crate::store::StoreError>(())
    })?;
    let format = if ndjson { "ndjson" } else { "csv" };
    let record = PrintRecord {
        range,
        format: format.into(),
        layout: String::new(),
        calibration: false,
    };
    labels::printed(&s.app, &caller, id, &record).await?;

    // The labels are written by a blocking task into a pipe the response reads: memory
    // stays at the pipe's size however large the batch, and a client that goes away
    // ends the task at its next write.
    let (writer, reader) = tokio::io::duplex(64 * 1024);
    tokio::task::spawn_blocking(move || {
        let mut out = std::io::BufWriter::new(tokio_util::io::SyncIoBridge::new(writer));
        let mut line = String::with_capacity(256);
        let header: &[u8] = if ndjson { b"" } else { CSV_HEAD.as_bytes() };
        let written = out
            .write_all(header)
            .map_err(anyhow::Error::from)
            .and_then(|()| {
                printable.for_each_uri(
                    &keyring,
                    &base,
                    range,
                    |index, serial, uri| -> anyhow::Result<()> {
                        line.clear();
                        let label = Label {
                            index,
                            serial: serial.as_str().to_owned(),
                            uri: uri.to_owned(),
                        };
                        if ndjson {
                            line.push_str(&label_json(&label).to_string());
                            line.push('\n');
                        } else {
                            csv_line(&label, &mut line);
                        }
                        Ok(out.write_all(line.as_bytes())?)
                    },
                )
            });
        let flushed = written.and_then(|()| Ok(out.flush()?));
        if let Err(e) = flushed {
            tracing::info!(batch = id, error = %e, "label stream ended early");
        }
    });
    let content_type = if ndjson {
        "application/x-ndjson"
    } else {
        "text/csv; charset=utf-8"
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        HttpBody::from_stream(tokio_util::io::ReaderStream::new(reader)),
    )
        .into_response())
}

fn label_json(label: &Label) -> serde_json::Value {
    serde_json::json!({"index": label.index, "serial": label.serial, "uri": label.uri})
}

/// Labels of a batch, all of them unless `range` (`A..B`, B excluded) says which.
#[derive(Deserialize, ToSchema)]
struct RangeInput {
    #[serde(default)]
    range: Option<String>,
    /// The lot to activate them with.
    #[serde(default)]
    lot: Option<String>,
}

impl RangeInput {
    fn range(&self) -> Result<Option<IndexRange>, Invalid> {
        self.range
            .as_deref()
            .map(|r| r.parse().map_err(|e| Invalid::field("range", e)))
            .transpose()
    }
}

#[utoipa::path(post, path = "/api/v1/batches/{id}/activate", tag = "batches",
    params(("id" = i64, Path, description = "Batch id")),
    request_body = RangeInput,
    responses((status = OK, description = "The range now activated with the lot", body = RangeChange))
)]
async fn activate_labels(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(input), _): Body<RangeInput>,
) -> ApiResult {
    let range = input.range()?;
    let lot = input
        .lot
        .as_deref()
        .ok_or_else(|| Invalid::field("lot", "must be given"))?;
    ok(labels::activate(&s.app, &caller, id.0.0, lot, range).await?)
}

#[utoipa::path(post, path = "/api/v1/batches/{id}/void", tag = "batches",
    params(("id" = i64, Path, description = "Batch id")),
    request_body = RangeInput,
    responses((status = OK, description = "The range now void", body = RangeChange))
)]
async fn void_labels(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(input), _): Body<RangeInput>,
) -> ApiResult {
    ok(labels::void(&s.app, &caller, id.0.0, input.range()?).await?)
}
