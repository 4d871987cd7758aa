//! Drives the app in process (no sockets) through `tower::ServiceExt::oneshot`.

#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use clap::Parser;
use http_body_util::BodyExt;
use tower::ServiceExt;
use truyxuat::app::access::{self, TokenRequest};
use truyxuat::app::{App, Caller, accounts};
use truyxuat::clock::ManualClock;
use truyxuat::domain::people::{Membership, PersonInput, Role};
use truyxuat::web::{self, AppState};

use super::changes::Changes;
use super::db::TestDb;
use super::fixtures::now;

/// The operator every `TestApp` has: their login and password.
pub const OPERATOR_LOGIN: &str = "vanhanh@test.truyxuat.vn";
pub const PASSWORD: &str = "mật khẩu thử nghiệm";

pub struct TestApp {
    pub db: TestDb,
    pub router: Router,
    /// The app's clock, at `fixtures::now()` until a test moves it.
    pub clock: Arc<ManualClock>,
    /// The application layer on the same store and clock.
    pub app: App,
    /// An operator's API token (the operator is `OPERATOR_LOGIN`).
    pub token: String,
    /// The data folder (finished print runs).
    pub data: tempfile::TempDir,
    /// The key that signs the audit log's checkpoints.
    pub audit_key: truyxuat::auditkey::AuditKey,
}

/// A signed-in browser: its session cookie and the session's form token.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    /// The body as sent (compressed, when the request accepted that).
    pub body_bytes: Vec<u8>,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
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
    /// The app on a fresh SQLite database, with an operator and their API token.
    pub async fn new() -> TestApp {
        Self::build(None).await
    }

    /// The app as served behind `base_url`.
    pub async fn with_base_url(base_url: &str) -> TestApp {
        Self::build(Some(base_url)).await
    }

    async fn build(base_url: Option<&str>) -> TestApp {
        Self::build_on(TestDb::sqlite().await, base_url, &[]).await
    }

    /// The app with these settings too (`["--request-timeout-secs", "1"]`).
    pub async fn with_settings(settings: &[&str]) -> TestApp {
        Self::build_on(TestDb::sqlite().await, None, settings).await
    }

    /// The app on `db`, with an operator and their API token.
    pub async fn on(db: TestDb) -> TestApp {
        Self::build_on(db, None, &[]).await
    }

    /// The app on `db`, with the demo registry loaded.
    pub async fn on_with_demo(db: TestDb) -> TestApp {
        Self::build_on(db, None, &[]).await.load_demo().await
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

    async fn build_on(db: TestDb, base_url: Option<&str>, settings: &[&str]) -> TestApp {
        let mut args = vec![
            "truyxuat".to_owned(),
            "--database-url".into(),
            db.url.clone(),
        ];
        if let Some(b) = base_url {
            args.extend(["--base-url".into(), b.into()]);
        }
        let data = tempfile::tempdir().expect("a data folder");
        args.extend(["--data-dir".into(), data.path().display().to_string()]);
        // The audit key is made in the key folder: this test's own.
        let keys = data.path().join("keys");
        args.extend(["--key-dir".into(), keys.display().to_string()]);
        // Checkpoints only when a test signs one: a background one would change the tables
        // between two snapshots of a test that compares them.
        args.extend(["--audit-checkpoint-secs".into(), "0".into()]);
        args.extend(settings.iter().map(|s| s.to_string()));
        args.push("migrate".into());
        let cli = truyxuat::cli::Cli::parse_from(args);
        let keyring = truyxuat::labelcode::Keyring::single(
            truyxuat::labelcode::KeySeed::from_bytes([7; 32]),
            now(),
        );
        let clock = Arc::new(ManualClock::new(now()));
        let app = App::new(db.store.clone(), clock.clone());
        let token = operator_token(&app).await;
        let state = AppState::new(db.store.clone(), cli.settings, clock.clone(), keyring);
        let audit_key = state
            .audit_key
            .clone()
            .expect("an audit key in the test's key folder");
        TestApp {
            audit_key,
            router: web::app(state),
            db,
            clock,
            app,
            token,
            data,
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

    /// A GET as a browser sends it, accepting gzip: the body as sent is `body_bytes`.
    pub async fn get_gzip(&self, path: &str) -> Reply {
        self.get_with(path, "accept-encoding", "gzip").await
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
        self.api_with(&self.token, method, path, body).await
    }

    /// An API call with `token` rather than the test operator's.
    pub async fn api_with(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: serde_json::Value,
    ) -> Reply {
        self.send(
            Request::builder()
                .method(method)
                .uri(path)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    pub async fn api_get(&self, path: &str) -> Reply {
        self.send(
            Request::get(path)
                .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
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

    /// Signs `login` in with `password`; returns the session, or the refusal.
    pub async fn sign_in(&self, login: &str, password: &str) -> Result<Session, Reply> {
        let reply = self
            .post_form("/login", &[("login", login), ("password", password)], None)
            .await;
        if reply.status != StatusCode::SEE_OTHER {
            return Err(reply);
        }
        let cookie = reply
            .header("set-cookie")
            .split(';')
            .next()
            .expect("cookie")
            .to_owned();
        // The session's form token, as a console page gives it.
        let page = self.get_with("/console", "cookie", &cookie).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let csrf = page
            .html()
            .select(&scraper::Selector::parse("input[name=csrf]").unwrap())
            .next()
            .and_then(|e| e.value().attr("value"))
            .expect("a form token on the console page")
            .to_owned();
        Ok(Session { cookie, csrf })
    }

    /// Signs the operator in to the console.
    pub async fn console_login(&self) -> Session {
        self.sign_in(OPERATOR_LOGIN, PASSWORD)
            .await
            .unwrap_or_else(|r| panic!("sign-in refused: {} {}", r.status, r.body))
    }

    /// A console form post by `session`, with its form token.
    pub async fn post_console(
        &self,
        path: &str,
        form: &[(&str, &str)],
        session: &Session,
    ) -> Reply {
        let mut fields = form.to_vec();
        fields.push(("csrf", &session.csrf));
        self.post_form(path, &fields, Some(&session.cookie)).await
    }
}

impl TestApp {
    /// A person with `role` at `organization` (made at the command line), signed in.
    pub async fn member(&self, login: &str, organization: i64, role: Role) -> Session {
        let input = PersonInput {
            login: login.into(),
            display_name: format!("Thành viên {login}"),
        }
        .validate()
        .unwrap();
        let membership = Membership::of(organization, role);
        accounts::create_person(
            &self.app,
            &Caller::cli(),
            &input,
            &[membership],
            Some(PASSWORD),
        )
        .await
        .unwrap();
        self.sign_in(login, PASSWORD).await.unwrap()
    }

    /// An API token of a new person holding `role` in `organization`.
    pub async fn member_token(&self, login: &str, organization: i64, role: Role) -> String {
        let input = PersonInput {
            login: login.into(),
            display_name: format!("Thành viên {login}"),
        }
        .validate()
        .unwrap();
        let membership = Membership::of(organization, role);
        let person =
            accounts::create_person(&self.app, &Caller::cli(), &input, &[membership], None)
                .await
                .unwrap();
        let request = TokenRequest {
            organization_id: Some(organization),
            role,
            name: "tests".into(),
            days: 30,
        };
        access::create_token(&self.app, &Caller::cli(), person.id, &request)
            .await
            .unwrap()
            .0
    }
}

/// A file in a multipart form: field name, file name, content type, bytes.
pub struct FilePart<'a> {
    pub field: &'a str,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

impl TestApp {
    /// A console form with a file, posted by `session` as a browser does
    /// (multipart/form-data, the form token first).
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<FilePart<'_>>,
        session: &Session,
    ) -> Reply {
        let boundary = "----truyxuat-test-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        let csrf = [("csrf", session.csrf.as_str())];
        for (name, value) in csrf.iter().chain(fields) {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .bytes(),
            );
        }
        if let Some(f) = file {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n\
                     Content-Type: {}\r\n\r\n",
                    f.field, f.file_name, f.content_type
                )
                .bytes(),
            );
            body.extend_from_slice(f.bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").bytes());
        self.send(
            Request::post(path)
                .header(header::COOKIE, &session.cookie)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }
}

/// Makes the test operator (through the application layer) and an API token of theirs.
async fn operator_token(app: &App) -> String {
    let person = PersonInput {
        login: OPERATOR_LOGIN.into(),
        display_name: "Vận hành".into(),
    }
    .validate()
    .unwrap();
    let operator = accounts::create_person(
        app,
        &Caller::cli(),
        &person,
        &[Membership::operator()],
        Some(PASSWORD),
    )
    .await
    .expect("the test operator");
    let request = TokenRequest {
        organization_id: None,
        role: Role::Operator,
        name: "tests".into(),
        days: 30,
    };
    access::create_token(app, &Caller::cli(), operator.id, &request)
        .await
        .expect("the test operator's token")
        .0
}

/// `s` percent-encoded for a URI's query or one path segment.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
