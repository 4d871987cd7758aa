//! Who is asking. People sign in with their login and password and carry a session cookie
//! (the session is kept server-side, its id only as a hash); integrations send an API token
//! as `Authorization: Bearer`. Forms of the signed-in areas carry a CSRF token, and every
//! unsafe request there must come from this site.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::app::{self, Caller};
use crate::domain::people::{Person, PersonStatus, Role};
use crate::domain::secrets::{random_secret, secret_hash};
use crate::web::AppState;
use crate::web::context::RequestContext;
use crate::web::error::{ApiError, AppError, PageError};
use crate::web::i18n::Lang;

/// A session ends after this long without a request…
pub const SESSION_IDLE: Duration = Duration::hours(2);
/// …and this long after sign-in, whatever happens.
pub const SESSION_ABSOLUTE: Duration = Duration::hours(12);
/// A session's last use is written at most this often.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// The session cookie's name: `__Host-` when served over https, so that the browser keeps it
/// to this host, secure and on every path.
pub fn session_cookie(https: bool) -> &'static str {
    if https {
        "__Host-truyxuat_session"
    } else {
        "truyxuat_session"
    }
}

/// The request id `SetRequestIdLayer` gave this request.
pub fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A new session for `person`: stored (its id hashed), and the `Set-Cookie` value that
/// gives its id to the browser.
pub async fn start_session(state: &AppState, person: &Person) -> Result<HeaderValue, AppError> {
    let id = random_secret(&mut rand::rngs::OsRng, 32);
    let csrf = random_secret(&mut rand::rngs::OsRng, 20);
    state
        .store
        .start_session(&secret_hash(&id), person.id, &csrf, state.clock.now())
        .await?;
    let https = state.settings.base_url().starts_with("https://");
    let cookie = format!(
        "{}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        session_cookie(https),
        SESSION_ABSOLUTE.num_seconds(),
        if https { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&cookie).map_err(|e| AppError::Internal(format!("cookie: {e}")))
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn end_cookie(https: bool) -> HeaderValue {
    let cookie = format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        session_cookie(https),
        if https { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&cookie)
        .unwrap_or(HeaderValue::from_static("truyxuat_session=; Max-Age=0"))
}

/// A request from a signed-in person, as the `signed_in` middleware found it.
#[derive(Clone)]
pub struct Signed {
    pub caller: Caller,
    pub person: Person,
    /// The session's form token, to put in every form.
    pub csrf: String,
    /// The hash of the session id (to end it).
    pub session: Vec<u8>,
    /// The language of the request (its pages are in it).
    pub lang: Lang,
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, PageError> {
        parts
            .extensions
            .get::<Signed>()
            .cloned()
            .ok_or_else(|| AppError::Unauthorized.into())
    }
}

/// The signed-in person of a request, if its session cookie names a live session of an
/// active person.
async fn signed_person(state: &AppState, headers: &HeaderMap) -> Result<Option<Signed>, AppError> {
    let https = state.settings.base_url().starts_with("https://");
    let Some(id) = crate::web::context::cookie(headers, session_cookie(https)) else {
        return Ok(None);
    };
    let hash = secret_hash(id);
    let now = state.clock.now();
    let Some(session) = state.store.session(&hash).await? else {
        return Ok(None);
    };
    let live = session.ended_at.is_none()
        && now - session.last_seen_at < SESSION_IDLE
        && now - session.created_at < SESSION_ABSOLUTE;
    if !live {
        return Ok(None);
    }
    let Some(person) = state.store.person(session.person_id).await? else {
        return Ok(None);
    };
    if person.status != PersonStatus::Active {
        return Ok(None);
    }
    if now - session.last_seen_at > TOUCH_EVERY {
        state.store.touch_session(&hash, now).await?;
    }
    let actor = app::access::signed_in_actor(&state.app, &person).await?;
    Ok(Some(Signed {
        caller: Caller::new(actor, request_id(headers)),
        person,
        csrf: session.csrf_token,
        session: hash,
        lang: Lang::default(),
    }))
}

/// The largest form a signed-in area reads to find its CSRF token.
const MAX_FORM: usize = 1024 * 1024;
/// The largest file upload (a form sent as multipart/form-data): a spreadsheet of 100,000
/// rows, a photo from a phone, a scanned certificate.
pub const MAX_UPLOAD: usize = 25 * 1024 * 1024;

/// Middleware of the signed-in areas: no session, no entry (the sign-in page); an unsafe
/// request must come from this site and carry the session's CSRF token (a form field `csrf`
/// or an `X-CSRF-Token` header).
pub async fn signed_in(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut signed = match signed_person(&state, request.headers()).await {
        Ok(Some(signed)) => signed,
        Ok(None) => return PageError(AppError::Unauthorized).into_response(),
        Err(e) => return PageError(e).into_response(),
    };
    let (mut parts, body) = request.into_parts();
    if let Some(ctx) = parts.extensions.get::<RequestContext>() {
        signed.lang = ctx.lang;
    }
    let body = if is_safe(&parts.method) {
        body
    } else {
        if let Err(e) = refuse_cross_site(&parts, &state.settings.base_url()) {
            return PageError(e).into_response();
        }
        let multipart = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("multipart/form-data"));
        let limit = if multipart { MAX_UPLOAD } else { MAX_FORM };
        let bytes = match axum::body::to_bytes(body, limit).await {
            Ok(bytes) => bytes,
            Err(_) => {
                return PageError(AppError::BadRequest("the form is too large".into()))
                    .into_response();
            }
        };
        let sent = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                if multipart {
                    multipart_field(&bytes, "csrf")
                } else {
                    form_field(&bytes, "csrf")
                }
            });
        if !sent.is_some_and(|t| same_secret(&t, &signed.csrf)) {
            return PageError(AppError::Forbidden(
                "the form has expired or came from another site: reload the page and try again"
                    .into(),
            ))
            .into_response();
        }
        Body::from(bytes)
    };
    parts.extensions.insert(signed);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    // A person's pages are theirs: no cache keeps them.
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A short text field of a multipart/form-data body (the CSRF token, which our forms put
/// first): the value after the part's `name="…"` header line and its blank line.
fn multipart_field(body: &[u8], name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\"");
    let at = body
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())?;
    let rest = &body[at..];
    let start = rest.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let value = &rest[start..];
    let end = value.windows(2).position(|w| w == b"\r\n")?;
    String::from_utf8(value[..end].to_vec()).ok()
}

type HmacSha256 = Hmac<Sha256>;

/// Compares two secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    let mac = |v: &str| {
        let mut m = HmacSha256::new_from_slice(b"truyxuat/compare").ok()?;
        m.update(v.as_bytes());
        Some(m)
    };
    match (mac(a), mac(b)) {
        (Some(x), Some(y)) => x.verify_slice(&y.finalize().into_bytes()).is_ok(),
        _ => false,
    }
}

/// Refuses an unsafe request from another site: its `Origin` (or, without one, its
/// `Referer`) must name this host, as the request's `Host` or the public `base_url` does (a
/// proxy may rewrite `Host`). A request with neither header relies on its CSRF token.
pub fn refuse_cross_site(parts: &Parts, base_url: &str) -> Result<(), AppError> {
    let host_of = |url: &str| -> String {
        url.split_once("://")
            .map_or(url, |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    let from = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let Some(site) = from(header::ORIGIN).or_else(|| from(header::REFERER)) else {
        return Ok(());
    };
    let site = host_of(site);
    let ours = [
        from(header::HOST).map(str::to_ascii_lowercase),
        Some(host_of(base_url)),
    ];
    if ours
        .iter()
        .flatten()
        .any(|host| !host.is_empty() && *host == site)
    {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "a form from another site was refused".into(),
        ))
    }
}

/// An API request with a valid token: the caller of what it asks, as `api_token` found it.
#[derive(Clone)]
pub struct ApiCaller(pub Caller);

/// The caller of the API token in the `Authorization: Bearer` header; unauthorized
/// without a valid one.
pub async fn bearer_caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, app::Error> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(app::Error::Unauthorized)?;
    let actor = app::access::token_actor(&state.app, presented).await?;
    Ok(Caller::new(actor, request_id(headers)))
}

/// Middleware of the API: no valid token, no entry (401, before anything else is read).
pub async fn api_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    match bearer_caller(&state, request.headers()).await {
        Ok(caller) => {
            request.extensions_mut().insert(ApiCaller(caller));
            next.run(request).await
        }
        Err(e) => ApiError(e.into()).into_response(),
    }
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<ApiCaller>()
            .cloned()
            .ok_or_else(|| AppError::Unauthorized.into())
    }
}

/// Middleware of an area for some roles only (after `signed_in`): anyone else gets 403.
pub async fn require_role(
    State(roles): State<&'static [Role]>,
    request: Request,
    next: Next,
) -> Response {
    let held = request.extensions().get::<Signed>().is_some_and(|signed| {
        signed
            .caller
            .actor
            .grants()
            .iter()
            .any(|g| roles.contains(&g.role))
    });
    if !held {
        return PageError(AppError::Forbidden("this area is not for your role".into()))
            .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abc "));
    }

    #[test]
    fn a_form_from_another_site_is_refused() {
        let parts = |origin: Option<&str>, referer: Option<&str>| {
            let mut r = axum::http::Request::post("/console").header("host", "truyxuat.vn");
            if let Some(o) = origin {
                r = r.header("origin", o);
            }
            if let Some(f) = referer {
                r = r.header("referer", f);
            }
            r.body(()).unwrap().into_parts().0
        };
        let base = "https://truyxuat.lamdong.gov.vn";
        let check = |origin, referer| refuse_cross_site(&parts(origin, referer), base);
        assert!(check(Some("https://truyxuat.vn"), None).is_ok());
        assert!(check(Some("https://evil.example"), None).is_err());
        assert!(check(Some("null"), None).is_err());
        assert!(check(None, Some("https://evil.example/x")).is_err());
        assert!(check(None, Some("https://truyxuat.vn/console")).is_ok());
        assert!(check(None, None).is_ok());
        // Behind a proxy that rewrites Host, the public address is this site too.
        assert!(check(Some("https://truyxuat.lamdong.gov.vn"), None).is_ok());
    }
}
