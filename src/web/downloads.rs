//! Label files handed to a browser or an integration: a print run rendered while the client
//! waits, or a finished print job's file, streamed from disk.

use std::path::Path;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::app::Caller;
use crate::app::labels::{self, PrintableBatch};
use crate::domain::batch::{IndexRange, LabelBatch};
use crate::domain::job::{PrintJob, PrintSpec};
use crate::domain::validation::{Invalid, Validator};
use crate::jobs;
use crate::render;
use crate::web::AppState;
use crate::web::error::AppError;

/// The most labels one run renders while the client waits (about a second of work); larger
/// runs are queued as print jobs (`crate::jobs`).
pub const DOWNLOAD_LIMIT: u32 = 20_000;

/// A print run as a form or a JSON body asks for it, before it is checked.
pub struct PrintRequest<'a> {
    pub format: &'a str,
    pub layout: &'a str,
    pub dpi: &'a str,
    /// `A..B` or `A..=B`; blank or absent for the whole batch.
    pub range: Option<&'a str>,
    pub calibration: bool,
    pub no_text: bool,
}

/// Checks a print request against its batch; every field's error at once.
pub fn print_spec(request: &PrintRequest, batch: &LabelBatch) -> Result<PrintSpec, Invalid> {
    let mut v = Validator::default();
    v.check("format", request.format.parse::<render::Format>());
    v.check("layout", request.layout.parse::<render::Layout>());
    let dpi = v.check(
        "dpi",
        request
            .dpi
            .trim()
            .parse::<u32>()
            .map_err(|_| "must be a whole number of dots per inch"),
    );
    let range = match request.range.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => v.check("range", r.parse::<IndexRange>()),
        None => Some(batch.all()),
    }
    .and_then(|r| v.check("range", r.within(batch.count)));
    v.finish()?;
    let (Some(dpi), Some(range)) = (dpi, range) else {
        // Not reached: a missing field was refused above.
        return Err(Invalid::field("form", "incomplete"));
    };
    Ok(PrintSpec {
        format: request.format.to_owned(),
        layout: request.layout.to_owned(),
        dpi,
        range,
        calibration: request.calibration,
        no_text: request.no_text,
    })
}

/// What a print request became.
pub enum Printed {
    /// The file, sent now.
    File(Response),
    /// A job to follow.
    Queued(PrintJob),
}

/// Prints `spec`: up to `DOWNLOAD_LIMIT` labels (or the calibration page) now, more as a
/// job for the worker.
pub async fn print(
    s: &AppState,
    caller: &Caller,
    printable: PrintableBatch,
    spec: &PrintSpec,
) -> Result<Printed, Refused> {
    if spec.range.len() > DOWNLOAD_LIMIT && !spec.calibration {
        let job = labels::order_print(&s.app, caller, printable.batch.id, spec).await?;
        s.print_jobs.ring();
        return Ok(Printed::Queued(job));
    }
    Ok(Printed::File(print_now(s, caller, printable, spec).await?))
}

/// Why a print run was not made.
pub enum Refused {
    /// The layout or format cannot print this batch (a label larger than the sheet, say).
    Layout(String),
    App(AppError),
}

impl<E: Into<AppError>> From<E> for Refused {
    fn from(e: E) -> Self {
        Refused::App(e.into())
    }
}

/// The media type of an Excel workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A workbook sent as a file to save as `name`.
pub fn xlsx(name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, XLSX.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub fn content_type(format: &str) -> &'static str {
    match format {
        "pdf" => "application/pdf",
        "csv" => "text/csv; charset=utf-8",
        _ => "application/zip",
    }
}

/// Renders `spec` of a batch now and sends the file. The file is written whole first (a
/// run that fails half-way answers an error, not half a PDF), its audit entry recorded, then
/// it is streamed from disk.
async fn print_now(
    s: &AppState,
    caller: &Caller,
    printable: PrintableBatch,
    spec: &PrintSpec,
) -> Result<Response, Refused> {
    let id = printable.batch.id;
    let job = jobs::print_job(spec, &printable).map_err(Refused::Layout)?;
    let base = s
        .settings
        .label_base()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let keyring = s.keyring.clone();
    let name = jobs::file_name(id, spec);
    let folder = tempfile::tempdir().map_err(|e| AppError::Internal(e.to_string()))?;
    let path = folder.path().join(&name);
    let started = crate::clock::Stopwatch::start();
    let range = spec.range;
    let rendered = tokio::task::spawn_blocking(move || {
        let done = std::sync::atomic::AtomicU64::new(0);
        jobs::render_labels(&printable, &keyring, &base, &job, range, &path, &done)
            .map(|summary| (summary, path))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let (summary, path) = match rendered {
        Ok(done) => done,
        Err(render::PrintError::Invalid(message)) => return Err(Refused::Layout(message)),
        Err(e) => return Err(AppError::Internal(e.to_string()).into()),
    };
    let record = labels::PrintRecord {
        range,
        format: spec.format.clone(),
        layout: spec.layout.clone(),
        calibration: spec.calibration,
    };
    labels::printed(&s.app, caller, id, &record).await?;
    tracing::info!(
        batch = id,
        labels = summary.labels,
        range = %range,
        ms = started.elapsed().as_millis() as u64,
        "labels printed"
    );
    // The open file outlives its folder, which is removed when `folder` drops.
    let response = send_file(&path, &name, content_type(&spec.format)).await?;
    drop(folder);
    Ok(response)
}

/// A finished print job's file.
pub async fn job_file(s: &AppState, job: &PrintJob) -> Result<Response, AppError> {
    let path = jobs::PrintWorker::path_of(&s.settings.print_folder(), job);
    let name = jobs::file_name(job.batch_id, &job.spec);
    send_file(&path, &name, content_type(&job.spec.format)).await
}

/// A file on disk as a download, streamed.
async fn send_file(path: &Path, name: &str, content_type: &str) -> Result<Response, AppError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| AppError::Internal(format!("{}: {e}", path.display())))?;
    let length = file
        .metadata()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .len();
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_LENGTH, length.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}
