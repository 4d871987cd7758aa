//! GS1-conformant resolver behaviour on GS1 Digital Link URIs: link types, RFC 9264
//! linksets, the `Link: rel="linkset"` header, CORS, and `/.well-known/gs1resolver`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};

use crate::domain::product::Product;
use crate::web::AppState;

/// The GS1 Web vocabulary, which link types abbreviate as `gs1:`.
const GS1_VOC: &str = "https://gs1.org/voc/";

/// What a request asks of a GS1 Digital Link URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// The default: the scan page itself.
    Page,
    /// The linkset (`?linkType=linkset` or `Accept: application/linkset+json`).
    Linkset,
    /// A resource of a known link type: `gs1:pip`, `gs1:certificationInfo`, ...
    Redirect(&'static str),
    /// A link type this resolver has no link for.
    Unknown,
}

/// The link types offered for every product, in linkset order.
const LINK_TYPES: [&str; 5] = [
    "pip",
    "certificationInfo",
    "traceability",
    "epcis",
    "verificationService",
];

/// Reads `linkType` (as `gs1:pip` or the full vocabulary URI) and `Accept`.
pub fn wanted(link_type: Option<&str>, headers: &HeaderMap) -> Wanted {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(link_type) = link_type.map(str::trim) else {
        return if accept.contains("application/linkset+json") {
            Wanted::Linkset
        } else {
            Wanted::Page
        };
    };
    let short = link_type
        .strip_prefix("gs1:")
        .or_else(|| link_type.strip_prefix(GS1_VOC))
        .unwrap_or(link_type);
    match short {
        "linkset" | "all" => Wanted::Linkset,
        "defaultLink" | "defaultLinkMulti" => Wanted::Page,
        _ => LINK_TYPES
            .iter()
            .find(|t| **t == short)
            .map_or(Wanted::Unknown, |t| Wanted::Redirect(t)),
    }
}

/// Where each link type points for `product` (and a lot, when the label names one).
fn target(
    state: &AppState,
    anchor: &str,
    product: &Product,
    lot: Option<&str>,
    link_type: &str,
) -> String {
    let base = state.settings.base_url();
    let lot_query = lot
        .map(|l| format!("?lot={}", urlencode(l)))
        .unwrap_or_default();
    match link_type {
        "pip" => format!("{base}/products/{}", product.id),
        "certificationInfo" => format!("{base}/products/{}#certifications", product.id),
        "traceability" => format!("{base}/products/{}{lot_query}#origin", product.id),
        // The EPCIS events of the lot (of the product, without one), for partners with a token.
        "epcis" => {
            let gtin = product.data.gtin.map(|g| g.as_gtin14());
            let class = match lot {
                Some(lot) => {
                    crate::domain::epcis::journey::lot_class_id(gtin.as_deref(), product.id, lot)
                }
                None => match &gtin {
                    Some(g) => format!("https://id.gs1.org/01/{g}"),
                    None => format!("urn:truyxuat:product:{}", product.id),
                },
            };
            format!(
                "{base}/epcis/events?MATCH_anyEPCClass={}",
                urlencode(&class)
            )
        }
        // The label's own page says whether it is genuine.
        _ => anchor.to_owned(),
    }
}

/// `s` percent-encoded for a URI's query or one path segment.
pub(crate) fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|p| p.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// The label URI as printed, without its query (and any trailing slash, which is
/// tolerated): what the links are about, and what verification reads.
pub fn anchor(state: &AppState, uri: &Uri) -> String {
    let path = uri.path();
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    format!("{}{path}", state.settings.base_url())
}

/// The JSON-LD context GS1 publishes for linksets, which a linkset response links to.
const LINKSET_CONTEXT: &str = "https://ref.gs1.org/standards/resolver/linkset-context";

/// The one `Link` header of every resolver response: the linkset of the Digital Link
/// (`rel="linkset"`) and the JSON-LD context of linksets, comma-joined (a client that keeps
/// one `Link` header, as GS1's test suite does, still sees both).
pub fn link_header(state: &AppState, uri: &Uri) -> String {
    format!(
        "<{}?linkType=linkset>; rel=\"linkset\"; type=\"application/linkset+json\", \
         <{LINKSET_CONTEXT}>; rel=\"http://www.w3.org/ns/json-ld#context\"; \
         type=\"application/ld+json\"",
        anchor(state, uri)
    )
}

/// CORS (any origin may resolve) and the resolver's `Link` header.
pub fn add_cors_and_link(headers: &mut HeaderMap, link: &str) {
    allow_any_origin(headers);
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Link, Location, ETag"),
    );
    if let Ok(v) = HeaderValue::from_str(link) {
        headers.insert(header::LINK, v);
    }
}

fn allow_any_origin(headers: &mut HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}

/// A temporary redirect to `to` that passes the request's query on (but for `linkType`,
/// which chose this link and would make `verificationService`, whose target is this very
/// URI, a loop), before any fragment of `to`.
pub fn redirect_passing_query(to: &str, uri: &Uri) -> Response {
    let Some(q) = query_without_link_type(uri) else {
        return Redirect::temporary(to).into_response();
    };
    let (head, fragment) = to.split_once('#').map_or((to, ""), |(h, f)| (h, f));
    let sep = if head.contains('?') { '&' } else { '?' };
    let hash = if fragment.is_empty() { "" } else { "#" };
    Redirect::temporary(&format!("{head}{sep}{q}{hash}{fragment}")).into_response()
}

/// The request's query without the resolver's own `linkType`: what a redirect passes on.
fn query_without_link_type(uri: &Uri) -> Option<String> {
    let pairs: Vec<(String, String)> = uri
        .query()
        .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
        .unwrap_or_default();
    let rest: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "linkType").collect();
    if rest.is_empty() {
        None
    } else {
        serde_urlencoded::to_string(rest).ok()
    }
}

/// The answer for a linkset or a link type.
pub fn answer(
    state: &AppState,
    uri: &Uri,
    product: &Product,
    lot: Option<&str>,
    wanted: Wanted,
) -> Response {
    let anchor = anchor(state, uri);
    match wanted {
        Wanted::Redirect(link_type) => {
            let to = target(state, &anchor, product, lot, link_type);
            redirect_passing_query(&to, uri)
        }
        _ => {
            let mut links = serde_json::Map::new();
            links.insert("anchor".into(), json!(anchor));
            let title = &product.data.name;
            links.insert("itemDescription".into(), json!(title));
            // The default link has a title and nothing else, as the standard asks.
            links.insert(
                format!("{GS1_VOC}defaultLink"),
                json!([{ "href": default_link(state, uri, product), "title": title }]),
            );
            for link_type in LINK_TYPES {
                links.insert(
                    format!("{GS1_VOC}{link_type}"),
                    json!([{
                        "href": target(state, &anchor, product, lot, link_type),
                        "title": title,
                        "type": "text/html",
                        "hreflang": ["vi", "en"],
                    }]),
                );
            }
            let body = json!({ "linkset": [Value::Object(links)] });
            (
                [(header::CONTENT_TYPE, "application/linkset+json")],
                body.to_string(),
            )
                .into_response()
        }
    }
}

/// A link type this resolver has no link for.
pub fn unknown_link_type() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/problem+json")],
        json!({
            "type": "about:blank",
            "title": "Not Found",
            "status": 404,
            "detail": "no link of this link type; ask for ?linkType=linkset to see the links",
        })
        .to_string(),
    )
        .into_response()
}

/// Where a plain request of the Digital Link `uri` goes: the label's own page for a label
/// (served at the Digital Link itself, to save shoppers a round trip), the product's page
/// for a product.
pub fn default_link(state: &AppState, uri: &Uri, product: &Product) -> String {
    if uri.path().contains("/21/") {
        anchor(state, uri)
    } else {
        format!("{}/products/{}", state.settings.base_url(), product.id)
    }
}

/// OPTIONS: what a browser asks before a cross-origin request, with the resolver's links.
pub async fn preflight(State(state): State<AppState>, uri: axum::extract::OriginalUri) -> Response {
    let mut response = preflight_answer();
    add_cors_and_link(response.headers_mut(), &link_header(&state, &uri));
    response
}

fn preflight_answer() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (header::ALLOW, "GET, HEAD, OPTIONS"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, OPTIONS"),
            (
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "Accept, Accept-Language",
            ),
            (header::ACCESS_CONTROL_MAX_AGE, "86400"),
        ],
    )
        .into_response()
}

/// `/.well-known/gs1resolver`: what this resolver resolves, as GS1's resolver description
/// schema (1.2.0) has it; any origin may read it.
pub async fn description(State(state): State<AppState>) -> Response {
    let base = state.settings.base_url();
    let mut response = Json(json!({
        "name": "truyxuat",
        "resolverRoot": base,
        "supportedPrimaryKeys": ["01"],
        "supportedLinkType": [{ "namespace": GS1_VOC, "prefix": "gs1:" }],
        // A plain request of a label's Digital Link is its page, not the linkset.
        "linkTypeDefaultCanBeLinkset": false,
        "supportedContextValuesEnumerated": [],
        "contact": { "fn": "truyxuat" },
        "jsonLdContextLocation": LINKSET_CONTEXT,
    }))
    .into_response();
    allow_any_origin(response.headers_mut());
    response
}
