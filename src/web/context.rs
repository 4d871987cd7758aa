//! What every handler and error renderer may need to know about the request being served:
//! its id (shown on error pages, logged with every line), the reader's language and the
//! client's address. Handlers take it as an extractor; errors are rendered with it here.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, AppError, PageError, Unrendered};
use super::i18n::Lang;
use super::rate_limit::TrustedProxies;

/// The request being served: handlers take it as an extractor.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub request_id: String,
    pub lang: Lang,
    /// The client's address, when the server knows it: the connection's peer, or the client
    /// a trusted proxy names (for rate limits, never stored).
    pub client: Option<std::net::IpAddr>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .unwrap_or_default())
    }
}

/// The value of cookie `name` in a request's headers.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// What every request is served within: whom to believe about the client's address, and
/// how long a request may take.
pub struct Scope {
    pub proxies: TrustedProxies,
    pub time_limit: std::time::Duration,
}

/// Middleware: makes the request id (set by `SetRequestIdLayer`), the language and the
/// client's address available, and answers a request still running after the time limit
/// with a 503 (a page, or problem+json under `/api/`; tower-http's timeout answers with an
/// empty body). One middleware for both: each costs a boxed call per request.
pub async fn scope(
    axum::extract::State(scope): axum::extract::State<Arc<Scope>>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let context = RequestContext {
        request_id: request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        lang: Lang::from_headers(request.headers()),
        client: scope.proxies.client(peer, request.headers()),
    };
    let api = request.uri().path().starts_with("/api/");
    let limit = scope.time_limit;
    let mut request = request;
    request.extensions_mut().insert(context.clone());
    let mut response = match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(?limit, "request timed out");
            let late = AppError::Unavailable("the request took too long: try again".into());
            if api {
                ApiError(late).into_response()
            } else {
                PageError(late).into_response()
            }
        }
    };
    // An error's page or problem, written now that its language and request id are known.
    match response.extensions_mut().remove::<Unrendered>() {
        Some(error) => error.render(&context, response),
        None => response,
    }
}
