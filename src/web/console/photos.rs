//! A product's photo from the console: a file input on the product's page (a phone offers
//! its camera or gallery), sent as multipart; refusals are shown beside the input.

use axum::Router;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::post;
use axum_extra::extract::WithRejection;

use super::{PageResult, form_errors, product_form, stored_input};
use crate::app::registry;
use crate::domain::validation::{Rule, Validator};
use crate::web::AppState;
use crate::web::auth::Signed;
use crate::web::error::{AppError, PageError};

pub fn router() -> Router<AppState> {
    Router::new().route("/console/products/{id}/photo", post(upload))
}

async fn upload(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Path(id), _): WithRejection<Path<i64>, PageError>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult {
    let mut multipart = multipart.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let bad = |e: axum::extract::multipart::MultipartError| AppError::BadRequest(e.body_text());
    let mut photo = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        if field.name() == Some("photo") {
            photo = field.bytes().await.map_err(bad)?.to_vec();
        }
    }
    let errors = if photo.is_empty() {
        let mut v = Validator::default();
        v.refuse_by("photo", Rule::Required, None, "choose a photo");
        v.finish().err().unwrap_or_default()
    } else {
        match registry::set_product_photo(&s.app, &signed.caller, id, photo).await {
            Ok(_) => return Ok(Redirect::to(&format!("/console/products/{id}")).into_response()),
            Err(e) => form_errors(e)?,
        }
    };
    let product = (s.store.product(id).await?).ok_or(AppError::NotFound("product"))?;
    registry::require_readable(&s.app, &signed.caller, product.data.producer_id).await?;
    product_form(&s, &signed, Some(id), stored_input(product), errors).await
}
