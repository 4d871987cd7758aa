//! An inspector's decision on a certificate: its three checks (the evidence still has its
//! SHA-256, its status and validity, its issuer a known authority), then verify, reject or
//! revoke with a reason the shopper's page shows beside the inspector's name and the date.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::WithRejection;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::app::{self, registry};
use crate::domain::certification::{CertStatus, Certification};
use crate::domain::validation::Invalid;
use crate::web::AppState;
use crate::web::auth::Signed;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, PageError};
use crate::web::layout::{Layout, render};

/// What the evidence check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// The stored document still hashes to the SHA-256 the certificate names.
    Intact,
    /// A document is stored under the name, but its bytes hash otherwise.
    Altered,
    /// The certificate names a document that is not stored.
    Missing,
    /// No evidence was sent.
    None,
}

#[derive(Template)]
#[template(path = "inspect/certificate.html")]
struct CertificatePage {
    layout: Layout,
    csrf: String,
    cert: Certification,
    holder: String,
    status: CertStatus,
    evidence: Evidence,
    issuer_known: bool,
    /// Days until its validity ends (negative once ended).
    days_left: i64,
    reason: String,
    errors: Invalid,
}

async fn evidence_of(s: &AppState, cert: &Certification) -> Result<Evidence, PageError> {
    let Some(sha) = &cert.data.evidence_sha256 else {
        return Ok(Evidence::None);
    };
    Ok(match s.store.document(sha).await? {
        None => Evidence::Missing,
        Some(doc) if hex::encode(Sha256::digest(&doc.content)) == *sha => Evidence::Intact,
        Some(_) => Evidence::Altered,
    })
}

async fn page(
    s: &AppState,
    signed: &Signed,
    ctx: &RequestContext,
    id: i64,
    reason: String,
    errors: Invalid,
) -> Result<axum::response::Response, PageError> {
    let cert = app::registry::readable_certification(&s.app, &signed.caller, id).await?;
    let holder = s
        .store
        .organization(cert.data.holder_id)
        .await?
        .map(|o| o.data.name)
        .unwrap_or_default();
    let issuer_known = s
        .store
        .organization(cert.data.issuer_id)
        .await?
        .is_some_and(|o| o.data.kind.is_authority());
    let today = s.clock.now().date_naive();
    let status = crate::web::layout::form_status(&errors);
    let t = ctx.lang.texts();
    let page = render(&CertificatePage {
        layout: Layout::new(ctx.lang, t.decision.title, "/inspect"),
        csrf: signed.csrf.clone(),
        evidence: evidence_of(s, &cert).await?,
        status: cert.status_on(today),
        days_left: (cert.data.valid_until - today).num_days(),
        issuer_known,
        holder,
        cert,
        reason,
        errors,
    })?;
    Ok((status, page).into_response())
}

pub async fn show(
    signed: Signed,
    ctx: RequestContext,
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> Result<axum::response::Response, PageError> {
    page(&s, &signed, &ctx, id, String::new(), Invalid::default()).await
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    decision: String,
    #[serde(default)]
    reason: String,
}

pub async fn decide(
    signed: Signed,
    ctx: RequestContext,
    State(s): State<AppState>,
    Path(id): Path<i64>,
    WithRejection(Form(form), _): WithRejection<Form<DecisionForm>, PageError>,
) -> Result<axum::response::Response, PageError> {
    let to = match form.decision.as_str() {
        "verify" => CertStatus::Verified,
        "reject" => CertStatus::Rejected,
        "revoke" => CertStatus::Revoked,
        _ => return Err(AppError::BadRequest("no such decision".into()).into()),
    };
    let reason = Some(form.reason.as_str()).filter(|r| !r.trim().is_empty());
    match registry::set_certification_status(&s.app, &signed.caller, id, to, reason).await {
        Ok(_) => Ok(Redirect::to(&format!("/inspect/certificates/{id}")).into_response()),
        Err(app::Error::Invalid(errors) | app::Error::Conflict(errors)) => {
            page(&s, &signed, &ctx, id, form.reason, errors).await
        }
        Err(e) => Err(e.into()),
    }
}
