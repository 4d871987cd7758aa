//! The home page, the language switch and the embedded assets.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::domain::organization::Organization;
use crate::domain::product::Product;
use crate::store::ListQuery;
use crate::web::AppState;
use crate::web::context::RequestContext;
use crate::web::error::PageError;
use crate::web::i18n::Lang;
use crate::web::layout::{Layout, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/lang/{code}", get(switch_language))
        .route("/assets/style.css", get(style))
        .route("/assets/icon.svg", get(icon))
}

#[derive(Deserialize)]
struct HomeQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    query: String,
    products: Vec<Product>,
    producers: Vec<Organization>,
}

async fn home(
    State(state): State<AppState>,
    ctx: RequestContext,
    Query(q): Query<HomeQuery>,
) -> Result<Response, PageError> {
    let search = ListQuery {
        search: Some(q.q.clone()).filter(|s| !s.trim().is_empty()),
        limit: Some(60),
        offset: None,
    };
    let products = state.store.list_products(&search, None).await?;
    let producers = state
        .store
        .list_organizations(&search)
        .await?
        .into_iter()
        .filter(|o| o.data.kind.is_producer())
        .collect();
    let layout = Layout::new(ctx.lang, "", "/");
    render(&HomePage {
        layout,
        query: q.q,
        products,
        producers,
    })
}

#[derive(Deserialize)]
struct SwitchQuery {
    next: Option<String>,
}

/// Remembers the language in a cookie and goes back to the page the reader was on.
async fn switch_language(
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(q): Query<SwitchQuery>,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or_default();
    let next = q.next.as_deref().and_then(same_site_path).unwrap_or("/");
    let mut response = Redirect::to(next).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&format!(
        "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    )) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `next` when it is a path on this site, else None: never an open redirect. Browsers drop
/// tabs and line breaks from a URL and read `\\` as `/`, so `/\t/evil.example/` would
/// leave the site; only visible ASCII is taken, and the path must not start with `//`.
fn same_site_path(next: &str) -> Option<&str> {
    let visible = next.bytes().all(|b| b.is_ascii_graphic());
    let local = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    (visible && local && next.parse::<axum::http::uri::PathAndQuery>().is_ok()).then_some(next)
}

const STYLE: &str = include_str!("../../../assets/style.css");
const ICON: &str = include_str!("../../../assets/icon.svg");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

async fn icon() -> Response {
    asset("image/svg+xml", ICON)
}

#[cfg(test)]
mod tests {
    use super::same_site_path;

    #[test]
    fn the_language_switch_goes_back_only_to_a_path_of_this_site() {
        assert_eq!(
            same_site_path("/01/08936049120015?lot=A"),
            Some("/01/08936049120015?lot=A")
        );
        assert_eq!(
            same_site_path("/T/0F9QGPN36EE7DAMVR5C5"),
            Some("/T/0F9QGPN36EE7DAMVR5C5")
        );
        for bad in [
            "//evil.example/",
            "/\t/evil.example/",
            "/\\evil.example",
            "/\r\nSet-Cookie: x=1",
            "/\0",
            "https://evil.example/",
            "/ /evil",
            "/é",
            "",
        ] {
            assert_eq!(same_site_path(bad), None, "{bad:?}");
        }
    }
}
