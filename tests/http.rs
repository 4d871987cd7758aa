//! The HTTP service as its users meet it: pages, the API, the console, probes.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::http::TestApp;

#[tokio::test]
async fn probes_answer_and_metrics_count_requests() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.json()["database"], "sqlite");
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics.body.contains(
            r#"truyxuat_http_requests_total{method="GET",route="/readyz",status="200"} 1"#
        ),
        "{}",
        metrics.body
    );
}

#[tokio::test]
async fn the_home_page_lists_demo_producers_and_products_vietnamese_first() {
    let app = TestApp::with_demo().await;
    let page = app.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.texts("html").len(), 1);
    assert!(page.body.contains(r#"<html lang="vi">"#));
    let products = page.texts(".card strong");
    assert!(
        products.contains(&"Gạo Nàng Thơm Chợ Đào".to_owned()),
        "{products:?}"
    );
    assert!(products.contains(&"HTX Nông nghiệp Dịch vụ Xuân Thọ".to_owned()));
    assert_eq!(page.texts("h2"), vec!["Sản phẩm", "Cơ sở sản xuất"]);

    let english = app.get_with("/", "accept-language", "en-GB,en;q=0.9").await;
    assert!(english.body.contains(r#"<html lang="en">"#));
    assert_eq!(english.texts("h2"), vec!["Products", "Producers"]);
    // A chosen language is remembered in a cookie and beats the browser's.
    let switch = app.get("/lang/vi?next=/%3Fq%3Dgao").await;
    assert_eq!(switch.status, StatusCode::SEE_OTHER);
    assert_eq!(switch.header("location"), "/?q=gao");
    assert!(switch.header("set-cookie").starts_with("lang=vi"));
    let remembered = app
        .send(
            axum::http::Request::get("/")
                .header("accept-language", "en")
                .header("cookie", "lang=vi")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert!(remembered.body.contains(r#"<html lang="vi">"#));
    // Never an open redirect, and never a 500: browsers drop tabs and line breaks from a
    // URL, so `/<TAB>/evil.example/` would leave the site.
    for next in [
        "//evil.example",
        "/%09/evil.example/",
        "/%0D%0ASet-Cookie:%20x=1",
        "/%0A/evil.example",
        "/%00",
        "%2F%5Cevil.example",
        "https://evil.example/",
    ] {
        let reply = app.get(&format!("/lang/en?next={next}")).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{next}");
        assert_eq!(reply.header("location"), "/", "{next}");
    }
}

#[tokio::test]
async fn home_search_ignores_diacritics() {
    let app = TestApp::with_demo().await;
    let page = app.get("/?q=gao+nang+thom").await;
    assert_eq!(
        page.texts("ul.cards:first-of-type .card strong")[0],
        "Gạo Nàng Thơm Chợ Đào"
    );
    assert!(!page.body.contains("Cà phê"));
}

#[tokio::test]
async fn every_response_carries_security_headers_and_a_request_id() {
    let app = TestApp::new().await;
    let page = app.get("/").await;
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    assert!(
        page.header("content-security-policy")
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(
        page.header("referrer-policy"),
        "strict-origin-when-cross-origin"
    );
    assert_eq!(page.header("x-request-id").len(), 36);
}

#[tokio::test]
async fn unknown_pages_get_a_page_and_unknown_api_paths_get_problem_json() {
    let app = TestApp::new().await;
    let page = app.get("/no/such/page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.header("content-type").starts_with("text/html"));
    // The page shows the request id, so a shopper can quote it.
    let id = page.header("x-request-id").to_owned();
    assert!(
        page.texts("section.error code").contains(&id),
        "{}",
        page.body
    );

    let api = app.api_get("/api/v1/nothing").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.header("content-type"), "application/problem+json");
    assert_eq!(api.json()["status"], 404);
    let api = app.api_get("/api/v1/products/abc").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_api_needs_the_operator_token() {
    let app = TestApp::new().await;
    let anonymous = app.get("/api/v1/products").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.header("content-type"), "application/problem+json");
    let wrong = app
        .get_with("/api/v1/products", "authorization", "Bearer not-the-token")
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.api_get("/api/v1/products").await.status, StatusCode::OK);

    // A token that was revoked opens nothing any more.
    let operator = app
        .app
        .store
        .person_by_login(crate::support::http::OPERATOR_LOGIN)
        .await
        .unwrap()
        .unwrap();
    let tokens = app.app.store.api_tokens_of(operator.0.id).await.unwrap();
    truyxuat::app::access::revoke_token(&app.app, &truyxuat::app::Caller::cli(), tokens[0].id)
        .await
        .unwrap();
    let revoked = app.api_get("/api/v1/products").await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
    assert_eq!(revoked.header("content-type"), "application/problem+json");
}

/// Creates a cooperative, an authority and a product through the API; returns their ids.
async fn registry(app: &TestApp) -> (i64, i64, i64) {
    let coop = app
        .api(
            "POST",
            "/api/v1/organizations",
            json!({"kind": "cooperative", "name": "HTX Chè Tân Cương", "province": "Thái Nguyên"}),
        )
        .await;
    assert_eq!(coop.status, StatusCode::CREATED, "{}", coop.body);
    let council = app
        .api(
            "POST",
            "/api/v1/organizations",
            json!({"kind": "ocop_council", "name": "Hội đồng OCOP Thái Nguyên", "province": "thai-nguyen"}),
        )
        .await;
    let (coop, council) = (
        coop.json()["id"].as_i64().unwrap(),
        council.json()["id"].as_i64().unwrap(),
    );
    let tea = app
        .api(
            "POST",
            "/api/v1/products",
            json!({"producer_id": coop, "name": "Chè Tân Cương", "category": "Đồ uống", "unit": "gói 200 g", "gtin": "8934588012112"}),
        )
        .await;
    assert_eq!(tea.status, StatusCode::CREATED, "{}", tea.body);
    assert_eq!(tea.json()["gtin"], "08934588012112");
    (coop, council, tea.json()["id"].as_i64().unwrap())
}

#[tokio::test]
async fn bad_input_is_refused_with_422_naming_the_field_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let (coop, council, tea) = registry(&app).await;
    let cases = [
        (
            "/api/v1/products",
            json!({"producer_id": coop, "name": "Chè", "category": "x", "unit": "y", "gtin": "8934588012113"}),
            "gtin",
        ),
        (
            "/api/v1/products",
            json!({"producer_id": coop, "name": "  ", "category": "x", "unit": "y"}),
            "name",
        ),
        (
            "/api/v1/lots",
            json!({"product_id": tea, "code": "LÔ-01", "produced_on": "2026-10-01"}),
            "code",
        ),
        (
            "/api/v1/lots",
            json!({"product_id": tea, "code": "L123456789012345678901", "produced_on": "2026-10-01"}),
            "code",
        ),
        (
            "/api/v1/lots",
            json!({"product_id": tea, "code": "L1", "produced_on": "2026-10-01", "expires_on": "2026-09-30"}),
            "expires_on",
        ),
        (
            "/api/v1/organizations",
            json!({"kind": "cooperative", "name": "HTX", "province": "Bình Định"}),
            "province",
        ),
        (
            "/api/v1/certifications",
            json!({"holder_id": coop, "issuer_id": council, "kind": "vietgap", "number": "1", "issued_on": "2026-01-01", "valid_until": "2025-12-31"}),
            "valid_until",
        ),
        (
            "/api/v1/certifications",
            json!({"holder_id": coop, "issuer_id": council, "kind": "ocop", "ocop_stars": 6, "number": "2", "issued_on": "2026-01-01", "valid_until": "2027-12-31"}),
            "ocop_stars",
        ),
        (
            "/api/v1/certifications",
            json!({"holder_id": coop, "issuer_id": coop, "kind": "organic", "number": "3", "issued_on": "2026-01-01", "valid_until": "2027-12-31"}),
            "issuer_id",
        ),
    ];
    for (path, body, field) in cases {
        let reply = app.api("POST", path, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {body}: {}",
            reply.body
        );
        assert!(
            reply.problem_fields().contains(&field.to_owned()),
            "{path} {body}: {}",
            reply.body
        );
    }
    // Nothing but the registry set up first was stored.
    let count = |path: &'static str| {
        let app = &app;
        async move { app.api_get(path).await.json().as_array().unwrap().len() }
    };
    assert_eq!(count("/api/v1/organizations").await, 2);
    assert_eq!(count("/api/v1/products").await, 1);
    assert_eq!(count("/api/v1/lots").await, 0);
    assert_eq!(count("/api/v1/certifications").await, 0);
}

#[tokio::test]
async fn conflicts_and_malformed_bodies_get_their_own_statuses() {
    let app = TestApp::new().await;
    let (coop, _, _) = registry(&app).await;
    let duplicate = app
        .api(
            "POST",
            "/api/v1/products",
            json!({"producer_id": coop, "name": "Chè khác", "category": "x", "unit": "y", "gtin": "08934588012112"}),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_eq!(duplicate.problem_fields(), vec!["gtin"]);

    let broken = app
        .send(
            axum::http::Request::post("/api/v1/products")
                .header("authorization", format!("Bearer {}", app.token))
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{not json"))
                .unwrap(),
        )
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.header("content-type"), "application/problem+json");

    let wrong_shape = app
        .api("POST", "/api/v1/products", json!({"name": 5}))
        .await;
    assert_eq!(wrong_shape.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong_shape.problem_fields(), vec!["body"]);

    // A body over the API's 10 MB (a name of 11 MB): too large, said as a problem.
    let huge =
        json!({"producer_id": coop, "name": "Đ".repeat(5_500_000), "category": "x", "unit": "y"});
    let too_large = app.api("POST", "/api/v1/products", huge).await;
    assert_eq!(
        too_large.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        too_large.body
    );
    assert_eq!(too_large.header("content-type"), "application/problem+json");
}

#[tokio::test]
async fn the_api_reads_updates_and_reviews() {
    let app = TestApp::new().await;
    let (coop, council, tea) = registry(&app).await;
    let renamed = app
        .api(
            "PUT",
            &format!("/api/v1/products/{tea}"),
            json!({"producer_id": coop, "name": "Chè Tân Cương đặc biệt", "category": "Đồ uống", "unit": "gói 200 g"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(
        app.api_get(&format!("/api/v1/products/{tea}")).await.json()["name"],
        "Chè Tân Cương đặc biệt"
    );
    let found = app
        .api_get("/api/v1/products?q=che%20tan%20cuong")
        .await
        .json();
    assert_eq!(found.as_array().unwrap().len(), 1);

    let pdf = app
        .send(
            axum::http::Request::post("/api/v1/documents?name=ocop.pdf")
                .header("authorization", format!("Bearer {}", app.token))
                .header("content-type", "application/pdf")
                .body(axum::body::Body::from("%PDF-1.7 scan"))
                .unwrap(),
        )
        .await;
    assert_eq!(pdf.status, StatusCode::CREATED);
    let sha = pdf.json()["sha256"].as_str().unwrap().to_owned();
    let html = app
        .send(
            axum::http::Request::post("/api/v1/documents")
                .header("authorization", format!("Bearer {}", app.token))
                .header("content-type", "text/html")
                .body(axum::body::Body::from("<script>"))
                .unwrap(),
        )
        .await;
    assert_eq!(html.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The content decides, not the declared type.
    let disguised = app
        .send(
            axum::http::Request::post("/api/v1/documents")
                .header("authorization", format!("Bearer {}", app.token))
                .header("content-type", "image/png")
                .body(axum::body::Body::from("<html><script>alert(1)</script>"))
                .unwrap(),
        )
        .await;
    assert_eq!(disguised.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(disguised.problem_fields(), vec!["content_type"]);

    let cert = app
        .api(
            "POST",
            "/api/v1/certifications",
            json!({"holder_id": coop, "product_id": tea, "issuer_id": council, "kind": "ocop", "ocop_stars": 4, "number": "77/QĐ-UBND", "issued_on": "15/01/2025", "valid_until": "14/01/2028", "evidence_sha256": sha}),
        )
        .await;
    assert_eq!(cert.status, StatusCode::CREATED, "{}", cert.body);
    assert_eq!(cert.json()["status"], "submitted");
    let id = cert.json()["id"].as_i64().unwrap();
    let verified = app
        .api(
            "POST",
            &format!("/api/v1/certifications/{id}/status"),
            json!({"status": "verified"}),
        )
        .await;
    assert_eq!(verified.json()["status"], "verified");
    assert_eq!(verified.json()["status_changed_by"], "Vận hành (tests)");
    let again = app
        .api(
            "POST",
            &format!("/api/v1/certifications/{id}/status"),
            json!({"status": "rejected"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.problem_fields(), vec!["status"]);
}

#[tokio::test]
async fn the_console_form_comes_back_with_the_error_beside_the_field() {
    let app = TestApp::with_demo().await;
    // Without a session the console sends people to the login page.
    let anonymous = app.get("/console/products/new").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(
        anonymous.header("location").starts_with("/login"),
        "{}",
        anonymous.header("location")
    );

    let session = app.console_login().await;
    let before = app
        .api_get("/api/v1/products")
        .await
        .json()
        .as_array()
        .unwrap()
        .len();
    let form = [
        ("producer_id", "1"),
        ("name", "Mứt dâu Đà Lạt"),
        ("category", "Thực phẩm"),
        ("unit", "hũ 300 g"),
        ("gtin", "8934588012113"),
        ("photo_url", ""),
    ];
    let refused = app
        .post_console("/console/products/new", &form, &session)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.texts("#gtin-error"),
        vec!["Chữ số kiểm tra sai: phải là 2; hãy xem lại mã in trên bao bì"]
    );
    // What was typed is still there.
    assert!(
        refused.body.contains(r#"value="Mứt dâu Đà Lạt""#),
        "{}",
        refused.body
    );
    assert_eq!(
        app.api_get("/api/v1/products")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        before
    );

    let mut good = form;
    good[4] = ("gtin", "");
    let saved = app
        .post_console("/console/products/new", &good, &session)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let found = app.api_get("/api/v1/products?q=mut%20dau").await.json();
    assert_eq!(found[0]["name"], "Mứt dâu Đà Lạt");

    let org = app
        .post_console(
            "/console/organizations/new",
            &[
                ("kind", "cooperative"),
                ("name", ""),
                ("province", "Kiên Giang"),
            ],
            &session,
        )
        .await;
    assert_eq!(org.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The console speaks Vietnamese first: the rule's words, not the domain's English.
    assert_eq!(org.texts("#name-error"), vec!["Không được để trống"]);
    // The API gives the rule's code beside the English words.
    let api = app
        .api(
            "POST",
            "/api/v1/organizations",
            serde_json::json!({"kind": "cooperative", "name": "", "province": "Kiên Giang"}),
        )
        .await;
    assert_eq!(api.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = api.json()["errors"].clone();
    let name = errors
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "name")
        .unwrap()
        .clone();
    assert_eq!(name["code"], "required");
    assert_eq!(name["message"], "must not be empty");
    assert_eq!(
        org.texts("#province-error"),
        vec!["'Kiên Giang' không phải một trong 34 tỉnh, thành phố"]
    );
    let province = errors
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "province")
        .unwrap()
        .clone();
    assert_eq!(province["code"], "not_in_list");
    assert_eq!(province["argument"], "Kiên Giang");
    assert!(
        province["message"]
            .as_str()
            .unwrap()
            .contains("34 provinces")
    );

    // A form posted from another site is refused even with the cookie.
    let cross = app
        .send(
            axum::http::Request::post("/console/products/new")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", &session.cookie)
                .header("origin", "https://evil.example")
                .header("host", "127.0.0.1:8080")
                .body(axum::body::Body::from("name=x"))
                .unwrap(),
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
}
