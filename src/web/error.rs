//! One error enum, two renderers: an HTML page for people and RFC 9457 problem+json for the
//! API. Internal details are logged with the request id, never shown.

use std::sync::Arc;

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::context::RequestContext;
use super::i18n::{Lang, Texts};
use crate::app;
use crate::domain::validation::{FieldError, Invalid};
use crate::store::StoreError;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input breaks a rule; the fields say which.
    #[error("{0}")]
    Invalid(Invalid),
    /// The input clashes with what is stored (a duplicate GTIN, say).
    #[error("{0}")]
    Conflict(Invalid),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request itself is malformed (not JSON, a bad query string).
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in first")]
    Unauthorized,
    /// Signed in, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Unavailable(String),
    /// The request holds more than the service takes at once (the message says the limit).
    #[error("{0}")]
    TooLarge(String),
    /// The client is over a rate limit; it may try again after the wait.
    #[error("too many requests: try again in {} seconds", .0.as_secs().max(1))]
    TooMany(std::time::Duration),
    /// A fault of ours; the text is logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(i) => AppError::Conflict(i),
            StoreError::Invalid(i) => AppError::Invalid(i),
            StoreError::NotFound => AppError::NotFound("record"),
            other if other.is_unavailable() => {
                tracing::error!(error = %other, "the database is unavailable");
                AppError::Unavailable(UNAVAILABLE.into())
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// What an API client reads while the database is out of reach or out of room.
const UNAVAILABLE: &str = "the database is unavailable for now; nothing was stored: try again";

/// Seconds a client should wait before trying again after a 503.
pub const RETRY_AFTER_SECONDS: &str = "10";

/// The application layer's refusals, mapped once for pages and problem+json.
impl From<app::Error> for AppError {
    fn from(e: app::Error) -> Self {
        match e {
            app::Error::Invalid(i) => AppError::Invalid(i),
            app::Error::Conflict(i) => AppError::Conflict(i),
            app::Error::NotFound(what) => AppError::NotFound(what),
            app::Error::Forbidden(why) => AppError::Forbidden(why),
            app::Error::Unauthorized => AppError::Unauthorized,
            app::Error::Unavailable(why) => AppError::Unavailable(why),
            app::Error::Internal(text) => AppError::Internal(text),
        }
    }
}

impl From<Invalid> for AppError {
    fn from(e: Invalid) -> Self {
        AppError::Invalid(e)
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short title and a detail safe to show; internal errors are logged here.
    fn public_text(&self, t: &Texts) -> (String, String) {
        let title = self
            .status()
            .canonical_reason()
            .unwrap_or("Error")
            .to_owned();
        let detail = match self {
            AppError::Internal(text) => {
                tracing::error!(error = %text, "internal error");
                t.error_title.to_owned()
            }
            other => other.to_string(),
        };
        (title, detail)
    }

    fn field_errors(&self) -> &[FieldError] {
        match self {
            AppError::Invalid(i) | AppError::Conflict(i) => &i.errors,
            _ => &[],
        }
    }
}

/// An error answered as RFC 9457 problem+json (the API).
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

/// An RFC 9457 problem: every API error's body (`application/problem+json`).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Problem<'a> {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    kind: &'static str,
    title: String,
    status: u16,
    detail: String,
    /// Each refused field and why, for a 422.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    #[schema(value_type = Vec<FieldError>)]
    errors: &'a [FieldError],
    request_id: String,
}

/// An error whose body waits for `context::scope`, which knows the request's language and
/// id: a handler's error is a status and this, and the scope writes the page or problem.
#[derive(Debug, Clone)]
pub struct Unrendered {
    error: Arc<AppError>,
    api: bool,
    /// The problem's `type`: `about:blank` unless a route names its kinds of problem.
    kind: &'static str,
}

/// Names the kind of problem an API error's response will be (its `type`), for routes that
/// follow a standard's names, such as GS1 EPCIS's `epcisException:…`. Other responses are
/// left as they are.
pub fn name_problem(response: &mut Response, kind: &'static str) {
    if let Some(unrendered) = response.extensions_mut().get_mut::<Unrendered>() {
        if unrendered.api {
            unrendered.kind = kind;
        }
    }
}

impl Unrendered {
    /// The error's body, in the request's language and with its id.
    pub fn render(self, ctx: &RequestContext, mut response: Response) -> Response {
        let body = if self.api {
            problem_body(&self.error, self.kind, ctx)
        } else {
            page_body(&self.error, ctx)
        };
        let (parts, _) = response.into_parts();
        response = Response::from_parts(parts, body.1);
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static(body.0),
        );
        response
    }
}

/// A status (and its headers) now, the body once the scope renders it.
fn unrendered(error: AppError, api: bool) -> Response {
    let status = error.status();
    let mut response = status.into_response();
    retry_later(&error, &mut response);
    if api && status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"truyxuat\""),
        );
    }
    response.extensions_mut().insert(Unrendered {
        error: Arc::new(error),
        api,
        kind: "about:blank",
    });
    response
}

fn problem_body(
    error: &AppError,
    kind: &'static str,
    ctx: &RequestContext,
) -> (&'static str, axum::body::Body) {
    let status = error.status();
    let (title, detail) = error.public_text(Lang::En.texts());
    let problem = Problem {
        kind,
        title,
        status: status.as_u16(),
        detail,
        errors: error.field_errors(),
        request_id: ctx.request_id.clone(),
    };
    let json = serde_json::to_vec(&problem).unwrap_or_default();
    ("application/problem+json", json.into())
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        unrendered(self.0, true)
    }
}

/// A 503 or a 429 says when to try again.
fn retry_later(error: &AppError, response: &mut Response) {
    let seconds = match error {
        AppError::Unavailable(_) => RETRY_AFTER_SECONDS.to_owned(),
        // Whole seconds, rounded up: a client that waits that long is let in.
        AppError::TooMany(wait) => {
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).to_string()
        }
        _ => return,
    };
    if let Ok(value) = header::HeaderValue::from_str(&seconds) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

/// An error answered as an HTML page (people).
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: super::layout::Layout,
    status: u16,
    title: String,
    detail: String,
    errors: &'a [FieldError],
    request_id: String,
    /// Offer to load the page again (the fault may have passed).
    retry: bool,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if self.0.status() == StatusCode::UNAUTHORIZED {
            return axum::response::Redirect::to("/login").into_response();
        }
        unrendered(self.0, false)
    }
}

fn page_body(error: &AppError, ctx: &RequestContext) -> (&'static str, axum::body::Body) {
    let t = ctx.lang.texts();
    let (title, detail) = match error {
        // A shopper or a cooperative reads what happened in their language.
        AppError::Unavailable(_) => (t.unavailable_title.into(), t.unavailable_body.into()),
        AppError::TooMany(_) => (t.too_many_title.into(), t.too_many_body.into()),
        AppError::Forbidden(_) => (t.forbidden_title.into(), t.forbidden_body.into()),
        other => other.public_text(t),
    };
    let page = ErrorPage {
        layout: super::layout::Layout::new(ctx.lang, &title, ""),
        status: error.status().as_u16(),
        title,
        detail,
        errors: error.field_errors(),
        request_id: ctx.request_id.clone(),
        retry: matches!(error, AppError::Unavailable(_)),
    };
    let html = page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "error page template failed");
        "error".into()
    });
    ("text/html; charset=utf-8", html.into())
}

impl From<axum::extract::rejection::JsonRejection> for AppError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection::*;
        match r {
            // Well-formed JSON of the wrong shape: the body is the refused field.
            JsonDataError(e) => AppError::Invalid(Invalid::field("body", e.body_text())),
            BytesRejection(e) => e.into(),
            other => AppError::BadRequest(other.body_text()),
        }
    }
}

impl From<axum::extract::rejection::BytesRejection> for AppError {
    fn from(r: axum::extract::rejection::BytesRejection) -> Self {
        // Over the route's body limit, or a body that broke off.
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge(r.body_text())
        } else {
            AppError::BadRequest(r.body_text())
        }
    }
}

impl From<axum::extract::rejection::FormRejection> for AppError {
    fn from(r: axum::extract::rejection::FormRejection) -> Self {
        AppError::BadRequest(r.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for AppError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        AppError::BadRequest(r.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for AppError {
    fn from(_: axum::extract::rejection::PathRejection) -> Self {
        // A path that does not parse (`/products/abc`) names nothing that exists.
        AppError::NotFound("page")
    }
}
