//! A producer as an inspector sees it: suspend it with a reason (its people then read but
//! change nothing, and its labels' pages say so), or lift the suspension.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::WithRejection;
use serde::Deserialize;

use crate::app::{self, registry};
use crate::domain::organization::Organization;
use crate::domain::validation::Invalid;
use crate::web::AppState;
use crate::web::auth::Signed;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, PageError};
use crate::web::layout::{Layout, render};

#[derive(Template)]
#[template(path = "inspect/producer.html")]
struct ProducerPage {
    layout: Layout,
    csrf: String,
    producer: Organization,
    reason: String,
    errors: Invalid,
}

async fn page(
    s: &AppState,
    signed: &Signed,
    ctx: &RequestContext,
    id: i64,
    reason: String,
    errors: Invalid,
) -> Result<axum::response::Response, PageError> {
    registry::require_readable(&s.app, &signed.caller, id).await?;
    let producer = s
        .store
        .organization(id)
        .await?
        .filter(|o| o.data.kind.is_producer())
        .ok_or(AppError::NotFound("producer"))?;
    let status = crate::web::layout::form_status(&errors);
    let page = render(&ProducerPage {
        layout: Layout::new(ctx.lang, &producer.data.name, "/inspect"),
        csrf: signed.csrf.clone(),
        producer,
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
pub struct SuspensionForm {
    /// `suspend` or `reinstate`.
    action: String,
    #[serde(default)]
    reason: String,
}

pub async fn suspension(
    signed: Signed,
    ctx: RequestContext,
    State(s): State<AppState>,
    Path(id): Path<i64>,
    WithRejection(Form(form), _): WithRejection<Form<SuspensionForm>, PageError>,
) -> Result<axum::response::Response, PageError> {
    let reason = match form.action.as_str() {
        "suspend" => Some(form.reason.as_str()),
        "reinstate" => None,
        _ => return Err(AppError::BadRequest("no such action".into()).into()),
    };
    match registry::set_suspension(&s.app, &signed.caller, id, reason).await {
        Ok(_) => Ok(Redirect::to(&format!("/inspect/producers/{id}")).into_response()),
        Err(app::Error::Invalid(errors) | app::Error::Conflict(errors)) => {
            page(&s, &signed, &ctx, id, form.reason, errors).await
        }
        Err(e) => Err(e.into()),
    }
}
