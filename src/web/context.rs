//! What every handler and error renderer may need to know about the request being served:
//! its id (shown on error pages, logged with every line) and the reader's language.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use std::sync::Arc;

use super::error::{ApiError, AppError, PageError};
use super::i18n::Lang;
use super::rate_limit::TrustedProxies;

/// The request being served.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub lang: Lang,
    /// The client's address, when the server knows it: the connection's peer, or the client
    /// a trusted proxy names (for rate limits, never stored).
    pub client: Option<std::net::IpAddr>,
}

tokio::task_local! {
    static CONTEXT: RequestContext;
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

/// Runs `f` as if serving a request in `lang` (to render pages outside a request).
pub fn with_lang<R>(lang: Lang, f: impl FnOnce() -> R) -> R {
    let context = RequestContext {
        request_id: String::new(),
        lang,
        client: None,
    };
    CONTEXT.sync_scope(context, f)
}

/// The context of the request this task serves (a default outside of one).
pub fn current() -> RequestContext {
    CONTEXT
        .try_with(Clone::clone)
        .unwrap_or_else(|_| RequestContext {
            request_id: String::new(),
            lang: Lang::default(),
            client: None,
        })
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
    CONTEXT
        .scope(context, async move {
            match tokio::time::timeout(limit, next.run(request)).await {
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
            }
        })
        .await
}
