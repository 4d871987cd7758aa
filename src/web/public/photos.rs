//! Product photos as pages show them: `/photos/{sha256}/360.jpg` and `…/720.jpg`, made once
//! when the photo was sent and addressed by the sent file's SHA-256, so cached for good.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::web::AppState;
use crate::web::error::{AppError, PageError};

pub fn router() -> Router<AppState> {
    Router::new().route("/photos/{sha256}/{size}", get(photo))
}

async fn photo(
    State(s): State<AppState>,
    Path((sha256, size)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let large = crate::photos::size_named(&size).ok_or(AppError::NotFound("photo"))?;
    // Only a SHA-256 in hex names a photo; anything else is not looked up.
    if !crate::domain::document::is_sha256(&sha256) {
        return Err(AppError::NotFound("photo").into());
    }
    let jpeg = (s.store.photo_size(&sha256, large).await?).ok_or(AppError::NotFound("photo"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        jpeg,
    )
        .into_response())
}
