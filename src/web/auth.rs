//! Who may use the console and the API: whoever holds the operator token. The API takes it
//! as a bearer token; the console signs a session cookie with it after a login form.
//! (Per-person accounts for cooperatives and inspectors come later.)

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::AppState;
use super::error::{ApiError, AppError, PageError};
use crate::app::{Actor, Caller};

type HmacSha256 = Hmac<Sha256>;

/// The name of the console session cookie.
pub const SESSION_COOKIE: &str = "truyxuat_session";
/// How long a console session lasts.
pub const SESSION_HOURS: i64 = 12;

fn mac(token: &str, message: &str) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(token.as_bytes()).ok()?;
    mac.update(message.as_bytes());
    Some(mac)
}

/// Compares a presented token with the configured one in constant time.
pub fn token_matches(configured: &str, presented: &str) -> bool {
    // Comparing MACs of both keeps the time independent of where they differ.
    match (mac(configured, "token"), mac(presented, "token")) {
        (Some(a), Some(b)) => a.verify_slice(&b.finalize().into_bytes()).is_ok(),
        _ => false,
    }
}

/// A session cookie value valid until `expires`.
pub fn session_value(token: &str, expires: DateTime<Utc>) -> String {
    let expiry = expires.timestamp();
    let sig = mac(token, &format!("console-session:{expiry}"))
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default();
    format!("{expiry}.{sig}")
}

/// Whether a session cookie value was made with `token` and has not expired.
pub fn session_valid(token: &str, value: &str, now: DateTime<Utc>) -> bool {
    let Some((expiry, sig)) = value.split_once('.') else {
        return false;
    };
    let (Ok(expiry), Ok(sig)) = (expiry.parse::<i64>(), hex::decode(sig)) else {
        return false;
    };
    expiry > now.timestamp()
        && mac(token, &format!("console-session:{expiry}"))
            .is_some_and(|m| m.verify_slice(&sig).is_ok())
}

/// The request id `SetRequestIdLayer` gave this request.
fn request_id(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// An API request carrying the operator token: the caller of the changes it asks for.
pub struct ApiOperator(pub Caller);

impl FromRequestParts<AppState> for ApiOperator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let configured = state.admin_token().ok_or_else(not_configured)?;
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(AppError::Unauthorized)?;
        if token_matches(configured, presented.trim()) {
            Ok(ApiOperator(Caller::new(
                Actor::OperatorToken,
                request_id(parts),
            )))
        } else {
            Err(AppError::Unauthorized.into())
        }
    }
}

/// A console request from a signed-in operator, on this site: the caller of the changes
/// it asks for.
pub struct ConsoleOperator(pub Caller);

impl FromRequestParts<AppState> for ConsoleOperator {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let configured = state.admin_token().ok_or_else(not_configured)?;
        if parts.method != Method::GET && parts.method != Method::HEAD {
            refuse_cross_site(parts)?;
        }
        match super::context::cookie(&parts.headers, SESSION_COOKIE) {
            Some(value) if session_valid(configured, value, state.clock.now()) => Ok(
                ConsoleOperator(Caller::new(Actor::OperatorToken, request_id(parts))),
            ),
            _ => Err(AppError::Unauthorized.into()),
        }
    }
}

/// Refuses a form post whose `Origin` is another site (the session cookie is also
/// `SameSite=Strict`; this covers older browsers).
pub fn refuse_cross_site(parts: &Parts) -> Result<(), AppError> {
    let origin = parts
        .headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some(origin), Some(host)) => {
            let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
            if origin_host.eq_ignore_ascii_case(host) {
                Ok(())
            } else {
                Err(AppError::BadRequest(
                    "a form from another site was refused".into(),
                ))
            }
        }
        _ => Ok(()),
    }
}

fn not_configured() -> AppError {
    AppError::Unavailable(
        "the console and API are disabled: set TRUYXUAT_ADMIN_TOKEN to enable them".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn sessions_expire_and_are_bound_to_the_token() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap();
        let value = session_value("token-one", now + Duration::hours(1));
        assert!(session_valid("token-one", &value, now));
        assert!(!session_valid("token-two", &value, now));
        assert!(!session_valid(
            "token-one",
            &value,
            now + Duration::hours(2)
        ));
        assert!(!session_valid("token-one", "9999999999.00", now));
        assert!(token_matches("token-one", "token-one"));
        assert!(!token_matches("token-one", "token-one "));
    }
}
