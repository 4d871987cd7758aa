//! Public pages: the home page, the language switch and the embedded assets.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::AppState;
use super::context;
use super::error::PageError;
use super::i18n::{Lang, Texts};
use crate::domain::organization::Organization;
use crate::domain::product::Product;
use crate::store::ListQuery;

/// What the shared layout of every page needs.
pub struct Layout {
    pub lang: Lang,
    pub t: &'static Texts,
    pub title: String,
    /// The path of this page, for the language switch to come back to.
    pub path: String,
    pub asset_version: &'static str,
}

impl Layout {
    pub fn new(lang: Lang, title: &str, path: &str) -> Layout {
        Layout {
            lang,
            t: lang.texts(),
            title: title.to_owned(),
            path: if path.is_empty() {
                "/".into()
            } else {
                path.to_owned()
            },
            asset_version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// A role's name in the page's language.
    pub fn role(&self, role: &crate::domain::people::Role) -> &'static str {
        match self.lang {
            Lang::Vi => role.label_vi(),
            Lang::En => role.label_en(),
        }
    }

    /// The layout for the request being served.
    pub fn current(title: &str, path: &str) -> Layout {
        Layout::new(context::current().lang, title, path)
    }
}

/// Renders a typed template as an HTML response.
pub fn render(page: &impl Template) -> Result<Response, PageError> {
    Ok(Html(page.render()?).into_response())
}

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
    let layout = Layout::current("", "/");
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

const STYLE: &str = include_str!("../../assets/style.css");
const ICON: &str = include_str!("../../assets/icon.svg");

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
