//! Signing in and staying signed in, as a browser sees it: sessions that end when they
//! should, forms that need their CSRF token and this site's origin, and sign-in throttling
//! with a log line for every failure.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use truyxuat::app::access::{self, TokenRequest};
use truyxuat::app::{Caller, accounts};
use truyxuat::domain::people::{Membership, PersonInput, PersonStatus, Role};

use crate::support::changes::Changes;
use crate::support::fixtures::{self, now};
use crate::support::http::{OPERATOR_LOGIN, PASSWORD, Reply, Session, TestApp};
use crate::support::logs;

/// A cooperative with an editor (`bientap@htx.vn`, password `PASSWORD`); returns the
/// cooperative's id and the editor's.
async fn editor(app: &TestApp) -> (i64, i64) {
    let coop = app
        .db
        .store
        .create_organization(&fixtures::cooperative("HTX Chè Cầu Đất").build(), now())
        .await
        .unwrap()
        .id;
    let person = PersonInput {
        login: "bientap@htx.vn".into(),
        display_name: "Biên tập".into(),
    }
    .validate()
    .unwrap();
    let member = Membership::of(coop, Role::Editor);
    let editor =
        accounts::create_person(&app.app, &Caller::cli(), &person, &[member], Some(PASSWORD))
            .await
            .unwrap();
    (coop, editor.id)
}

/// The console as `session` sees it: 200, or a redirect to the sign-in page.
async fn console(app: &TestApp, session: &Session) -> Reply {
    app.get_with("/console", "cookie", &session.cookie).await
}

fn signed_out(reply: &Reply) -> bool {
    reply.status == StatusCode::SEE_OTHER && reply.header("location").starts_with("/login")
}

#[tokio::test]
async fn a_session_ends_at_sign_out_and_its_cookie_opens_nothing_again() {
    let app = TestApp::new().await;
    let session = app.console_login().await;
    let other = app.console_login().await;
    assert_ne!(
        session.cookie, other.cookie,
        "a new session id at every sign-in"
    );
    assert_eq!(console(&app, &session).await.status, StatusCode::OK);

    let out = app.post_console("/console/logout", &[], &session).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(
        out.header("set-cookie").contains("Max-Age=0"),
        "{}",
        out.header("set-cookie")
    );
    assert!(signed_out(&console(&app, &session).await));
    // Signing out here ends this session only.
    assert_eq!(console(&app, &other).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_new_password_ends_every_session_of_the_person() {
    let app = TestApp::new().await;
    let here = app.console_login().await;
    let phone = app.console_login().await;
    let wrong = app
        .post_console(
            "/console/password",
            &[
                ("current_password", "not the password"),
                ("new_password", "một mật khẩu mới dài"),
            ],
            &here,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        wrong.texts("#current_password-error"),
        vec!["Mật khẩu hiện tại không đúng."]
    );
    assert_eq!(console(&app, &phone).await.status, StatusCode::OK);

    let changed = app
        .post_console(
            "/console/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "một mật khẩu mới dài"),
            ],
            &here,
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    assert!(
        signed_out(&console(&app, &here).await),
        "the old cookie of this browser"
    );
    assert!(signed_out(&console(&app, &phone).await), "the other device");
    // This browser carries on with the session it was given.
    let cookie = changed
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.get_with("/console", "cookie", &cookie).await.status,
        StatusCode::OK
    );
    assert!(app.sign_in(OPERATOR_LOGIN, PASSWORD).await.is_err());
    assert!(
        app.sign_in(OPERATOR_LOGIN, "một mật khẩu mới dài")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn disabling_a_person_ends_their_sessions_and_their_tokens() {
    let app = TestApp::new().await;
    let (coop, editor) = editor(&app).await;
    let session = app.sign_in("bientap@htx.vn", PASSWORD).await.unwrap();
    let request = TokenRequest {
        organization_id: Some(coop),
        role: Role::Editor,
        name: "kế toán".into(),
        days: 30,
    };
    let (token, _) = access::create_token(&app.app, &Caller::cli(), editor, &request)
        .await
        .unwrap();
    let bearer = format!("Bearer {token}");
    assert_eq!(console(&app, &session).await.status, StatusCode::OK);
    assert_eq!(
        app.get_with("/api/v1/products", "authorization", &bearer)
            .await
            .status,
        StatusCode::OK
    );
    accounts::set_status(&app.app, &Caller::cli(), editor, PersonStatus::Disabled)
        .await
        .unwrap();
    assert!(signed_out(&console(&app, &session).await));
    assert_eq!(
        app.get_with("/api/v1/products", "authorization", &bearer)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let again = app.sign_in("bientap@htx.vn", PASSWORD).await.unwrap_err();
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    // Enabled again, the person signs in anew; the old session stays ended.
    accounts::set_status(&app.app, &Caller::cli(), editor, PersonStatus::Active)
        .await
        .unwrap();
    assert!(signed_out(&console(&app, &session).await));
    assert!(app.sign_in("bientap@htx.vn", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn losing_the_role_ends_the_sessions_of_the_person() {
    let app = TestApp::new().await;
    let (coop, editor) = editor(&app).await;
    let session = app.sign_in("bientap@htx.vn", PASSWORD).await.unwrap();
    accounts::revoke_role(&app.app, &Caller::cli(), editor, Some(coop))
        .await
        .unwrap();
    assert!(signed_out(&console(&app, &session).await));
}

/// A console form post with whatever headers and body the test gives.
async fn post(app: &TestApp, cookie: &str, headers: &[(&str, &str)], body: String) -> Reply {
    let mut request = Request::post("/console/products/new")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .header(header::HOST, "truyxuat.test");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Body::from(body)).unwrap()).await
}

#[tokio::test]
async fn a_form_without_its_token_or_from_another_site_is_refused() {
    let app = TestApp::new().await;
    let (coop, _) = editor(&app).await;
    let session = app.sign_in("bientap@htx.vn", PASSWORD).await.unwrap();
    let product = format!("producer_id={coop}&name=Ch%C3%A8&category=x&unit=y");
    let with_token = format!("{product}&csrf={}", session.csrf);
    let before = app.db.snapshot().await;

    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a String);
    let cases: [Case; 5] = [
        ("no token", &[("origin", "http://truyxuat.test")], &product),
        ("a wrong token", &[], &format!("{product}&csrf=abc")),
        (
            "another origin",
            &[("origin", "https://evil.example")],
            &with_token,
        ),
        (
            "a foreign referrer",
            &[("referer", "https://evil.example/x")],
            &with_token,
        ),
        ("an opaque origin", &[("origin", "null")], &with_token),
    ];
    for (what, headers, body) in cases {
        let reply = post(&app, &session.cookie, headers, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{what}: {}",
            reply.body
        );
        assert_eq!(
            reply.header("content-type"),
            "text/html; charset=utf-8",
            "{what}"
        );
    }
    assert_eq!(app.db.snapshot().await, before, "nothing stored");

    // The same form from this site, with its token, goes through.
    let ok = post(
        &app,
        &session.cookie,
        &[("origin", "http://truyxuat.test")],
        with_token,
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    // So does one whose token is a header (a script of the console's).
    let header = post(
        &app,
        &session.cookie,
        &[("x-csrf-token", &session.csrf)],
        product.replace("name=Ch%C3%A8", "name=Tr%C3%A0"),
    )
    .await;
    assert_eq!(header.status, StatusCode::SEE_OTHER, "{}", header.body);
}

#[tokio::test(flavor = "current_thread")]
async fn the_eleventh_wrong_password_in_a_minute_is_refused_and_every_failure_logged() {
    let app = TestApp::new().await;
    editor(&app).await;
    let log = logs::capture();

    // A password typed into the login field is a failure like any other, and not logged.
    let slip = app.sign_in("MậtKhẩuBíMật!2026", "").await.unwrap_err();
    assert_eq!(slip.status, StatusCode::UNAUTHORIZED);
    let unknown = app
        .sign_in("khongco@htx.vn", "sai mật khẩu rồi")
        .await
        .unwrap_err();
    let mut wrong = Vec::new();
    for n in 0..9 {
        let reply = app
            .sign_in("bientap@htx.vn", &format!("sai mật khẩu {n}"))
            .await
            .unwrap_err();
        wrong.push(reply);
    }
    // An unknown login and a wrong password read the same.
    for reply in &wrong {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.texts(".alert"), unknown.texts(".alert"));
    }
    // The 10th try of the account's minute is still answered; the 11th is not, even with
    // the right password.
    let tenth = app
        .sign_in("bientap@htx.vn", "sai mật khẩu 10")
        .await
        .unwrap_err();
    assert_eq!(tenth.status, StatusCode::UNAUTHORIZED);
    let eleventh = app.sign_in("bientap@htx.vn", PASSWORD).await.unwrap_err();
    assert_eq!(eleventh.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(eleventh.header("retry-after").parse::<u64>().unwrap() >= 1);
    // Another account is not locked out by it.
    assert!(app.sign_in(OPERATOR_LOGIN, PASSWORD).await.is_ok());

    let failures = log.lines("sign-in failed");
    assert_eq!(failures.len(), 12, "{failures:#?}");
    assert!(log.lines("MậtKhẩuBíMật").is_empty());
    assert_eq!(log.lines("(not a login)").len(), 1);
    assert!(failures.iter().all(|l| l.contains("WARN")));
    assert_eq!(
        failures
            .iter()
            .filter(|l| l.contains("bientap@htx.vn"))
            .count(),
        10
    );
    assert_eq!(log.lines("too many tries").len(), 1);
    // No password in any line.
    let all = log.lines("");
    assert!(
        all.iter()
            .all(|l| !l.contains("sai mật khẩu") && !l.contains(PASSWORD))
    );

    // A minute later the account may try again.
    app.clock.advance(chrono::Duration::seconds(61));
    assert!(app.sign_in("bientap@htx.vn", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn the_inspection_workspace_is_for_inspectors_only() {
    let app = TestApp::new().await;
    let (coop, _) = editor(&app).await;
    let store = &app.db.store;
    let authority = store
        .create_organization(&fixtures::department("Sở NN&MT Lâm Đồng").build(), now())
        .await
        .unwrap()
        .id;
    let product = store
        .create_product(&fixtures::product(coop, "Chè Ô Long").build(), now())
        .await
        .unwrap()
        .id;
    let cert = fixtures::ocop(coop, authority, "77/QĐ-UBND")
        .product(product)
        .build();
    store.create_certification(&cert, now()).await.unwrap();
    let person = PersonInput {
        login: "thanhtra@ld.vn".into(),
        display_name: "Thanh tra".into(),
    }
    .validate()
    .unwrap();
    let member = Membership::of(authority, Role::Inspector);
    accounts::create_person(&app.app, &Caller::cli(), &person, &[member], Some(PASSWORD))
        .await
        .unwrap();

    let inspector = app.sign_in("thanhtra@ld.vn", PASSWORD).await.unwrap();
    let page = app.get_with("/inspect", "cookie", &inspector.cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.texts("#awaiting td:nth-child(3)"), vec!["77/QĐ-UBND"]);
    assert_eq!(
        page.texts("#producers td:nth-child(2)"),
        vec!["HTX Chè Cầu Đất"]
    );
    assert_eq!(page.header("cache-control"), "no-store");

    // An editor is refused, in the language of the request.
    let editor = app.sign_in("bientap@htx.vn", PASSWORD).await.unwrap();
    let refused = app.get_with("/inspect", "cookie", &editor.cookie).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.texts("h1"), vec!["403 · Không có quyền"]);
    let english = app
        .send(
            Request::get("/inspect")
                .header(header::COOKIE, &editor.cookie)
                .header(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(english.status, StatusCode::FORBIDDEN);
    assert_eq!(english.texts("h1"), vec!["403 · Not allowed"]);
    assert!(signed_out(&app.get("/inspect").await));
}

#[tokio::test]
async fn one_client_trying_many_logins_is_held_back_behind_a_trusted_proxy() {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    let app = TestApp::with_settings(&["--trusted-proxies", "127.0.0.1"]).await;
    let try_login = async |login: String, client: &str| {
        let body = format!("login={login}&password=sai-mat-khau-roi");
        let request = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("x-forwarded-for", client)
            .extension(ConnectInfo(
                "127.0.0.1:40000".parse::<SocketAddr>().unwrap(),
            ))
            .body(Body::from(body))
            .unwrap();
        app.send(request).await
    };
    // 30 tries of 30 logins from one client, each login tried once: all answered.
    for n in 0..30 {
        let reply = try_login(format!("nguoi{n}@htx.vn"), "203.0.113.5").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "try {n}");
    }
    let held = try_login("nguoi99@htx.vn".into(), "203.0.113.5").await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(!held.header("retry-after").is_empty());
    // Another shopper behind the same proxy signs in.
    let other = try_login(OPERATOR_LOGIN.into(), "203.0.113.6").await;
    assert_eq!(
        other.status,
        StatusCode::UNAUTHORIZED,
        "a wrong password, not held back"
    );
}

#[tokio::test]
async fn over_https_the_session_cookie_is_host_only_secure_and_http_only() {
    let app = TestApp::with_base_url("https://truyxuat.lamdong.gov.vn").await;
    let reply = app
        .post_form(
            "/login",
            &[("login", OPERATOR_LOGIN), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let cookie = reply.header("set-cookie");
    assert!(cookie.starts_with("__Host-truyxuat_session="), "{cookie}");
    for attribute in ["Path=/", "HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(
            cookie.split("; ").any(|a| a == attribute),
            "{attribute} in {cookie}"
        );
    }
    assert!(!cookie.contains("Domain="), "{cookie}");
    // The session id is long and random: 32 characters of base32 at least.
    let id = cookie.split(';').next().unwrap().split('=').nth(1).unwrap();
    assert!(id.len() >= 32, "{id}");
    let session = app.sign_in(OPERATOR_LOGIN, PASSWORD).await.unwrap();
    assert!(session.cookie.starts_with("__Host-"));
    // Over plain http the cookie is the plain one (a browser refuses __Host- without TLS).
    let plain = TestApp::new().await;
    let reply = plain
        .post_form(
            "/login",
            &[("login", OPERATOR_LOGIN), ("password", PASSWORD)],
            None,
        )
        .await;
    assert!(reply.header("set-cookie").starts_with("truyxuat_session="));
    assert!(!reply.header("set-cookie").contains("Secure"));
}
