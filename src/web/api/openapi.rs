//! What the OpenAPI document says beyond the handlers: who the API is for, how to sign in,
//! and the problem+json every operation may answer instead of its own body.

use std::sync::OnceLock;

use askama::Template;
use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr, ResponseBuilder};
use utoipa::{Modify, PartialSchema, ToSchema};

use crate::web::AppState;
use crate::web::context::RequestContext;
use crate::web::error::{PageError, Problem};
use crate::web::layout::{Layout, render};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "truyxuat",
        description = "Product traceability QR labels: the registry (organizations, products, \
            certificates, lots), label batches and their printing, spreadsheet imports, \
            and the lots' traceability events as GS1 EPCIS 2.0 (under `/epcis`). \
            Every operation needs an API token (`truyxuat tokens create`, or the console's \
            token page) as `Authorization: Bearer txa_…`, and sees and changes only what its \
            person's roles allow. Errors are RFC 9457 problem+json.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "organizations", description = "Producers and authorities"),
        (name = "products", description = "What a producer sells"),
        (name = "certifications", description = "Certificates and their review"),
        (name = "lots", description = "Harvests and production runs, and their recall"),
        (name = "batches", description = "Label batches: order, activate, void, print"),
        (name = "jobs", description = "Large print runs rendered in the background"),
        (name = "imports", description = "Spreadsheets and JSON bundles in"),
        (name = "documents", description = "Certificates' evidence, addressed by SHA-256"),
        (name = "reports", description = "Shoppers' problem reports"),
        (name = "epcis", description = "GS1 EPCIS 2.0: capture and query traceability events"),
    )
)]
pub struct ApiDoc;

/// The statuses any operation may answer with a problem, and why.
const PROBLEMS: &[(&str, &str)] = &[
    ("400", "The request could not be read"),
    ("401", "No valid API token"),
    ("403", "The token's person may not do this"),
    ("404", "Not found, or not the caller's to see"),
    ("409", "In conflict with the records as they are"),
    ("413", "The body is too large"),
    ("415", "The body is not of a type this operation takes"),
    ("422", "The input was refused; `errors` names each field"),
    (
        "429",
        "Too many requests; `Retry-After` says when to try again",
    ),
    (
        "503",
        "The database is unavailable; `Retry-After` says when to try again",
    ),
];

/// Bearer tokens for every operation, and the problem answers beside each one's own.
pub struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("txa_…")
                    .build(),
            ),
        );
        components
            .schemas
            .insert(Problem::name().into_owned(), Problem::schema());
        let mut schemas = Vec::new();
        Problem::schemas(&mut schemas);
        components.schemas.extend(schemas);
        openapi.security = Some(vec![SecurityRequirement::new(
            "token",
            Vec::<String>::new(),
        )]);

        let problem = RefOr::Ref(utoipa::openapi::Ref::from_schema_name(Problem::name()));
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                for (status, description) in PROBLEMS {
                    let response = ResponseBuilder::new()
                        .description(*description)
                        .content(
                            "application/problem+json",
                            ContentBuilder::new().schema(Some(problem.clone())).build(),
                        )
                        .build();
                    operation
                        .responses
                        .responses
                        .entry((*status).to_owned())
                        .or_insert(response.into());
                }
            }
        }
    }
}

/// `/api/openapi.json` and `/api/reference`, open to anyone: the API's description is
/// public, its operations are not.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(document))
        .route("/api/reference", get(reference))
}

/// The document, made once: it only changes with the code.
fn made() -> &'static OpenApi {
    static DOCUMENT: OnceLock<OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(super::openapi_document)
}

/// The document as served, written once.
fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        made()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    })
}

async fn document() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        document_json(),
    )
        .into_response()
}

/// One operation as the reference page lists it.
struct Operation {
    method: &'static str,
    path: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "api_reference.html")]
struct ReferencePage {
    layout: Layout,
    /// Tag name, its description, and its operations.
    tags: Vec<(String, String, Vec<Operation>)>,
}

/// The operations by tag, with the first line of each one's description.
async fn reference(ctx: RequestContext) -> Result<Response, PageError> {
    let api = made().clone();
    let mut tags: Vec<(String, String, Vec<Operation>)> = (api.tags.unwrap_or_default())
        .into_iter()
        .map(|t| (t.name, t.description.unwrap_or_default(), Vec::new()))
        .collect();
    for (path, item) in api.paths.paths {
        let operations = [
            ("GET", item.get),
            ("PUT", item.put),
            ("POST", item.post),
            ("DELETE", item.delete),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let tag = operation.tags.unwrap_or_default().into_iter().next();
            let summary = (operation.summary.or(operation.description))
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            if let Some(entry) = tags
                .iter_mut()
                .find(|(name, ..)| Some(name) == tag.as_ref())
            {
                entry.2.push(Operation {
                    method,
                    path: path.clone(),
                    summary,
                });
            }
        }
    }
    render(&ReferencePage {
        layout: Layout::new(ctx.lang, "API", "/api/reference"),
        tags,
    })
}
