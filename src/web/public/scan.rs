//! Where a phone camera lands: the label URIs in both forms (`/01/...` GS1 Digital Link,
//! `/T/...` short form), the product pages they link to, and GS1-conformant resolver
//! behaviour (link types, linksets, CORS) on the GS1 form.
//!
//! Order of work per scan: verify the proof (a forged code costs no database read), record
//! the scan (group commit; stored before the page is sent), render.

use askama::Template;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use sha2::{Digest, Sha256};

use super::resolver::{self, Wanted};
use super::scan_view::{self, ScanPage, cert_line};
use crate::app::labels::{Verdict, VerdictKind};
use crate::domain::gs1::DigitalLink;
use crate::domain::scan::{NewScan, ReportInput, ScanSummary, client_kind};
use crate::labelcode;
use crate::web::AppState;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, PageError};
use crate::web::i18n::Lang;

/// Longest label URI path and query accepted; a label's is under 200 characters.
const MAX_URI: usize = 2048;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/01/{*rest}",
            get(label_page).post(report).options(resolver::preflight),
        )
        .route("/T/{*rest}", get(label_page).post(report))
        .route("/t/{*rest}", get(label_page).post(report))
        .route("/products/{id}", get(product_page))
        .route("/.well-known/gs1resolver", get(resolver::description))
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024))
}

/// The label URI as printed: the service's base URL and the request's path and query.
fn printed_uri(state: &AppState, uri: &axum::http::Uri) -> String {
    let anchor = resolver::anchor(state, uri);
    match uri.query() {
        Some(q) => format!("{anchor}?{q}"),
        None => anchor,
    }
}

fn query_param(uri: &axum::http::Uri, name: &str) -> Option<String> {
    uri.query().and_then(|q| {
        url_pairs(q)
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    })
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default()
}

/// The page of a verdict that names no product: a forgery, a bad URI.
fn verdict_page(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    kind: VerdictKind,
    path: &str,
    reported: bool,
) -> Response {
    let s = lang.scan_texts();
    let (class, title, body, steps) = scan_view::banner(kind, s);
    // A code that looks like a label but is not one: shoppers may report the counterfeit.
    let reportable = kind != VerdictKind::Malformed;
    let mut page = message_page(
        lang,
        &state.settings.base_url(),
        (class, title, body, steps),
        path,
        reportable,
    );
    page.reported = reported;
    html(status, &page, None)
}

/// No product has the GTIN (or id) asked for.
fn unknown_product(state: &AppState, lang: Lang, path: &str) -> Response {
    let s = lang.scan_texts();
    let banner = (
        "bad",
        s.unknown_product_title,
        s.unknown_product_body,
        false,
    );
    html(
        StatusCode::NOT_FOUND,
        &message_page(lang, &state.settings.base_url(), banner, path, false),
        None,
    )
}

/// The beginning every scan page in a language shares, up to its inlined stylesheet: gzip
/// compresses it once for all (`compress::SharedPrefixes`).
pub fn shared_prefixes() -> Vec<String> {
    [Lang::Vi, Lang::En]
        .into_iter()
        .filter_map(|lang| {
            let page = message_page(lang, "", ("", "", "", false), "/", false);
            let html = page.render().ok()?;
            let end = html.find("</style>\n")? + "</style>\n".len();
            Some(html[..end].to_owned())
        })
        .collect()
}

/// A plain page with a banner and no product.
fn message_page(
    lang: Lang,
    base_url: &str,
    (class, title, body, steps): (&'static str, &'static str, &'static str, bool),
    path: &str,
    reportable: bool,
) -> ScanPage {
    let s = lang.scan_texts();
    ScanPage {
        lang,
        t: lang.texts(),
        s,
        css: scan_view::CSS,
        path: path.to_owned(),
        canonical: format!("{base_url}{path}"),
        image: None,
        photo: None,
        title: title.to_owned(),
        description: body.to_owned(),
        verdict_class: class,
        banner_title: title,
        banner_body: body,
        recalled: false,
        recall_reason: None,
        recall_contact: None,
        show_steps: steps,
        scans: None,
        first_scanned: None,
        copy_warning: false,
        product: None,
        producer: None,
        lot: None,
        journey: Vec::new(),
        certs: Vec::new(),
        serial: None,
        report_action: reportable.then(|| path.to_owned()),
        reported: false,
        json_ld: String::new(),
    }
}

fn html(status: StatusCode, page: &ScanPage, etag: Option<&str>) -> Response {
    match page.render() {
        Ok(body) => {
            let mut response = (status, Html(body)).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                scan_view::content_security_policy(),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert(
                header::VARY,
                HeaderValue::from_static("Accept, Accept-Language, Cookie"),
            );
            if let Some(tag) = etag.and_then(|t| HeaderValue::from_str(t).ok()) {
                headers.insert(header::ETAG, tag);
            }
            response
        }
        Err(e) => PageError::from(e).into_response(),
    }
}

/// GET (and HEAD) of a label URI in either form.
async fn label_page(
    State(state): State<AppState>,
    ctx: RequestContext,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path().to_owned();
    let gs1 = path.starts_with("/01/");
    let printed = printed_uri(&state, &uri);
    let link = gs1.then(|| resolver::link_header(&state, &uri));
    let lang = ctx.lang;
    let mut response = if path.len() + uri.query().map_or(0, str::len) > MAX_URI {
        verdict_page(
            &state,
            lang,
            StatusCode::URI_TOO_LONG,
            VerdictKind::Malformed,
            "/",
            false,
        )
    } else if gs1 {
        gs1_response(&state, lang, &method, &uri, &printed, &headers).await
    } else {
        match verify(&state, &printed).await {
            Ok(v) => label_response(&state, lang, &method, &uri, &headers, v).await,
            Err(r) => r,
        }
    };
    if let Some(link) = link {
        resolver::add_cors_and_link(response.headers_mut(), &link);
    }
    response
}

/// The verdict on a printed URI: the proof first (no database work for a forgery), then the
/// records, through the scan cache.
async fn verify(state: &AppState, printed: &str) -> Result<Verdict, Response> {
    let label = match labelcode::verify(printed, &state.keyring) {
        Ok(label) => label,
        Err(rejection) => return Ok(Verdict::rejected(rejection)),
    };
    match state
        .scan_cache
        .verdict(&*state.store, label, state.clock.now())
        .await
    {
        Ok(verdict) => Ok(verdict),
        Err(e) => Err(PageError::from(e).into_response()),
    }
}

/// The GS1 Digital Link form: a label (with AI 21) or a product (AI 01 alone or with a lot).
async fn gs1_response(
    state: &AppState,
    lang: Lang,
    method: &Method,
    uri: &axum::http::Uri,
    printed: &str,
    headers: &HeaderMap,
) -> Response {
    let link = match DigitalLink::parse(printed) {
        Ok(link) => link,
        Err(e) => {
            tracing::debug!(error = %e, "not a GS1 Digital Link");
            return verdict_page(
                state,
                lang,
                StatusCode::BAD_REQUEST,
                VerdictKind::Malformed,
                uri.path(),
                false,
            );
        }
    };
    let wanted = resolver::wanted(query_param(uri, "linkType").as_deref(), headers);
    if matches!(wanted, Wanted::Unknown) {
        return resolver::unknown_link_type();
    }
    if link.serial.is_none() {
        let product = match state.store.product_by_gtin(&link.gtin).await {
            Ok(Some(p)) => p,
            Ok(None) => {
                return unknown_product(state, lang, uri.path());
            }
            Err(e) => return PageError::from(e).into_response(),
        };
        return match wanted {
            Wanted::Page => {
                resolver::redirect_passing_query(&resolver::default_link(state, uri, &product), uri)
            }
            other => resolver::answer(state, uri, &product, None, other),
        };
    }
    let verdict = match verify(state, printed).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    match (&verdict.product, wanted) {
        (Some(product), w @ (Wanted::Linkset | Wanted::Redirect(_))) => {
            let lot = verdict.lot.as_ref().map(|l| l.data.code.as_str());
            resolver::answer(state, uri, product, lot, w)
        }
        _ => label_response(state, lang, method, uri, headers, verdict).await,
    }
}

/// Records the scan (when the label's proof held) and renders the verdict page.
async fn label_response(
    state: &AppState,
    lang: Lang,
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    verdict: Verdict,
) -> Response {
    let kind = verdict.verdict;
    // Coming back from the report form is not another scan.
    let reported = query_param(uri, "reported").is_some();
    let counts = *method == Method::GET && !reported;
    if counts {
        state
            .metrics
            .scans
            .get_or_create(&crate::web::metrics::VerdictLabels {
                verdict: kind.code().to_owned(),
            })
            .inc();
    }
    let status = match kind {
        VerdictKind::Genuine
        | VerdictKind::NotActivated
        | VerdictKind::Void
        | VerdictKind::Recalled => StatusCode::OK,
        VerdictKind::Malformed => StatusCode::BAD_REQUEST,
        VerdictKind::NotGenuine | VerdictKind::UnknownKey | VerdictKind::RevokedKey => {
            StatusCode::NOT_FOUND
        }
    };
    let (Some(batch_id), Some(index), Some(product)) =
        (verdict.batch_id, verdict.index, verdict.product.clone())
    else {
        // A forgery: no row, no lookup, an explanation.
        return verdict_page(state, lang, status, kind, uri.path(), reported);
    };
    let now = state.clock.now();
    // HEAD asks about the page without anyone looking at a label: not a scan.
    let mut summary = None;
    if counts {
        let scan = NewScan {
            batch_id,
            label_index: index,
            verdict: kind.code(),
            client: client_kind(
                headers
                    .get(header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default(),
            ),
            scanned_at: now,
        };
        match state.scans.record(scan).await {
            Ok(s) => summary = Some(s),
            // Not stored, so not shown as scanned: the shopper is asked to try again.
            Err(e) => {
                tracing::error!(error = %e, "scan not recorded");
                return PageError(AppError::Unavailable(e)).into_response();
            }
        }
    }
    if summary.is_none() {
        summary = match state.store.label_scans(batch_id, index).await {
            Ok(s) => Some(s),
            Err(e) => return PageError::from(e).into_response(),
        };
    }
    let page = match build_page(state, lang, uri, Some(&verdict), summary, product, reported).await
    {
        Ok(page) => page,
        Err(response) => return response,
    };
    let etag = page_etag(&page, kind);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(tag) = HeaderValue::from_str(&etag) {
            response.headers_mut().insert(header::ETAG, tag);
        }
        return response;
    }
    html(status, &page, Some(&etag))
}

/// A weak ETag over what the page says, except the running scan count: a repeat visit
/// costs a 304 even though each visit is counted.
fn page_etag(page: &ScanPage, kind: VerdictKind) -> String {
    let mut h = Sha256::new();
    h.update(kind.code());
    h.update(page.lang.code());
    h.update(page.first_scanned.as_deref().unwrap_or_default());
    h.update([u8::from(page.copy_warning), u8::from(page.reported)]);
    if let Some(p) = &page.product {
        h.update(p.updated_at.timestamp_micros().to_le_bytes());
    }
    if let Some(o) = &page.producer {
        h.update(o.updated_at.timestamp_micros().to_le_bytes());
    }
    if let Some(l) = &page.lot {
        h.update(l.updated_at.timestamp_micros().to_le_bytes());
    }
    for c in &page.certs {
        h.update(c.badge);
        h.update(&c.number);
        h.update(c.verified.as_deref().unwrap_or_default());
    }
    h.update(env!("CARGO_PKG_VERSION"));
    format!("W/\"{}\"", hex::encode(&h.finalize()[..12]))
}

/// The page of a label (with a verdict) or of a product (without).
async fn build_page(
    state: &AppState,
    lang: Lang,
    uri: &axum::http::Uri,
    verdict: Option<&Verdict>,
    summary: Option<ScanSummary>,
    product: crate::domain::product::Product,
    reported: bool,
) -> Result<ScanPage, Response> {
    let internal = |e: crate::store::StoreError| PageError::from(e).into_response();
    let s = lang.scan_texts();
    let today = state.clock.now().date_naive();
    let context = state
        .scan_cache
        .product(
            &*state.store,
            product.id,
            product.data.producer_id,
            state.clock.now(),
        )
        .await
        .map_err(internal)?;
    let producer = context.producer.clone();
    let certs = &crate::domain::certification::shown_on(&context.certs, today);
    let (class, title, body, steps) = match verdict {
        Some(v) => scan_view::banner(v.verdict, s),
        None => ("", "", "", false),
    };
    let lot = verdict.and_then(|v| v.lot.clone());
    let recalled = verdict.is_some_and(|v| v.verdict == VerdictKind::Recalled);
    // Whom to call about a recall: read only for a recalled lot's label (rare).
    let recall_contact = match lot.as_ref().filter(|_| recalled) {
        Some(l) => state
            .store
            .recalls_of_lot(l.id)
            .await
            .map_err(internal)?
            .into_iter()
            .find(|r| r.is_open())
            .map(|r| r.data.contact),
        None => None,
    };
    // The lot's journey: indexed reads of the events naming it and what it was made from.
    let journey = match &lot {
        Some(l) => {
            let gtin = product.data.gtin.map(|g| g.as_gtin14());
            let class = crate::domain::epcis::journey::lot_class_id(
                gtin.as_deref(),
                product.id,
                &l.data.code,
            );
            let steps = crate::app::events::journey(&state.app, &class, product.data.producer_id)
                .await
                .map_err(|e| PageError::from(e).into_response())?;
            steps
                .iter()
                .map(|step| scan_view::JourneyLine::of(step, lang))
                .collect()
        }
        None => Vec::new(),
    };
    let path = uri.path().to_owned();
    let base_url = state.settings.base_url();
    let canonical = format!("{base_url}{path}");
    // Link previews and schema.org take an image by its whole address.
    let image = (product.data.photo_url.as_deref()).map(|url| match url.starts_with('/') {
        true => format!("{base_url}{url}"),
        false => url.to_owned(),
    });
    let serial = verdict.and_then(|v| v.serial.clone());
    let digital_link = path.starts_with("/01/").then_some(canonical.as_str());
    let json_ld = scan_view::json_ld(
        &product,
        producer.as_ref(),
        certs,
        digital_link,
        serial.as_deref(),
        image.as_deref(),
    );
    let description = match &producer {
        Some(o) => format!(
            "{} · {} · {}",
            product.data.name, o.data.name, o.data.province.name
        ),
        None => product.data.name.clone(),
    };
    Ok(ScanPage {
        lang,
        t: lang.texts(),
        s,
        css: scan_view::CSS,
        title: match verdict {
            Some(_) => format!("{} · {}", title, product.data.name),
            None => product.data.name.clone(),
        },
        description,
        canonical,
        image,
        photo: (product.data.photo_url.as_deref()).and_then(crate::photos::Sizes::from_address),
        verdict_class: class,
        banner_title: title,
        banner_body: body,
        recalled,
        recall_reason: lot
            .as_ref()
            .filter(|_| recalled)
            .and_then(|l| l.recall_reason.clone()),
        recall_contact,
        show_steps: steps,
        first_scanned: summary.and_then(|s| s.first_at).map(scan_view::when),
        copy_warning: summary.is_some_and(|s| s.suggests_copy()),
        scans: summary,
        certs: certs.iter().map(|c| cert_line(c, today, s)).collect(),
        producer,
        lot,
        journey,
        serial,
        report_action: verdict.map(|_| path.clone()),
        reported,
        json_ld,
        path,
        product: Some(product),
    })
}

/// `/products/{id}`: the product information page (`gs1:pip`), optionally with a lot.
async fn product_page(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let product = match id.parse::<i64>() {
        Ok(id) => match state.store.product(id).await {
            Ok(product) => product,
            Err(e) => return PageError::from(e).into_response(),
        },
        Err(_) => None,
    };
    let Some(product) = product else {
        return unknown_product(&state, ctx.lang, uri.path());
    };
    let lang = ctx.lang;
    let lot = match query_param(&uri, "lot")
        .filter(|code| crate::domain::lot::check_lot_code(code).is_ok())
    {
        Some(code) => match state.store.lot_by_code(product.id, &code).await {
            Ok(lot) => lot,
            Err(e) => return PageError::from(e).into_response(),
        },
        None => None,
    };
    match build_page(&state, lang, &uri, None, None, product, false).await {
        Ok(mut page) => {
            page.lot = lot;
            html(StatusCode::OK, &page, None)
        }
        Err(r) => r,
    }
}

/// A shopper's report from a label page: rate limited, stored, then back to the page.
async fn report(
    State(state): State<AppState>,
    ctx: RequestContext,
    OriginalUri(uri): OriginalUri,
    Form(input): Form<ReportInput>,
) -> Response {
    if let Err(wait) = state.report_limiter.check_client(ctx.client) {
        return PageError(AppError::TooMany(wait)).into_response();
    }
    let printed = printed_uri(&state, &uri);
    let verdict = match verify(&state, &printed).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let product_id = verdict.product.as_ref().map(|p| p.id);
    let report = match input.validate(verdict.batch_id, verdict.index, product_id) {
        Ok(r) => r,
        Err(e) => return PageError::from(e).into_response(),
    };
    if let Err(e) = state.store.add_report(&report, state.clock.now()).await {
        return PageError::from(e).into_response();
    }
    Redirect::to(&format!("{}?reported=1#report", uri.path())).into_response()
}
