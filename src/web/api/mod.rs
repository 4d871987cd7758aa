//! The JSON API under `/api/v1`: the registry and the labels for machines. Every route
//! needs an API token and shows or changes only what its role may; errors are problem+json.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use axum_extra::extract::WithRejection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::labels;
use crate::app::{Caller, registry};
use crate::domain::bundle::{BundleInput, ImportSummary};
use crate::domain::certification::{CertStatus, Certification, CertificationInput};
use crate::domain::lot::{Lot, LotInput};
use crate::domain::organization::{Organization, OrganizationInput};
use crate::domain::product::{Product, ProductInput};
use crate::domain::scan::Report;
use crate::domain::validation::Validator;
use crate::store::ListQuery;
use crate::web::AppState;
use crate::web::auth::{self, ApiCaller};
use crate::web::error::{ApiError, AppError};

mod batches;
mod imports;
pub mod openapi;
mod recalls;

type ApiResult = Result<Response, ApiError>;
type Body<T> = WithRejection<Json<T>, ApiError>;
type Params<T> = WithRejection<Query<T>, ApiError>;
type Id = WithRejection<Path<i64>, ApiError>;

/// Largest evidence document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// The routes with their OpenAPI description, both from the handlers.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(list_organizations, create_organization))
        .routes(routes!(organization, update_organization))
        .routes(routes!(suspend_organization))
        .routes(routes!(reinstate_organization))
        .routes(routes!(list_products, create_product))
        .routes(routes!(product, update_product))
        .routes(routes!(put_product_photo))
        .routes(routes!(list_certifications, create_certification))
        .routes(routes!(certification, update_certification))
        .routes(routes!(set_certification_status))
        .routes(routes!(list_lots, create_lot))
        .routes(routes!(lot, update_lot))
        .routes(routes!(recall_lot))
        .merge(batches::routes())
        .merge(recalls::routes())
        .merge(imports::routes())
        .routes(routes!(put_document))
        .routes(routes!(document))
        .routes(routes!(import))
        .routes(routes!(list_reports))
}

pub fn router(state: AppState) -> Router<AppState> {
    let (router, _) = routes().split_for_parts();
    router
        .layer(axum::extract::DefaultBodyLimit::max(MAX_DOCUMENT_BYTES))
        // Every route needs a valid API token.
        .route_layer(axum::middleware::from_fn_with_state(state, auth::api_token))
}

/// The API's OpenAPI 3.1 document, as `/api/openapi.json` serves it.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut document = routes().into_openapi();
    document.merge(super::epcis::routes().into_openapi());
    // After the routes: the conventions apply to every operation.
    utoipa::Modify::modify(&openapi::Conventions, &mut document);
    document
}

/// `?q=&limit=&offset=` and the filters some lists take.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// Words to look for in names, codes and numbers.
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

#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations",
    params(ListParams),
    responses((status = OK, description = "The organizations the caller may read", body = Vec<Organization>))
)]
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

#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations",
    request_body = OrganizationInput,
    responses((status = CREATED, description = "The organization as stored", body = Organization))
)]
async fn create_organization(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Json(input), _): Body<OrganizationInput>,
) -> ApiResult {
    created(registry::create_organization(&s.app, &caller, &input.validate()?).await?)
}

#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations",
    params(("id" = i64, Path, description = "Organization id")),
    responses((status = OK, description = "The organization", body = Organization))
)]
async fn organization(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
) -> ApiResult {
    registry::require_readable(&s.app, &caller, id.0.0).await?;
    found(s.store.organization(id.0.0).await?, "organization")
}

#[utoipa::path(put, path = "/api/v1/organizations/{id}", tag = "organizations",
    params(("id" = i64, Path, description = "Organization id")),
    request_body = OrganizationInput,
    responses((status = OK, description = "The organization as stored", body = Organization))
)]
async fn update_organization(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(input), _): Body<OrganizationInput>,
) -> ApiResult {
    ok(registry::update_organization(&s.app, &caller, id.0.0, &input.validate()?).await?)
}

#[derive(Deserialize, ToSchema)]
struct SuspendInput {
    reason: String,
}

/// Suspends a producer: its people may then only read its records.
#[utoipa::path(post, path = "/api/v1/organizations/{id}/suspend", tag = "organizations",
    params(("id" = i64, Path, description = "Organization id")),
    request_body = SuspendInput,
    responses((status = OK, description = "The suspended producer", body = Organization))
)]
async fn suspend_organization(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(input), _): Body<SuspendInput>,
) -> ApiResult {
    ok(registry::set_suspension(&s.app, &caller, id.0.0, Some(&input.reason)).await?)
}

#[utoipa::path(post, path = "/api/v1/organizations/{id}/reinstate", tag = "organizations",
    params(("id" = i64, Path, description = "Organization id")),
    responses((status = OK, description = "The reinstated producer", body = Organization))
)]
async fn reinstate_organization(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
) -> ApiResult {
    ok(registry::set_suspension(&s.app, &caller, id.0.0, None).await?)
}

#[utoipa::path(get, path = "/api/v1/products", tag = "products",
    params(ListParams),
    responses((status = OK, description = "The products the caller may read", body = Vec<Product>))
)]
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

#[utoipa::path(post, path = "/api/v1/products", tag = "products",
    request_body = ProductInput,
    responses((status = CREATED, description = "The product as stored", body = Product))
)]
async fn create_product(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Json(input), _): Body<ProductInput>,
) -> ApiResult {
    created(registry::create_product(&s.app, &caller, &input.validate()?).await?)
}

#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "products",
    params(("id" = i64, Path, description = "Product id")),
    responses((status = OK, description = "The product", body = Product))
)]
async fn product(ApiCaller(caller): ApiCaller, State(s): State<AppState>, id: Id) -> ApiResult {
    let product = s
        .store
        .product(id.0.0)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    registry::require_readable(&s.app, &caller, product.data.producer_id).await?;
    ok(product)
}

#[utoipa::path(put, path = "/api/v1/products/{id}", tag = "products",
    params(("id" = i64, Path, description = "Product id")),
    request_body = ProductInput,
    responses((status = OK, description = "The product as stored", body = Product))
)]
async fn update_product(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(input), _): Body<ProductInput>,
) -> ApiResult {
    ok(registry::update_product(&s.app, &caller, id.0.0, &input.validate()?).await?)
}

/// Gives a product its photo: the body is the JPEG, PNG or WebP itself (EXIF orientation is
/// applied). Pages then show it at 360 and 720 px from `photo_url`.
#[utoipa::path(put, path = "/api/v1/products/{id}/photo", tag = "products",
    params(("id" = i64, Path, description = "Product id")),
    request_body(description = "The photo itself", content(("image/jpeg"), ("image/png"), ("image/webp"))),
    responses((status = OK, description = "The product with its new photo address", body = Product))
)]
async fn put_product_photo(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    body: Bytes,
) -> ApiResult {
    if body.is_empty() {
        return Err(AppError::BadRequest("the photo is empty".into()).into());
    }
    ok(registry::set_product_photo(&s.app, &caller, id.0.0, body.to_vec()).await?)
}

#[utoipa::path(get, path = "/api/v1/certifications", tag = "certifications",
    params(ListParams),
    responses((status = OK, description = "The certificates the caller may read", body = Vec<Certification>))
)]
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

#[utoipa::path(post, path = "/api/v1/certifications", tag = "certifications",
    request_body = CertificationInput,
    responses((status = CREATED, description = "The certificate as stored, pending review", body = Certification))
)]
async fn create_certification(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Json(input), _): Body<CertificationInput>,
) -> ApiResult {
    created(registry::create_certification(&s.app, &caller, &input.validate()?).await?)
}

#[utoipa::path(get, path = "/api/v1/certifications/{id}", tag = "certifications",
    params(("id" = i64, Path, description = "Certificate id")),
    responses((status = OK, description = "The certificate", body = Certification))
)]
async fn certification(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
) -> ApiResult {
    let cert = (s.store.certification(id.0.0).await?).ok_or(AppError::NotFound("certification"))?;
    registry::require_readable(&s.app, &caller, cert.data.holder_id).await?;
    ok(cert)
}

#[utoipa::path(put, path = "/api/v1/certifications/{id}", tag = "certifications",
    params(("id" = i64, Path, description = "Certificate id")),
    request_body = CertificationInput,
    responses((status = OK, description = "The certificate as stored", body = Certification))
)]
async fn update_certification(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(input), _): Body<CertificationInput>,
) -> ApiResult {
    let cert = input.validate()?;
    ok(registry::update_certification(&s.app, &caller, id.0.0, &cert).await?)
}

#[derive(Deserialize, ToSchema)]
struct StatusChange {
    status: CertStatus,
    /// Why: needed to reject or revoke; the shopper's page shows it with the decision.
    #[serde(default)]
    reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/certifications/{id}/status", tag = "certifications",
    params(("id" = i64, Path, description = "Certificate id")),
    request_body = StatusChange,
    responses((status = OK, description = "The certificate with its new status", body = Certification))
)]
async fn set_certification_status(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(change), _): Body<StatusChange>,
) -> ApiResult {
    let reason = change.reason.as_deref();
    ok(registry::set_certification_status(&s.app, &caller, id.0.0, change.status, reason).await?)
}

#[utoipa::path(get, path = "/api/v1/lots", tag = "lots",
    params(ListParams),
    responses((status = OK, description = "The lots the caller may read", body = Vec<Lot>))
)]
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

#[utoipa::path(post, path = "/api/v1/lots", tag = "lots",
    request_body = LotInput,
    responses((status = CREATED, description = "The lot as stored", body = Lot))
)]
async fn create_lot(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Json(input), _): Body<LotInput>,
) -> ApiResult {
    created(registry::create_lot(&s.app, &caller, &input.validate()?).await?)
}

#[utoipa::path(get, path = "/api/v1/lots/{id}", tag = "lots",
    params(("id" = i64, Path, description = "Lot id")),
    responses((status = OK, description = "The lot", body = Lot))
)]
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

#[utoipa::path(put, path = "/api/v1/lots/{id}", tag = "lots",
    params(("id" = i64, Path, description = "Lot id")),
    request_body = LotInput,
    responses((status = OK, description = "The lot as stored", body = Lot))
)]
async fn update_lot(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    id: Id,
    WithRejection(Json(input), _): Body<LotInput>,
) -> ApiResult {
    ok(registry::update_lot(&s.app, &caller, id.0.0, &input.validate()?).await?)
}

#[derive(Deserialize, ToSchema)]
struct RecallInput {
    reason: String,
}

/// Recalls a lot: every label on it then reads as recalled.
#[utoipa::path(post, path = "/api/v1/lots/{id}/recall", tag = "lots",
    params(("id" = i64, Path, description = "Lot id")),
    request_body = RecallInput,
    responses((status = OK, description = "The recalled lot", body = Lot))
)]
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DocumentParams {
    /// The file name to keep with the document.
    name: Option<String>,
}

/// Stores the request body as an evidence document; answers its SHA-256.
#[utoipa::path(post, path = "/api/v1/documents", tag = "documents",
    params(DocumentParams),
    request_body(description = "The document itself (PDF, JPEG, PNG or WebP)", content(("application/pdf"), ("image/jpeg"), ("image/png"), ("image/webp"))),
    responses((status = CREATED, description = "The stored document's SHA-256", body = StoredDocument))
)]
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
    created(StoredDocument {
        sha256,
        size_bytes: body.len(),
    })
}

/// A stored evidence document.
#[derive(Serialize, ToSchema)]
struct StoredDocument {
    sha256: String,
    size_bytes: usize,
}

/// A stored document, for anyone signed in: documents are addressed by their content, and
/// whoever holds a SHA-256 has seen the certificate that names it.
#[utoipa::path(get, path = "/api/v1/documents/{sha256}", tag = "documents",
    params(("sha256" = String, Path, description = "The document's SHA-256 in hex")),
    responses((status = OK, description = "The document, with its own media type", content(("application/pdf"), ("image/jpeg"), ("image/png"), ("image/webp"))))
)]
async fn document(
    _: ApiCaller,
    State(s): State<AppState>,
    WithRejection(Path(sha256), _): WithRejection<Path<String>, ApiError>,
) -> ApiResult {
    // Only a SHA-256 in hex can name a document; anything else is not looked up.
    if !crate::domain::document::is_sha256(&sha256) {
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
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports",
    params(ListParams),
    responses((status = OK, description = "Problem reports, newest first", body = Vec<Report>))
)]
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
#[utoipa::path(post, path = "/api/v1/import", tag = "imports",
    request_body = BundleInput,
    responses((status = CREATED, description = "What the bundle created", body = ImportSummary))
)]
async fn import(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Json(input), _): Body<BundleInput>,
) -> ApiResult {
    let bundle = input.validate()?;
    created(registry::import(&s.app, &caller, &bundle, None).await?)
}
