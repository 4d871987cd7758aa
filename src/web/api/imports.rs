//! A producer's spreadsheet through the API: the body is the XLSX or CSV file itself.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum_extra::extract::WithRejection;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiResult, Params, ok};
use crate::app::imports::{self, Options};
use crate::domain::validation::{FieldError, Invalid};
use crate::sheets;
use crate::web::AppState;
use crate::web::auth::ApiCaller;
use crate::web::downloads;
use crate::web::error::AppError;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_sheet))
        .routes(routes!(template))
        .routes(routes!(export))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::web::auth::MAX_UPLOAD,
        ))
}

/// `?producer_id=&dry_run=&valid_rows_only=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportParams {
    /// The producer whose products and lots the file lists.
    producer_id: i64,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    valid_rows_only: bool,
}

/// Imports a producer's products and lots from an XLSX (or, with `Content-Type: text/csv`,
/// a CSV) body. What it found and did is answered as JSON; a file refused whole is a 422
/// problem whose errors name each cell as `Sheet!B14`.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports",
    params(ImportParams),
    request_body(description = "The spreadsheet itself", content(("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), ("text/csv"))),
    responses((status = OK, description = "What the file holds and what was done with it", body = imports::Outcome))
)]
async fn import_sheet(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Query(p), _): Params<ImportParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/csv"));
    let file = if csv {
        sheets::read_csv(&body)
    } else {
        sheets::read_xlsx(&body)
    }
    .map_err(|e| AppError::Invalid(Invalid::field("body", e.to_string())))?;
    let options = Options {
        dry_run: p.dry_run,
        valid_rows_only: p.valid_rows_only,
    };
    let outcome = imports::import_sheets(&s.app, &caller, p.producer_id, &file, options).await?;
    if !outcome.stored && !p.dry_run && !outcome.errors.is_empty() {
        let errors = outcome
            .errors
            .iter()
            .map(|e| {
                let column = e.column.split(' ').next().unwrap_or_default();
                FieldError {
                    field: format!("{}!{column}{}", e.sheet, e.row),
                    ..e.refusal.clone()
                }
            })
            .collect();
        return Err(AppError::Invalid(Invalid { errors }).into());
    }
    ok(outcome)
}

/// The spreadsheet to fill: a sheet a kind, a header, a description and an example row the
/// import skips, dropdowns for every listed column.
#[utoipa::path(get, path = "/api/v1/imports/template", tag = "imports",
    responses((status = OK, description = "The template workbook", content(("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))))
)]
async fn template(State(s): State<AppState>, _: ApiCaller) -> ApiResult {
    let bytes = imports::template(&s.app).await?;
    Ok(downloads::xlsx("truyxuat-mau-nhap.xlsx", bytes))
}

/// `?producer_id=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportParams {
    /// The producer whose registry to export.
    producer_id: i64,
}

/// A producer's products and lots as a workbook that imports back without a difference.
#[utoipa::path(get, path = "/api/v1/exports", tag = "imports",
    params(ExportParams),
    responses((status = OK, description = "The producer's registry as a workbook", content(("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))))
)]
async fn export(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Query(p), _): Params<ExportParams>,
) -> ApiResult {
    let bytes = imports::export(&s.app, &caller, p.producer_id).await?;
    Ok(downloads::xlsx(
        &format!("truyxuat-{}.xlsx", p.producer_id),
        bytes,
    ))
}
