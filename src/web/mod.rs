//! The HTTP face of truyxuat, one router per audience: `public` (shoppers: home, product
//! and scan pages, the resolver, reports), `api` (machines, with a token), `console`
//! (cooperatives), `inspect` (inspectors) and `auth` (signing in, one-time links), each
//! guarded once by what it requires; over shared plumbing: errors, the page layout, i18n,
//! the request context, compression, metrics, rate limits and the security headers below.

pub mod api;
pub mod audit;
pub mod auth;
pub mod compress;
pub mod console;
pub mod context;
pub mod downloads;
pub mod epcis;
pub mod error;
pub mod health;
pub mod i18n;
pub mod inspect;
pub mod layout;
pub mod metrics;
pub mod public;
pub mod rate_limit;
pub mod rules;
pub mod server;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::CompressionLevel;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::App;
use crate::clock::Clock;
use crate::config::Settings;
use crate::labelcode::Keyring;
use crate::scans::ScanRecorder;
use crate::store::Store;
use error::{ApiError, AppError, PageError};
use metrics::Metrics;
use public::scan_cache::ScanCache;
use rate_limit::{ClientLimiter, KeyedLimiter};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The application layer, through which every change goes.
    pub app: App,
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    /// The label keys, loaded at start-up (restart after `truyxuat keys rotate`).
    pub keyring: Arc<Keyring>,
    /// Writes scans in group commits.
    pub scans: ScanRecorder,
    /// Limits shoppers' problem reports per client: 5 at once, then one every 2 minutes.
    pub report_limiter: Arc<ClientLimiter>,
    /// Limits sign-in tries per account: 10 at once, then one every 6 seconds.
    pub login_by_account: Arc<KeyedLimiter<String>>,
    /// Limits sign-in tries per client: 30 at once, then one every 2 seconds.
    pub login_by_client: Arc<ClientLimiter>,
    /// Verdicts, producers and certificates of recently scanned labels.
    pub scan_cache: Arc<ScanCache>,
    /// Wakes the print worker when a job is queued.
    pub print_jobs: crate::worker::Bell,
    /// Wakes the worker that captures large EPCIS documents.
    pub capture_jobs: crate::worker::Bell,
    /// The key that signs the audit log's checkpoints; None when the key folder could not
    /// give one (the log is then served unsigned: no checkpoint, no tile).
    pub audit_key: Option<crate::auditkey::AuditKey>,
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        settings: Settings,
        clock: Arc<dyn Clock>,
        keyring: Keyring,
    ) -> AppState {
        let scan_cache_ttl = Duration::from_millis(settings.scan_cache_ttl_ms);
        let report_limiter = Arc::new(ClientLimiter::new(
            5,
            Duration::from_secs(120),
            clock.clone(),
        ));
        let keyring = Arc::new(keyring);
        let print_jobs = crate::jobs::PrintWorker {
            store: store.clone(),
            clock: clock.clone(),
            keyring: keyring.clone(),
            base: settings.label_base().ok(),
            folder: settings.print_folder(),
            keep: chrono::Duration::days(i64::from(settings.print_files_days.max(1))),
        }
        .start();
        let app = App::new(store.clone(), clock.clone()).with_base_url(settings.base_url());
        let capture_jobs = crate::app::capture_jobs::start_worker(app.clone());
        let origin = crate::auditkey::origin_of(&settings.base_url());
        let audit_key = match crate::auditkey::load_or_create(&settings.key_dir, &origin) {
            Ok(key) => {
                if settings.audit_checkpoint_secs > 0 {
                    crate::app::auditlog::start_checkpointer(
                        app.clone(),
                        key.clone(),
                        Duration::from_secs(settings.audit_checkpoint_secs),
                    );
                }
                Some(key)
            }
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "no audit key: the audit log is not checkpointed");
                None
            }
        };
        AppState {
            print_jobs,
            capture_jobs,
            audit_key,
            app,
            scans: ScanRecorder::start(store.clone()),
            store,
            settings: Arc::new(settings),
            metrics: Metrics::new(),
            keyring,
            report_limiter,
            login_by_account: Arc::new(KeyedLimiter::new(
                10,
                Duration::from_secs(6),
                clock.clone(),
            )),
            login_by_client: Arc::new(ClientLimiter::new(
                30,
                Duration::from_secs(2),
                clock.clone(),
            )),
            clock,
            scan_cache: Arc::new(ScanCache::new(scan_cache_ttl)),
        }
    }

    /// `keys.json`: the public keys, and the base URL their labels point at.
    pub fn published_keys(&self) -> crate::labelcode::KeysDocument {
        let mut document = self.keyring.public_keys();
        document.base_urls = vec![self.settings.base_url()];
        document.audit_log_vkey = self.audit_key.as_ref().map(|k| k.vkey.clone());
        document
    }
}

/// Content-Security-Policy for every response: nothing but this site, no framing.
const CSP: &str = "default-src 'self'; img-src 'self' https: data:; style-src 'self'; \
                   script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

/// The whole application, ready to serve.
///
/// The layers every response passes through wrap the router once, as one service, rather
/// than each route (as `Router::layer` does): a request then clones one stack of layers, not
/// a boxed copy per layer and route.
pub fn app(state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let https = state.settings.base_url().starts_with("https://");
    let request_scope = context::Scope {
        proxies: state.settings.trusted_proxies.clone(),
        time_limit: Duration::from_secs(state.settings.request_timeout_secs.max(1)),
    };
    let routes = Router::new()
        .merge(public::router())
        .merge(health::router())
        .merge(audit::router())
        .merge(api::router(state.clone()))
        .merge(epcis::router(state.clone()))
        .merge(api::openapi::router())
        .merge(console::router(state.clone()))
        .merge(inspect::router(state.clone()))
        .merge(auth::router())
        .fallback(not_found)
        .route_layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .with_state(state);
    // Outermost first.
    let every_response = ServiceBuilder::new()
        // Browsers remember to use https only when the site is served over it.
        .option_layer(https.then(|| {
            security_header(
                header::STRICT_TRANSPORT_SECURITY,
                "max-age=31536000; includeSubDomains",
            )
        }))
        .layer(SetRequestIdLayer::new(x_request_id.clone(), RandomRequestId))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let path = auth::loggable_path(request.uri().path());
                tracing::info_span!("http", method = %request.method(), path = %path, request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(x_request_id))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(security_header(header::REFERRER_POLICY, "strict-origin-when-cross-origin"))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(compress::SharedPrefixes::new(public::scan::shared_prefixes())),
            compress::small_responses,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(request_scope),
            context::scope,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError(AppError::Internal("handler panicked".into())).into_response()
        }));
    Router::new().fallback_service(every_response.service(routes))
}

/// A random (version 4) UUID for each request, from the thread's random generator: tower-http's
/// `MakeRequestUuid` asks the kernel for every one, a system call per request.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        HeaderValue::from_str(&id.to_string())
            .ok()
            .map(RequestId::new)
    }
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Unknown paths: problem+json under `/api/`, a page elsewhere.
async fn not_found(request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        ApiError(AppError::NotFound("resource")).into_response()
    } else {
        PageError(AppError::NotFound("page")).into_response()
    }
}

/// Serves until SIGINT or SIGTERM, then finishes the requests in flight.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let limits = state.settings.connection_limits();
    server::serve(listener, app(state), limits, shutdown_signal()).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    // `server::serve` gives the requests in flight a bounded grace period.
    tracing::info!("shutting down: finishing requests in flight");
}
