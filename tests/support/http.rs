//! Drives the app in process (no sockets) through `tower::ServiceExt::oneshot`.

#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use clap::Parser;
use http_body_util::BodyExt;
use tower::ServiceExt;
use truyxuat::clock::ManualClock;
use truyxuat::web::{self, AppState};

use super::changes::Changes;
use super::db::TestDb;
use super::fixtures::now;

pub const TOKEN: &str = "test-operator-token";

pub struct TestApp {
    pub db: TestDb,
    pub router: Router,
    /// The app's clock, at `fixtures::now()` until a test moves it.
    pub clock: Arc<ManualClock>,
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    /// The body as sent (compressed, when the request accepted that).
    pub body_bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn html(&self) -> scraper::Html {
        scraper::Html::parse_document(&self.body)
    }

    /// The text of every element matching `selector`.
    pub fn texts(&self, selector: &str) -> Vec<String> {
        let selector = scraper::Selector::parse(selector).expect("CSS selector");
        self.html()
            .select(&selector)
            .map(|e| e.text().collect::<String>().trim().to_owned())
            .collect()
    }

    /// The field names of a problem+json body's `errors`.
    pub fn problem_fields(&self) -> Vec<String> {
        assert_eq!(
            self.header("content-type"),
            "application/problem+json",
            "{}",
            self.body
        );
        self.json()["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    /// The app on a fresh SQLite database, with the operator token set.
    pub async fn new() -> TestApp {
        Self::with_token(Some(TOKEN)).await
    }

    pub async fn with_token(token: Option<&str>) -> TestApp {
        Self::build(token, None).await
    }

    /// The app as served behind `base_url`.
    pub async fn with_base_url(base_url: &str) -> TestApp {
        Self::build(Some(TOKEN), Some(base_url)).await
    }

    async fn build(token: Option<&str>, base_url: Option<&str>) -> TestApp {
        Self::build_on(TestDb::sqlite().await, token, base_url, &[]).await
    }

    /// The app with the operator token and these settings too (`["--request-timeout-secs",
    /// "1"]`).
    pub async fn with_settings(settings: &[&str]) -> TestApp {
        Self::build_on(TestDb::sqlite().await, Some(TOKEN), None, settings).await
    }

    /// The app on `db`, with the operator token set and the demo registry loaded.
    pub async fn on_with_demo(db: TestDb) -> TestApp {
        Self::build_on(db, Some(TOKEN), None, &[])
            .await
            .load_demo()
            .await
    }

    /// Loads the demo registry.
    pub async fn load_demo(self) -> TestApp {
        let bundle = truyxuat::demo::bundle().expect("demo bundle");
        self.db
            .store
            .import_registry(&bundle, now(), None)
            .await
            .expect("demo import");
        self
    }

    async fn build_on(
        db: TestDb,
        token: Option<&str>,
        base_url: Option<&str>,
        settings: &[&str],
    ) -> TestApp {
        let mut args = vec![
            "truyxuat".to_owned(),
            "--database-url".into(),
            db.url.clone(),
        ];
        if let Some(t) = token {
            args.extend(["--admin-token".into(), t.into()]);
        }
        if let Some(b) = base_url {
            args.extend(["--base-url".into(), b.into()]);
        }
        args.extend(settings.iter().map(|s| s.to_string()));
        args.push("migrate".into());
        let cli = truyxuat::cli::Cli::parse_from(args);
        let keyring = truyxuat::labelcode::Keyring::single(
            truyxuat::labelcode::KeySeed::from_bytes([7; 32]),
            now(),
        );
        let clock = Arc::new(ManualClock::new(now()));
        let state = AppState::new(db.store.clone(), cli.settings, clock.clone(), keyring);
        TestApp {
            router: web::app(state),
            db,
            clock,
        }
    }

    /// The app with the demo registry loaded.
    pub async fn with_demo() -> TestApp {
        TestApp::new().await.load_demo().await
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            body_bytes: bytes.to_vec(),
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn get_with(&self, path: &str, name: &str, value: &str) -> Reply {
        self.send(
            Request::get(path)
                .header(name, value)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// An API call with the operator token.
    pub async fn api(&self, method: &str, path: &str, body: serde_json::Value) -> Reply {
        self.send(
            Request::builder()
                .method(method)
                .uri(path)
                .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    pub async fn api_get(&self, path: &str) -> Reply {
        self.send(
            Request::get(path)
                .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// A form post, with a cookie when given.
    pub async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> Reply {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut request =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            request = request.header(header::COOKIE, c);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// Signs in to the console; returns the session cookie to send back.
    pub async fn console_login(&self) -> String {
        let reply = self
            .post_form("/console/login", &[("token", TOKEN)], None)
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        reply
            .header("set-cookie")
            .split(';')
            .next()
            .expect("cookie")
            .to_owned()
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
