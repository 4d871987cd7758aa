//! The audit log as a transparency log, on the web: the latest signed checkpoint, the
//! C2SP tlog-tiles (`/audit/tile/<L>/<N>[.p/<W>]`, public; `/audit/tile/entries/<N>…`, for
//! those who may read the log, with an API token), and inclusion and consistency proofs as
//! JSON in the transparency-dev/merkle test vectors' shape.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::AppState;
use super::error::{ApiError, AppError};
use crate::app::auditlog;
use crate::domain::tlog;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit/checkpoint", get(checkpoint))
        .route("/audit/tile/{*path}", get(tile))
        .route("/audit/proof/inclusion", get(inclusion))
        .route("/audit/proof/consistency", get(consistency))
}

/// A tile never changes once served (a wider one has another path).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

async fn checkpoint(State(s): State<AppState>) -> Result<Response, ApiError> {
    let latest = s.store.latest_checkpoint().await?;
    let Some(latest) = latest else {
        return Err(AppError::NotFound("checkpoint").into());
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        latest.note,
    )
        .into_response())
}

async fn tile(
    State(s): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tile = tlog::parse_tile_path(&path).ok_or(AppError::NotFound("tile"))?;
    let caller = if tile.is_data() {
        Some(crate::web::auth::bearer_caller(&s, &headers).await?)
    } else {
        None
    };
    let bytes = auditlog::tile(&s.app, caller.as_ref(), &tile)
        .await?
        .ok_or(AppError::NotFound("tile"))?;
    let cache = if tile.is_data() {
        "private, max-age=31536000, immutable"
    } else {
        IMMUTABLE
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
struct InclusionQuery {
    index: u64,
    tree_size: Option<u64>,
}

async fn inclusion(
    State(s): State<AppState>,
    query: Result<Query<InclusionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let proof = auditlog::inclusion(&s.app, q.index, q.tree_size).await?;
    Ok(axum::Json(proof).into_response())
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    size1: u64,
    size2: Option<u64>,
}

async fn consistency(
    State(s): State<AppState>,
    query: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let proof = auditlog::consistency(&s.app, q.size1, q.size2).await?;
    Ok(axum::Json(proof).into_response())
}
