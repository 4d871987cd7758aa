//! Recalls through the API: open one over lots with GS1's fields, read it, close it.

use axum::Json;
use axum::extract::State;
use axum_extra::extract::WithRejection;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiResult, Body, Id, created, ok};
use crate::app::recalls;
use crate::domain::recall::{Recall, RecallInput};
use crate::web::AppState;
use crate::web::auth::ApiCaller;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_recall))
        .routes(routes!(recall))
        .routes(routes!(close_recall))
}

/// Opens a recall over lots: the next scan of any of their labels shows the recall.
#[utoipa::path(post, path = "/api/v1/recalls", tag = "lots",
    request_body = RecallInput,
    responses((status = CREATED, description = "The recall as stored", body = Recall))
)]
async fn open_recall(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Json(input), _): Body<RecallInput>,
) -> ApiResult {
    created(recalls::open(&s.app, &caller, &input.validate()?).await?)
}

#[utoipa::path(get, path = "/api/v1/recalls/{id}", tag = "lots",
    params(("id" = i64, Path, description = "Recall id")),
    responses((status = OK, description = "The recall", body = Recall))
)]
async fn recall(ApiCaller(caller): ApiCaller, State(s): State<AppState>, id: Id) -> ApiResult {
    ok(recalls::readable(&s.app, &caller, id.0.0).await?)
}

#[derive(Deserialize, ToSchema)]
struct CloseInput {
    /// Why the recall ends (the lots are off the shelves, the finding was wrong…).
    note: String,
}

/// Closes a recall: its lots' labels no longer read as recalled; the recall stays.
#[utoipa::path(post, path = "/api/v1/recalls/{id}/close", tag = "lots",
    params(("id" = i64, Path, description = "Recall id")),
    request_body = CloseInput,
    responses((status = OK, description = "The closed recall", body = Recall))
)]
async fn close_recall(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(input), _): Body<CloseInput>,
) -> ApiResult {
    ok(recalls::close(&s.app, &caller, id.0.0, &input.note).await?)
}
