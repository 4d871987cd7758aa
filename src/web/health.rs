//! Probes for orchestrators and Prometheus: `/healthz` (the process answers), `/readyz`
//! (the database answers and is migrated), `/metrics`; and the published label keys.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/.well-known/truyxuat/keys.json", get(keys))
}

async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// How long `/readyz` waits for the database: an orchestrator asks often and must hear back.
const READINESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

async fn readyz(State(state): State<AppState>) -> Response {
    let backend = state.store.backend();
    let readiness =
        tokio::time::timeout(READINESS_TIMEOUT, state.store.readiness(state.clock.now()))
            .await
            .unwrap_or_else(|_| Err("the database did not answer within 2 seconds".into()));
    match readiness {
        Ok(()) => Json(json!({ "status": "ready", "database": backend })).into_response(),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "not ready", "database": backend })),
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// The public halves of the label keys, for offline verifiers.
async fn keys(State(state): State<AppState>) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.published_keys()),
    )
        .into_response()
}
