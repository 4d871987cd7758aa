//! Excel in and out in the console: the template to fill in, a check (dry run) that shows
//! every error with its sheet, row and column and offers them as a workbook to fix, the
//! import itself (all or nothing, or the valid rows), and the producer's records as a
//! workbook that imports back without a difference.

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum_extra::extract::WithRejection;
use base64::Engine;
use serde::Deserialize;

use super::{PageResult, readable_organizations};
use crate::app::imports::{self, Counts, Options};
use crate::app::permissions::Target;
use crate::domain::organization::Organization;
use crate::sheets;
use crate::web::AppState;
use crate::web::auth::{MAX_UPLOAD, Signed};
use crate::web::downloads::{self, XLSX};
use crate::web::error::{AppError, PageError};
use crate::web::layout::{Layout, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/import", get(form).post(upload))
        .route("/console/import/template.xlsx", get(template))
        .route("/console/import/export.xlsx", get(export))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD))
}

/// The producers whose products and lots the person may import.
async fn importable(s: &AppState, signed: &Signed) -> Result<Vec<Organization>, PageError> {
    Ok(readable_organizations(s, signed)
        .await?
        .into_iter()
        .filter(|o| {
            let target = Target::of(o);
            o.data.kind.is_producer()
                && [
                    "product.create",
                    "product.update",
                    "lot.create",
                    "lot.update",
                ]
                .iter()
                .all(|a| signed.caller.actor.may(a, &target))
        })
        .collect())
}

#[derive(Template)]
#[template(path = "console/import.html")]
struct ImportPage {
    layout: Layout,
    csrf: String,
    producers: Vec<Organization>,
    chosen: Option<i64>,
    /// The file's name and what the check or import found, once a file is sent.
    result: Option<ImportResult>,
    /// A message for the file as a whole (unreadable, none chosen).
    problem: Option<String>,
}

struct ImportResult {
    file_name: String,
    checked_only: bool,
    stored: bool,
    created: Counts,
    updated: Counts,
    unchanged: Counts,
    errors: Vec<ShownError>,
    /// The refused rows as a workbook, as a data: URL to download.
    error_file: Option<String>,
}

/// A refused cell as the page shows it, in the page's language.
struct ShownError {
    sheet: &'static str,
    row: u32,
    column: String,
    message: String,
}

async fn page(
    s: &AppState,
    signed: &Signed,
    chosen: Option<i64>,
    result: Option<ImportResult>,
    problem: Option<String>,
) -> PageResult {
    let producers = importable(s, signed).await?;
    let chosen = chosen.or_else(|| producers.first().map(|p| p.id));
    let status = if problem.is_some() || result.as_ref().is_some_and(|r| !r.errors.is_empty()) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let layout = Layout::new(signed.lang, "", "/console/import");
    let page = render(&ImportPage {
        layout: Layout {
            title: layout.t.imports.title.to_owned(),
            ..layout
        },
        csrf: signed.csrf.clone(),
        producers,
        chosen,
        result,
        problem,
    })?;
    Ok((status, page).into_response())
}

async fn form(signed: Signed, State(s): State<AppState>) -> PageResult {
    page(&s, &signed, None, None, None).await
}

/// What the upload form sent.
#[derive(Default)]
struct Upload {
    producer_id: Option<i64>,
    file_name: String,
    bytes: Vec<u8>,
    import: bool,
    valid_rows_only: bool,
}

async fn read_upload(mut multipart: Multipart) -> Result<Upload, AppError> {
    let mut upload = Upload::default();
    let bad = |e: axum::extract::multipart::MultipartError| AppError::BadRequest(e.body_text());
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "file" => {
                upload.file_name = field.file_name().unwrap_or_default().to_owned();
                upload.bytes = field.bytes().await.map_err(bad)?.to_vec();
            }
            "producer_id" => {
                upload.producer_id = field.text().await.map_err(bad)?.trim().parse().ok()
            }
            "action" => upload.import = field.text().await.map_err(bad)? == "import",
            "valid_rows_only" => upload.valid_rows_only = true,
            _ => {}
        }
    }
    Ok(upload)
}

/// Checks (and, when asked, imports) the sent file, then shows what was found.
async fn upload(
    signed: Signed,
    State(s): State<AppState>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult {
    let multipart = multipart.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let upload = read_upload(multipart).await?;
    let t = signed.lang.texts().imports;
    let Some(producer) = upload.producer_id else {
        return page(&s, &signed, None, None, Some(t.choose_producer.into())).await;
    };
    if upload.bytes.is_empty() {
        return page(
            &s,
            &signed,
            Some(producer),
            None,
            Some(t.choose_file.into()),
        )
        .await;
    }
    let is_csv = upload.file_name.to_ascii_lowercase().ends_with(".csv");
    let read = if is_csv {
        sheets::read_csv(&upload.bytes)
    } else {
        sheets::read_xlsx(&upload.bytes)
    };
    let file = match read {
        Ok(file) => file,
        Err(e) => return page(&s, &signed, Some(producer), None, Some(e.to_string())).await,
    };
    let options = Options {
        dry_run: !upload.import,
        valid_rows_only: upload.valid_rows_only,
    };
    let outcome = imports::import_sheets(&s.app, &signed.caller, producer, &file, options).await?;
    let error_file = if outcome.errors.is_empty() {
        None
    } else {
        let word = crate::web::rules::in_vietnamese;
        let bytes = imports::error_workbook(&s.app, &file, &outcome, &word).await?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        Some(format!("data:{XLSX};base64,{encoded}"))
    };
    let result = ImportResult {
        file_name: upload.file_name,
        checked_only: !upload.import,
        stored: outcome.stored,
        created: outcome.created,
        updated: outcome.updated,
        unchanged: outcome.unchanged,
        errors: outcome
            .errors
            .iter()
            .map(|e| ShownError {
                sheet: e.sheet,
                row: e.row,
                column: e.column.clone(),
                message: crate::web::rules::words(signed.lang, &e.refusal).into_owned(),
            })
            .collect(),
        error_file,
    };
    page(&s, &signed, Some(producer), Some(result), None).await
}

async fn template(State(s): State<AppState>, _: Signed) -> PageResult {
    let bytes = imports::template(&s.app).await?;
    Ok(downloads::xlsx("truyxuat-mau-nhap.xlsx", bytes))
}

#[derive(Deserialize)]
struct ExportParams {
    producer_id: i64,
}

async fn export(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Query(p), _): WithRejection<Query<ExportParams>, PageError>,
) -> PageResult {
    let bytes = imports::export(&s.app, &signed.caller, p.producer_id).await?;
    Ok(downloads::xlsx(
        &format!("truyxuat-{}.xlsx", p.producer_id),
        bytes,
    ))
}
