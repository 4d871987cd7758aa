//! A producer's certificates in the console: each with its status, who decided it and when,
//! its evidence's SHA-256; and a form to submit a new one with its evidence (a PDF or a
//! photo of the paper), for an inspector to verify.

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use strum::IntoEnumIterator;

use super::{PageResult, form_errors, readable_organizations};
use crate::app::permissions::Target;
use crate::app::registry;
use crate::domain::certification::{CertKind, CertStatus, Certification, CertificationInput};
use crate::domain::organization::Organization;
use crate::domain::product::Product;
use crate::domain::validation::Invalid;
use crate::web::AppState;
use crate::web::auth::{MAX_UPLOAD, Signed};
use crate::web::error::AppError;
use crate::web::layout::{Layout, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/certificates", get(list).post(submit))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD))
}

/// A certificate as a row of the list.
pub struct CertificateRow {
    pub cert: Certification,
    pub holder: String,
    pub product: Option<String>,
    /// As a shopper would see it today (a past validity reads as expired).
    pub status: CertStatus,
}

#[derive(Template)]
#[template(path = "console/certificates.html")]
struct CertificatesPage {
    layout: Layout,
    csrf: String,
    rows: Vec<CertificateRow>,
    /// The producers the person may submit certificates for, their products, the issuers.
    holders: Vec<Organization>,
    products: Vec<Product>,
    issuers: Vec<Organization>,
    kinds: Vec<CertKind>,
    input: CertificationInput,
    errors: Invalid,
}

async fn page(
    s: &AppState,
    signed: &Signed,
    input: CertificationInput,
    errors: Invalid,
) -> PageResult {
    let readable = readable_organizations(s, signed).await?;
    let today = s.clock.now().date_naive();
    let mut rows = Vec::new();
    let mut products = Vec::new();
    for org in readable.iter().filter(|o| o.data.kind.is_producer()) {
        let own = s.store.products_of(org.id).await?;
        for cert in s.store.certifications_of(org.id).await? {
            rows.push(CertificateRow {
                holder: org.data.name.clone(),
                product: cert
                    .data
                    .product_id
                    .and_then(|id| own.iter().find(|p| p.id == id))
                    .map(|p| p.data.name.clone()),
                status: cert.status_on(today),
                cert,
            });
        }
        if signed
            .caller
            .actor
            .may("certification.create", &Target::of(org))
        {
            products.extend(own);
        }
    }
    let holders = readable
        .into_iter()
        .filter(|o| {
            o.data.kind.is_producer()
                && signed
                    .caller
                    .actor
                    .may("certification.create", &Target::of(o))
        })
        .collect();
    // Issuers are public: every authority in truyxuat.
    let issuers = s.store.authorities().await?;
    let status = crate::web::layout::form_status(&errors);
    let layout = Layout::new(signed.lang, "", "/console/certificates");
    let page = render(&CertificatesPage {
        layout: Layout {
            title: layout.t.certificates.title.to_owned(),
            ..layout
        },
        csrf: signed.csrf.clone(),
        rows,
        holders,
        products,
        issuers,
        kinds: CertKind::iter().collect(),
        input,
        errors,
    })?;
    Ok((status, page).into_response())
}

async fn list(signed: Signed, State(s): State<AppState>) -> PageResult {
    page(
        &s,
        &signed,
        CertificationInput::default(),
        Invalid::default(),
    )
    .await
}

/// The evidence file a form sent.
struct Evidence {
    bytes: Vec<u8>,
    media_type: String,
    file_name: Option<String>,
}

async fn read_form(
    mut multipart: Multipart,
) -> Result<(CertificationInput, Option<Evidence>), AppError> {
    let bad = |e: axum::extract::multipart::MultipartError| AppError::BadRequest(e.body_text());
    let mut input = CertificationInput::default();
    let mut evidence = None;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "evidence" {
            let media_type = field.content_type().unwrap_or_default().to_owned();
            let file_name = field
                .file_name()
                .map(str::to_owned)
                .filter(|n| !n.is_empty());
            let bytes = field.bytes().await.map_err(bad)?.to_vec();
            if !bytes.is_empty() {
                evidence = Some(Evidence {
                    bytes,
                    media_type,
                    file_name,
                });
            }
            continue;
        }
        let text = field.text().await.map_err(bad)?;
        let number = || text.trim().parse::<i64>().ok();
        let optional = || Some(text.clone()).filter(|t| !t.trim().is_empty());
        match name.as_str() {
            "holder_id" => input.holder_id = number(),
            "product_id" => input.product_id = number(),
            "issuer_id" => input.issuer_id = number(),
            "kind" => input.kind = text,
            "ocop_stars" => input.ocop_stars = number(),
            "number" => input.number = text,
            "scope" => input.scope = optional(),
            "issued_on" => input.issued_on = text,
            "valid_until" => input.valid_until = text,
            _ => {}
        }
    }
    Ok((input, evidence))
}

/// Stores the evidence (checked by its content), then submits the certificate naming it.
async fn submit(
    signed: Signed,
    State(s): State<AppState>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult {
    let multipart = multipart.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let (mut input, evidence) = read_form(multipart).await?;
    let errors = match input.validate() {
        Err(errors) => errors,
        Ok(_) => {
            let stored = match &evidence {
                Some(e) => {
                    let name = e.file_name.as_deref();
                    match registry::store_document(
                        &s.app,
                        &signed.caller,
                        &e.bytes,
                        &e.media_type,
                        name,
                    )
                    .await
                    {
                        Ok(sha) => Ok(Some(sha)),
                        Err(err) => Err(on_field(form_errors(err)?, "evidence")),
                    }
                }
                None => Ok(None),
            };
            match stored {
                Err(errors) => errors,
                Ok(sha) => {
                    input.evidence_sha256 = sha;
                    let cert = input.validate().map_err(AppError::Invalid)?;
                    match registry::create_certification(&s.app, &signed.caller, &cert).await {
                        Ok(_) => return Ok(Redirect::to("/console/certificates").into_response()),
                        Err(e) => form_errors(e)?,
                    }
                }
            }
        }
    };
    page(&s, &signed, input, errors).await
}

/// The same refusal, every error moved onto `field` (a document's errors shown beside the
/// file input).
fn on_field(invalid: Invalid, field: &str) -> Invalid {
    Invalid {
        errors: invalid
            .errors
            .into_iter()
            .map(|e| crate::domain::validation::FieldError {
                field: field.to_owned(),
                ..e
            })
            .collect(),
    }
}
