//! The JSON API under `/api/v1`: the registry and the labels for machines. Every route
//! needs an API token and shows or changes only what its role may; errors are problem+json.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::WithRejection;
use serde::Deserialize;
use serde_json::json;

use crate::app::labels;
use crate::app::{Caller, registry};
use crate::domain::bundle::BundleInput;
use crate::domain::certification::{CertStatus, CertificationInput};
use crate::domain::lot::LotInput;
use crate::domain::organization::OrganizationInput;
use crate::domain::product::ProductInput;
use crate::domain::validation::Validator;
use crate::store::ListQuery;
use crate::web::AppState;
use crate::web::auth::{self, ApiCaller};
use crate::web::error::{ApiError, AppError};

mod batches;
mod imports;

type ApiResult = Result<Response, ApiError>;
type Body<T> = WithRejection<Json<T>, ApiError>;
type Params<T> = WithRejection<Query<T>, ApiError>;
type Id = WithRejection<Path<i64>, ApiError>;

/// Largest evidence document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/organizations",
            get(list_organizations).post(create_organization),
        )
        .route(
            "/api/v1/organizations/{id}",
            get(organization).put(update_organization),
        )
        .route(
            "/api/v1/organizations/{id}/suspend",
            post(suspend_organization),
        )
        .route(
            "/api/v1/organizations/{id}/reinstate",
            post(reinstate_organization),
        )
        .route("/api/v1/products", get(list_products).post(create_product))
        .route("/api/v1/products/{id}", get(product).put(update_product))
        .route(
            "/api/v1/certifications",
            get(list_certifications).post(create_certification),
        )
        .route(
            "/api/v1/certifications/{id}",
            get(certification).put(update_certification),
        )
        .route(
            "/api/v1/certifications/{id}/status",
            post(set_certification_status),
        )
        .route("/api/v1/lots", get(list_lots).post(create_lot))
        .route("/api/v1/lots/{id}", get(lot).put(update_lot))
        .route("/api/v1/lots/{id}/recall", post(recall_lot))
        .merge(batches::router())
        .merge(imports::router())
        .route("/api/v1/documents", post(put_document))
        .route("/api/v1/documents/{sha256}", get(document))
        .route("/api/v1/import", post(import))
        .route("/api/v1/reports", get(list_reports))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_DOCUMENT_BYTES))
        // Every route needs a valid API token.
        .route_layer(axum::middleware::from_fn_with_state(state, auth::api_token))
}

/// `?q=&limit=&offset=` and the filters some lists take.
#[derive(Debug, Default, Deserialize)]
struct ListParams {
    q: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
    producer_id: Option<i64>,
    product_id: Option<i64>,
}

impl ListParams {
    fn query(&self) -> ListQuery {
        ListQuery {
            search: self.q.clone(),
            limit: self.limit,
            offset: self.offset,
        }
    }
}

fn ok(value: impl serde::Serialize) -> ApiResult {
    Ok(Json(value).into_response())
}

fn created(value: impl serde::Serialize) -> ApiResult {
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

fn found<T: serde::Serialize>(value: Option<T>, what: &'static str) -> ApiResult {
    ok(value.ok_or(AppError::NotFound(what))?)
}

async fn list_organizations(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Query(p), _): Params<ListParams>,
) -> ApiResult {
    let readable = readable_ids(&s, &caller).await?;
    let organizations: Vec<_> = (s.store.list_organizations(&p.query()).await?)
        .into_iter()
        .filter(|o| readable.contains(&o.id))
        .collect();
    ok(organizations)
}

/// The ids of the organizations whose records `caller` may read.
async fn readable_ids(s: &AppState, caller: &Caller) -> Result<Vec<i64>, ApiError> {
    Ok(registry::readable_organizations(&s.app, caller)
        .await?
        .iter()
        .map(|o| o.id)
        .collect())
}

async fn create_organization(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Json(input), _): Body<OrganizationInput>,
) -> ApiResult {
    created(registry::create_organization(&s.app, &caller, &input.validate()?).await?)
}

async fn organization(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
) -> ApiResult {
    registry::require_readable(&s.app, &caller, id.0.0).await?;
    found(s.store.organization(id.0.0).await?, "organization")
}

async fn update_organization(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(input), _): Body<OrganizationInput>,
) -> ApiResult {
    ok(registry::update_organization(&s.app, &caller, id.0.0, &input.validate()?).await?)
}

#[derive(Deserialize)]
struct SuspendInput {
    reason: String,
}

/// Suspends a producer: its people may then only read its records.
async fn suspend_organization(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(input), _): Body<SuspendInput>,
) -> ApiResult {
    ok(registry::set_suspension(&s.app, &caller, id.0.0, Some(&input.reason)).await?)
}

async fn reinstate_organization(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
) -> ApiResult {
    ok(registry::set_suspension(&s.app, &caller, id.0.0, None).await?)
}

async fn list_products(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Query(p), _): Params<ListParams>,
) -> ApiResult {
    let readable = readable_ids(&s, &caller).await?;
    let products: Vec<_> = (s.store.list_products(&p.query(), p.producer_id).await?)
        .into_iter()
        .filter(|p| readable.contains(&p.data.producer_id))
        .collect();
    ok(products)
}

async fn create_product(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Json(input), _): Body<ProductInput>,
) -> ApiResult {
    created(registry::create_product(&s.app, &caller, &input.validate()?).await?)
}

async fn product(ApiCaller(caller): ApiCaller, State(s): State<AppState>, id: Id) -> ApiResult {
    let product = s
        .store
        .product(id.0.0)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    registry::require_readable(&s.app, &caller, product.data.producer_id).await?;
    ok(product)
}

async fn update_product(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(input), _): Body<ProductInput>,
) -> ApiResult {
    ok(registry::update_product(&s.app, &caller, id.0.0, &input.validate()?).await?)
}

async fn list_certifications(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Query(p), _): Params<ListParams>,
) -> ApiResult {
    let readable = readable_ids(&s, &caller).await?;
    let certs: Vec<_> = (s
        .store
        .list_certifications(&p.query(), p.product_id)
        .await?)
        .into_iter()
        .filter(|c| readable.contains(&c.data.holder_id))
        .collect();
    ok(certs)
}

async fn create_certification(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Json(input), _): Body<CertificationInput>,
) -> ApiResult {
    created(registry::create_certification(&s.app, &caller, &input.validate()?).await?)
}

async fn certification(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
) -> ApiResult {
    let cert = (s.store.certification(id.0.0).await?).ok_or(AppError::NotFound("certification"))?;
    registry::require_readable(&s.app, &caller, cert.data.holder_id).await?;
    ok(cert)
}

async fn update_certification(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(input), _): Body<CertificationInput>,
) -> ApiResult {
    let cert = input.validate()?;
    ok(registry::update_certification(&s.app, &caller, id.0.0, &cert).await?)
}

#[derive(Deserialize)]
struct StatusChange {
    status: CertStatus,
}

async fn set_certification_status(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(change), _): Body<StatusChange>,
) -> ApiResult {
    ok(registry::set_certification_status(&s.app, &caller, id.0.0, change.status).await?)
}

async fn list_lots(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Query(p), _): Params<ListParams>,
) -> ApiResult {
    let readable = readable_ids(&s, &caller).await?;
    let mut lots = Vec::new();
    for lot in s.store.list_lots(&p.query(), p.product_id).await? {
        let producer = s
            .store
            .product(lot.data.product_id)
            .await?
            .map(|p| p.data.producer_id);
        if producer.is_some_and(|id| readable.contains(&id)) {
            lots.push(lot);
        }
    }
    ok(lots)
}

async fn create_lot(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Json(input), _): Body<LotInput>,
) -> ApiResult {
    created(registry::create_lot(&s.app, &caller, &input.validate()?).await?)
}

async fn lot(ApiCaller(caller): ApiCaller, State(s): State<AppState>, id: Id) -> ApiResult {
    let lot = s
        .store
        .lot(id.0.0)
        .await?
        .ok_or(AppError::NotFound("lot"))?;
    let product = (s.store.product(lot.data.product_id).await?).ok_or(AppError::NotFound("lot"))?;
    registry::require_readable(&s.app, &caller, product.data.producer_id).await?;
    ok(lot)
}

async fn update_lot(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(input), _): Body<LotInput>,
) -> ApiResult {
    ok(registry::update_lot(&s.app, &caller, id.0.0, &input.validate()?).await?)
}

#[derive(Deserialize)]
struct RecallInput {
    reason: String,
}

/// Recalls a lot: every label on it then reads as recalled.
async fn recall_lot(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(input), _): Body<RecallInput>,
) -> ApiResult {
    let lot = s
        .store
        .lot(id.0.0)
        .await?
        .ok_or(AppError::NotFound("lot"))?;
    let recalled = labels::recall(
        &s.app,
        &caller,
        lot.data.product_id,
        &lot.data.code,
        &input.reason,
    )
    .await?;
    ok(recalled)
}

#[derive(Deserialize)]
struct DocumentParams {
    name: Option<String>,
}

/// Stores the request body as an evidence document; answers its SHA-256.
async fn put_document(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Query(p), _): Params<DocumentParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    if body.is_empty() {
        return Err(AppError::BadRequest("the document is empty".into()).into());
    }
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    // The application layer judges the content against the declared type.
    let mut v = Validator::default();
    let name = v.optional_text("name", p.name.as_deref(), 200);
    v.finish()?;
    let sha256 =
        registry::store_document(&s.app, &caller, &body, media_type, name.as_deref()).await?;
    created(json!({ "sha256": sha256, "size_bytes": body.len() }))
}

/// A stored document, for anyone signed in: documents are addressed by their content, and
/// whoever holds a SHA-256 has seen the certificate that names it.
async fn document(
    _: ApiCaller,
    State(s): State<AppState>,
    WithRejection(Path(sha256), _): WithRejection<Path<String>, ApiError>,
) -> ApiResult {
    // Only a SHA-256 in hex can name a document; anything else is not looked up.
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound("document").into());
    }
    let doc = s
        .store
        .document(&sha256)
        .await?
        .ok_or(AppError::NotFound("document"))?;
    Ok((
        [
            (header::CONTENT_TYPE, doc.media_type),
            (header::ETAG, format!("\"{}\"", doc.sha256)),
        ],
        doc.content,
    )
        .into_response())
}

/// Shoppers' problem reports, newest first (`?product_id=` for one product's).
async fn list_reports(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Query(p), _): Params<ListParams>,
) -> ApiResult {
    let readable = readable_ids(&s, &caller).await?;
    let mut reports = Vec::new();
    for report in s.store.list_reports(&p.query(), p.product_id).await? {
        let producer = match report.product_id {
            Some(id) => s.store.product(id).await?.map(|p| p.data.producer_id),
            None => None,
        };
        // A report about no product (a forged label) is for the province's inspectors.
        let readable = match producer {
            Some(id) => readable.contains(&id),
            None => caller.actor.may(
                "registry.read",
                &crate::app::permissions::Target::everything(),
            ),
        };
        if readable {
            reports.push(report);
        }
    }
    ok(reports)
}

/// Imports a whole bundle: every entity or none.
async fn import(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Json(input), _): Body<BundleInput>,
) -> ApiResult {
    let bundle = input.validate()?;
    created(registry::import(&s.app, &caller, &bundle, None).await?)
}
