//! The public scan page and the GS1 resolver, as a shopper's phone and a retailer's app
//! meet them: one test per rule.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;
use truyxuat::domain::certification::CertStatus;

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::support::changes::Changes;
use crate::support::cli_env::{CliEnv, Server};
use crate::support::fixtures::now;
use crate::support::http::{Reply, TestApp};
use crate::support::labels::mint;

/// Demo product 1 (Chè Ô Long, GTIN) lot CD-2026-10A: a genuine, activated label.
async fn genuine(app: &TestApp) -> String {
    mint(app, 1, 3, Some("CD-2026-10A")).await.remove(0)
}

async fn with(app: &TestApp, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

/// One `Link` header (a client may keep only one) with the linkset and the JSON-LD context.
fn link_header_points_to_linkset(reply: &Reply, path: &str) {
    assert_eq!(reply.headers.get_all("link").iter().count(), 1, "{path}");
    let link = reply.header("link");
    let anchor = path.split('?').next().unwrap().trim_end_matches('/');
    assert!(
        link.contains(&format!(
            "<http://127.0.0.1:8080{anchor}?linkType=linkset>; rel=\"linkset\""
        )),
        "Link: {link:?} for {path}"
    );
    assert!(
        link.split(',').any(
            |l| l.contains("rel=\"http://www.w3.org/ns/json-ld#context\"")
                && l.contains("type=\"application/ld+json\"")
        ),
        "Link: {link:?} for {path}"
    );
}

#[tokio::test]
async fn a_genuine_label_shows_product_origin_and_certificates_and_counts_scans() {
    let app = TestApp::with_demo().await;
    let path = genuine(&app).await;
    let page = app.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.texts("#verdict strong"), vec!["Tem chính hãng"]);
    assert_eq!(page.texts("#product h1"), vec!["Chè Ô Long Cầu Đất"]);
    assert!(page.texts("#producer p")[0].contains("HTX Nông nghiệp Dịch vụ Xuân Thọ"));
    assert_eq!(
        page.html()
            .select(&scraper::Selector::parse("a.tel[href='tel:02633821468']").unwrap())
            .count(),
        1
    );
    let origin = page.texts("#origin dd");
    assert!(origin.contains(&"CD-2026-10A".to_owned()), "{origin:?}");
    assert!(origin.contains(&"08/10/2026".to_owned()), "{origin:?}");
    assert!(origin.iter().any(|o| o.contains("Lâm Đồng")), "{origin:?}");
    let certs = page.texts("#certifications .cert");
    assert!(
        certs[0].contains("OCOP") && certs[0].contains("★★★★") && certs[0].contains("Còn hiệu lực"),
        "{certs:?}"
    );
    assert!(certs[0].contains("1520/QĐ-UBND") && certs[0].contains("Hội đồng OCOP tỉnh Lâm Đồng"));
    assert!(
        certs[0].contains("thanh.tra@sonnmt.lamdong"),
        "who verified it: {certs:?}"
    );
    assert_eq!(page.texts("#scan-count"), vec!["1"]);
    // Structured data and a preview for Zalo and Facebook.
    assert!(page.body.contains(r#""@type":"IndividualProduct""#));
    assert!(page.body.contains(
        r#""hasGS1DigitalLink":"http://127.0.0.1:8080/01/08936049120015/10/CD-2026-10A/21/"#
    ));
    assert!(page.body.contains(r#""hasCertification":[{"#));
    assert!(
        page.body.contains(
            r#"<meta property="og:title" content="Tem chính hãng · Chè Ô Long Cầu Đất">"#
        )
    );

    let again = app.get(&path).await;
    assert_eq!(again.texts("#scan-count"), vec!["2"]);
    assert_eq!(app.db.store.count_scans().await.unwrap(), 2);

    let english = with(&app, "GET", &path, &[("accept-language", "en")]).await;
    assert_eq!(english.texts("#verdict strong"), vec!["Genuine label"]);
}

#[tokio::test]
async fn each_label_state_gets_its_own_banner() {
    let app = TestApp::with_demo().await;
    let store = &app.db.store;
    // Not activated: minted without a lot.
    let fresh = mint(&app, 1, 2, None).await;
    let page = app.get(&fresh[0]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.texts("#verdict strong"),
        vec!["Tem chưa được kích hoạt"]
    );
    // Void.
    let labels = mint(&app, 1, 2, Some("CD-2026-10A")).await;
    let batch = store.list_batches(Some(1)).await.unwrap()[0].id;
    store
        .void(batch, Some("1..2".parse().unwrap()), now())
        .await
        .unwrap();
    assert_eq!(
        app.get(&labels[1]).await.texts("#verdict strong"),
        vec!["Tem đã bị hủy"]
    );
    // Recalled, with the reason.
    store
        .recall(
            1,
            "CD-2026-10A",
            "Phát hiện dư lượng thuốc bảo vệ thực vật",
            now(),
        )
        .await
        .unwrap();
    let recalled = app.get(&labels[0]).await;
    assert_eq!(
        recalled.texts("#verdict strong.recall"),
        vec!["SẢN PHẨM ĐÃ BỊ THU HỒI"]
    );
    assert!(recalled.texts("#verdict p")[0].contains("dư lượng"));
    // An expired certificate reads as expired (demo: Nhãn lồng, VietGAP until 2025-06-30).
    let longan = mint(&app, 8, 1, None).await;
    let batch = store.list_batches(Some(8)).await.unwrap()[0].id;
    store
        .activate(batch, "NL-2026-07", None, now())
        .await
        .unwrap();
    let page = app.get(&longan[0]).await;
    assert_eq!(page.texts("#verdict strong"), vec!["Tem chính hãng"]);
    assert!(page.texts("#certifications .badge.b-expired")[0].contains("Hết hạn"));
    // A certificate still pending says so (demo: Nước mắm, OCOP awaiting verification).
    let sauce = mint(&app, 6, 1, Some("PQ-THUNG-17")).await;
    assert_eq!(
        app.get(&sauce[0]).await.texts(".badge.b-pending"),
        vec!["Chờ xác minh"]
    );
}

/// The scan page keeps what a burst of scans reads, yet a change made in this process
/// shows on the very next scan of a label already scanned.
#[tokio::test]
async fn a_recall_or_a_revoked_certificate_shows_on_the_next_scan() {
    let app = TestApp::with_demo().await;
    let store = &app.db.store;
    let path = genuine(&app).await;
    let before = app.get(&path).await;
    assert_eq!(before.texts("#verdict strong"), vec!["Tem chính hãng"]);
    assert!(before.texts("#certifications .badge.b-revoked").is_empty());
    let certs = store
        .list_certifications(&Default::default(), Some(1))
        .await
        .unwrap();
    let verified = certs
        .iter()
        .find(|c| c.status == CertStatus::Verified)
        .unwrap();
    store
        .set_certification_status(verified.id, CertStatus::Revoked, "Chi cục QLCL", now())
        .await
        .unwrap();
    store
        .recall(1, "CD-2026-10A", "Nhiễm khuẩn", now())
        .await
        .unwrap();
    let after = app.get(&path).await;
    assert_eq!(
        after.texts("#verdict strong.recall"),
        vec!["SẢN PHẨM ĐÃ BỊ THU HỒI"]
    );
    assert_eq!(after.texts("#certifications .badge.b-revoked").len(), 1);
}

/// A change made by another process (another instance on the same database) shows once the
/// scan cache's time-to-live has passed, and not before: the cache is what spares a burst
/// of scans the database.
#[tokio::test]
async fn a_recall_made_by_another_process_shows_once_the_cache_expires() {
    let app = TestApp::with_demo().await;
    let path = genuine(&app).await;
    assert_eq!(
        app.get(&path).await.texts("#verdict strong"),
        vec!["Tem chính hãng"]
    );
    let other_process = truyxuat::store::open(&app.db.url).await.unwrap();
    other_process
        .recall(1, "CD-2026-10A", "Nhiễm khuẩn", now())
        .await
        .unwrap();
    app.clock.advance(chrono::Duration::milliseconds(1900));
    assert_eq!(
        app.get(&path).await.texts("#verdict strong"),
        vec!["Tem chính hãng"]
    );
    app.clock.advance(chrono::Duration::milliseconds(100));
    assert_eq!(
        app.get(&path).await.texts("#verdict strong"),
        vec!["SẢN PHẨM ĐÃ BỊ THU HỒI"]
    );
}

/// The cache's time-to-live is a setting: with 0 a running server reads the records on every
/// scan, so a recall made with the CLI shows on the next one.
#[test]
fn a_server_without_a_scan_cache_shows_a_recall_by_the_cli_at_once() {
    let env = CliEnv::new();
    let (_, uris) = env.demo_batch(2);
    let path = &uris[0]["https://truyxuat.lamdong.gov.vn".len()..];
    let server = env.serve_with(&[("TRUYXUAT_SCAN_CACHE_TTL_MS", "0")]);
    let verdict = |server: &Server| {
        let mut stream = TcpStream::connect(&server.address).unwrap();
        write!(stream, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let page = scraper::Html::parse_document(&response);
        let strong = scraper::Selector::parse("#verdict strong").unwrap();
        page.select(&strong)
            .map(|e| e.text().collect::<String>())
            .collect::<Vec<_>>()
    };
    assert_eq!(verdict(&server), vec!["Tem chính hãng"]);
    env.ok(&[
        "recall",
        "--product",
        "1",
        "--lot",
        "CD-2026-10A",
        "--reason",
        "Nhiễm khuẩn",
    ]);
    assert_eq!(verdict(&server), vec!["SẢN PHẨM ĐÃ BỊ THU HỒI"]);
    server.stop();
}

#[tokio::test]
async fn forged_and_broken_codes_get_an_explanation_and_write_nothing() {
    let app = TestApp::with_demo().await;
    let path = genuine(&app).await;
    let forged = format!("{}{}", &path[..path.len() - 3], "ZZZ");
    let page = app.get(&forged).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(page.texts("#verdict strong"), vec!["Tem không hợp lệ"]);
    assert!(!page.texts("section ul li").is_empty(), "what to do");
    // A shopper can report the counterfeit from its page.
    assert_eq!(page.texts("#report h2"), vec!["Báo cáo vấn đề"]);
    let reported = app
        .post_form(&forged, &[("message", "Mua ở chợ, tem in mờ")], None)
        .await;
    assert_eq!(reported.status, StatusCode::SEE_OTHER);
    let thanks = app.get(&format!("{forged}?reported=1")).await;
    assert_eq!(
        thanks.texts("#report p"),
        vec!["Cảm ơn bạn. Chúng tôi đã nhận được báo cáo."]
    );
    // Unknown key: slot 9 is used by no key.
    let serial = path.rsplit('/').next().unwrap();
    let unknown = path.replace(serial, &format!("9{}", &serial[1..]));
    let page = app.get(&unknown).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(
        page.texts("#verdict strong"),
        vec!["Không nhận ra mã ký của tem"]
    );
    // A broken GTIN is a syntax error; an unknown GTIN is not found.
    let page = app.get("/01/08936049120016/21/0F9QGPN36EE7DAMVR5C5").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        page.texts("#verdict strong"),
        vec!["Mã QR không đúng định dạng"]
    );
    let page = app.get("/01/08934588012112").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(
        page.texts("#verdict strong"),
        vec!["Không tìm thấy sản phẩm"]
    );
    let page = app.get(&format!("{path}?x={}", "a".repeat(3000))).await;
    assert_eq!(page.status, StatusCode::URI_TOO_LONG);
    assert_eq!(app.db.store.count_scans().await.unwrap(), 0);
    let metrics = app.get("/metrics").await.body;
    assert!(
        metrics.contains(r#"truyxuat_label_scans_total{verdict="not_genuine"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"truyxuat_label_scans_total{verdict="unknown_key"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn resolver_answers_a_linkset_by_query_or_accept_without_redirecting() {
    let app = TestApp::with_demo().await;
    let path = genuine(&app).await;
    for reply in [
        app.get(&format!("{path}?linkType=linkset")).await,
        with(
            &app,
            "GET",
            &path,
            &[("accept", "application/linkset+json")],
        )
        .await,
    ] {
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("content-type"), "application/linkset+json");
        let set = &reply.json()["linkset"][0];
        assert_eq!(set["anchor"], format!("http://127.0.0.1:8080{path}"));
        assert_eq!(
            set["https://gs1.org/voc/pip"][0]["href"],
            "http://127.0.0.1:8080/products/1"
        );
        assert!(set["https://gs1.org/voc/certificationInfo"].is_array());
        assert_eq!(set["itemDescription"], "Chè Ô Long Cầu Đất");
        // The default link carries a title and nothing else.
        assert_eq!(
            set["https://gs1.org/voc/defaultLink"],
            json!([{ "href": format!("http://127.0.0.1:8080{path}"), "title": "Chè Ô Long Cầu Đất" }])
        );
        link_header_points_to_linkset(&reply, &path);
    }
}

#[tokio::test]
async fn resolver_redirects_known_link_types_passing_the_query_on() {
    let app = TestApp::with_demo().await;
    let path = genuine(&app).await;
    let pip = app.get(&format!("{path}?linkType=gs1:pip&utm=zalo")).await;
    assert_eq!(pip.status, StatusCode::TEMPORARY_REDIRECT);
    // The rest of the query goes on; the resolver's own linkType does not.
    assert_eq!(
        pip.header("location"),
        "http://127.0.0.1:8080/products/1?utm=zalo"
    );
    link_header_points_to_linkset(&pip, &path);
    let certs = app
        .get(&format!("{path}?linkType=gs1:certificationInfo"))
        .await;
    assert_eq!(certs.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        certs.header("location"),
        "http://127.0.0.1:8080/products/1#certifications"
    );
    let trace = app
        .get(&format!("{path}?linkType=https://gs1.org/voc/traceability"))
        .await;
    assert_eq!(trace.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        trace.header("location"),
        "http://127.0.0.1:8080/products/1?lot=CD-2026-10A#origin"
    );
    // The verification service is the label's own page: one redirect, not a loop.
    let verify = app
        .get(&format!("{path}?linkType=gs1:verificationService&utm=qr"))
        .await;
    assert_eq!(verify.status, StatusCode::TEMPORARY_REDIRECT);
    let location = verify.header("location").to_owned();
    assert_eq!(location, format!("http://127.0.0.1:8080{path}?utm=qr"));
    let page = app.get(&location["http://127.0.0.1:8080".len()..]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.texts("#verdict strong"), vec!["Tem chính hãng"]);
    // The target exists and shows the product with its lot.
    let product = app.get("/products/1?lot=CD-2026-10A").await;
    assert_eq!(product.status, StatusCode::OK);
    assert_eq!(product.texts("#product h1"), vec!["Chè Ô Long Cầu Đất"]);
    assert!(
        product
            .texts("#origin dd")
            .contains(&"CD-2026-10A".to_owned())
    );
}

#[tokio::test]
async fn resolver_answers_404_for_an_unknown_link_type_and_400_for_bad_syntax() {
    let app = TestApp::with_demo().await;
    let path = genuine(&app).await;
    let unknown = app.get(&format!("{path}?linkType=gs1:recipeInfo")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    link_header_points_to_linkset(&unknown, &path);
    let bad = app.get("/01/12345/21/ABC").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad_order = app.get("/01/08936049120015/21/X/10/L").await;
    assert_eq!(bad_order.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn resolver_tolerates_a_trailing_slash_and_answers_head_and_options_with_cors() {
    let app = TestApp::with_demo().await;
    let path = genuine(&app).await;
    let slash = app.get(&format!("{path}/")).await;
    assert_eq!(slash.status, StatusCode::OK);
    assert_eq!(slash.texts("#verdict strong"), vec!["Tem chính hãng"]);
    link_header_points_to_linkset(&slash, &path);
    assert_eq!(slash.header("access-control-allow-origin"), "*");

    let head = with(&app, "HEAD", &path, &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    link_header_points_to_linkset(&head, &path);
    let options = with(
        &app,
        "OPTIONS",
        &path,
        &[
            ("origin", "https://shop.example"),
            ("access-control-request-method", "GET"),
        ],
    )
    .await;
    assert_eq!(options.status, StatusCode::NO_CONTENT);
    assert_eq!(options.header("access-control-allow-origin"), "*");
    link_header_points_to_linkset(&options, &path);
    assert!(
        options
            .header("access-control-allow-methods")
            .contains("GET")
    );
    // Only the GET was a scan.
    assert_eq!(app.db.store.count_scans().await.unwrap(), 1);

    let product_level = app.get("/01/08936049120015").await;
    assert_eq!(product_level.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        product_level.header("location"),
        "http://127.0.0.1:8080/products/1"
    );
    link_header_points_to_linkset(&product_level, "/01/08936049120015");
    // A product's default link is where a plain request of it goes.
    let linkset = app.get("/01/08936049120015?linkType=linkset").await.json();
    assert_eq!(
        linkset["linkset"][0]["https://gs1.org/voc/defaultLink"][0]["href"],
        "http://127.0.0.1:8080/products/1"
    );
    let described = app.get("/.well-known/gs1resolver").await;
    assert_eq!(described.header("access-control-allow-origin"), "*");
    let described = described.json();
    assert_eq!(described["resolverRoot"], "http://127.0.0.1:8080");
    assert_eq!(described["supportedPrimaryKeys"], json!(["01"]));
    assert_eq!(
        described["supportedLinkType"],
        json!([{ "namespace": "https://gs1.org/voc/", "prefix": "gs1:" }])
    );
    assert!(described["contact"].is_object());
    assert_eq!(described["linkTypeDefaultCanBeLinkset"], false);
}

#[tokio::test]
async fn a_repeat_visit_costs_a_304() {
    let app = TestApp::with_demo().await;
    let path = genuine(&app).await;
    let first = app.get(&path).await;
    let etag = first.header("etag").to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(first.header("cache-control"), "no-cache");
    let repeat = with(&app, "GET", &path, &[("if-none-match", &etag)]).await;
    assert_eq!(repeat.status, StatusCode::NOT_MODIFIED);
    assert!(repeat.body.is_empty());
    // A repeat is still a scan.
    assert_eq!(app.db.store.count_scans().await.unwrap(), 2);
}

#[tokio::test]
async fn the_first_response_fits_in_14_kb_compressed_with_its_css_inlined() {
    let app = TestApp::with_demo().await;
    let path = genuine(&app).await;
    let raw = app.get_gzip(&path).await;
    assert_eq!(raw.header("content-encoding"), "gzip");
    let compressed = raw.body_bytes.len();
    assert!(compressed <= 14 * 1024, "{compressed} bytes compressed");
    let plain = app.get(&path).await;
    assert!(plain.body.contains("<style>"));
    assert!(!plain.body.contains("<link rel=\"stylesheet\""));
    assert!(!plain.body.contains("<script src"));
    assert!(plain.body.len() > compressed, "the page is compressed");
    // One piece with its length, which inflates to the page; refused gzip means none.
    assert_eq!(raw.header("content-length"), compressed.to_string());
    let vary: Vec<_> = raw.headers.get_all("vary").iter().collect();
    assert!(
        vary.iter()
            .any(|v| v.as_bytes().eq_ignore_ascii_case(b"accept-encoding"))
    );
    let mut inflated = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&raw.body_bytes[..]),
        &mut inflated,
    )
    .unwrap();
    assert!(inflated.contains("Tem chính hãng"));
    // It begins as every Vietnamese scan page does, so that beginning is compressed once.
    let shared = truyxuat::web::public::scan::shared_prefixes();
    assert_eq!(shared.len(), 2);
    assert!(shared[0].starts_with("<!doctype html>") && shared[0].ends_with("</style>\n"));
    assert!(inflated.starts_with(&shared[0]));
    let refused = with(&app, "GET", &path, &[("accept-encoding", "gzip;q=0, br")]).await;
    assert_eq!(refused.header("content-encoding"), "");
    assert!(refused.body.contains("Tem chính hãng"));
}

#[tokio::test]
async fn html_responses_carry_security_headers() {
    let app = TestApp::with_demo().await;
    let path = genuine(&app).await;
    let page = app.get(&path).await;
    let csp = page.header("content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("style-src 'sha256-"),
        "{csp}"
    );
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    assert_eq!(
        page.header("referrer-policy"),
        "strict-origin-when-cross-origin"
    );
    // HSTS only where the site is served over https.
    assert_eq!(page.header("strict-transport-security"), "");
    let https = TestApp::with_base_url("https://truyxuat.lamdong.gov.vn").await;
    assert!(
        https
            .get("/")
            .await
            .header("strict-transport-security")
            .contains("max-age=")
    );
}

#[tokio::test]
async fn shoppers_can_report_a_problem_a_few_times() {
    let app = TestApp::with_demo().await;
    let path = genuine(&app).await;
    for i in 0..5 {
        let reply = app
            .post_form(
                &path,
                &[
                    ("message", &format!("Tem bị bong {i}")),
                    ("contact", "0909 000 111"),
                ],
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        assert_eq!(
            reply.header("location"),
            format!("{path}?reported=1#report")
        );
    }
    let limited = app.post_form(&path, &[("message", "again")], None).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let thanks = app.get(&format!("{path}?reported=1")).await;
    assert_eq!(
        thanks.texts("#report p"),
        vec!["Cảm ơn bạn. Chúng tôi đã nhận được báo cáo."]
    );
    // Neither the reports nor the thank-you page count as scans.
    assert_eq!(app.db.store.count_scans().await.unwrap(), 0);
    // The five reports reach the product's records, as typed, with the label they are about.
    let reports = app.api_get("/api/v1/reports?product_id=1").await;
    assert_eq!(reports.status, StatusCode::OK, "{}", reports.body);
    let reports = reports.json();
    let reports = reports.as_array().unwrap();
    assert_eq!(reports.len(), 5);
    assert_eq!(reports[0]["message"], "Tem bị bong 4");
    assert_eq!(reports[0]["contact"], "0909 000 111");
    assert_eq!(reports[0]["label_index"], 0);
    assert!(reports[0]["batch_id"].is_i64());
}

/// What labels print cannot change under them: a product's GTIN or a printed lot's code is
/// locked once labels carry it (409 naming the batches), and a label with its printed lot
/// left out of the URI is not the label that was printed.
#[tokio::test]
async fn printed_gtins_and_lot_codes_are_locked_and_a_label_without_its_lot_is_not_genuine() {
    let app = TestApp::with_demo().await;
    let path = genuine(&app).await;
    let product = app.api_get("/api/v1/products/1").await.json();
    let mut renamed = product.clone();
    renamed["name"] = "Chè Ô Long Cầu Đất (hộp mới)".into();
    let reply = app.api("PUT", "/api/v1/products/1", renamed).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut regtin = product.clone();
    regtin["gtin"] = "8934588012112".into();
    let reply = app.api("PUT", "/api/v1/products/1", regtin).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(reply.problem_fields(), vec!["gtin"]);
    assert!(reply.body.contains("batch 1 "), "{}", reply.body);

    let lot = app
        .db
        .store
        .lot_by_code(1, "CD-2026-10A")
        .await
        .unwrap()
        .unwrap();
    // A lot as the API reads it, to send back (its province as the slug the API takes).
    let as_input = |lot: &truyxuat::domain::lot::Lot| {
        let mut v = serde_json::to_value(lot).unwrap();
        v["province"] = lot.data.province.map(|p| p.slug).into();
        v
    };
    let mut recoded = as_input(&lot);
    recoded["code"] = "CD-2026-10B".into();
    let reply = app
        .api("PUT", &format!("/api/v1/lots/{}", lot.id), recoded)
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(reply.problem_fields(), vec!["code"]);
    // A lot no label carries can still be corrected.
    let other = app
        .db
        .store
        .lot_by_code(1, "CD-2026-09A")
        .await
        .unwrap()
        .unwrap();
    let mut fixed = as_input(&other);
    fixed["code"] = "CD-2026-09B".into();
    let reply = app
        .api("PUT", &format!("/api/v1/lots/{}", other.id), fixed)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    assert!(path.contains("/10/CD-2026-10A/"), "{path}");
    assert_eq!(
        app.get(&path).await.texts("#verdict strong"),
        vec!["Tem chính hãng"]
    );
    let without_lot = path.replace("/10/CD-2026-10A", "");
    let page = app.get(&without_lot).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(page.texts("#verdict strong"), vec!["Tem không hợp lệ"]);
    let other_lot = path.replace("/10/CD-2026-10A", "/10/CD-2026-09B");
    assert_eq!(app.get(&other_lot).await.status, StatusCode::NOT_FOUND);
}

/// Behind a reverse proxy every shopper arrives from the proxy's address: the limit on
/// reports counts each shopper the trusted proxy names, not the proxy, and a client that
/// is not a trusted proxy cannot name someone else.
#[tokio::test]
async fn report_limits_count_each_shopper_behind_a_trusted_proxy() {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;

    let app = TestApp::with_settings(&["--trusted-proxies", "127.0.0.1, ::1"])
        .await
        .load_demo()
        .await;
    let path = genuine(&app).await;
    let report = |peer: &'static str, forwarded: &'static str| {
        let path = path.clone();
        let app = &app;
        async move {
            let request = Request::post(&path)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-forwarded-for", forwarded)
                .extension(ConnectInfo(peer.parse::<SocketAddr>().unwrap()))
                .body(Body::from("message=Tem+bi+bong"))
                .unwrap();
            app.send(request).await
        }
    };
    for _ in 0..5 {
        assert_eq!(
            report("127.0.0.1:40000", "203.0.113.5").await.status,
            StatusCode::SEE_OTHER
        );
    }
    let limited = report("127.0.0.1:40001", "198.51.100.77, 203.0.113.5").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.header("retry-after"), "120");
    assert_eq!(limited.texts("h1"), vec!["429 · Bạn đã gửi nhiều lần"]);
    // Another shopper behind the same proxy is not held back.
    assert_eq!(
        report("127.0.0.1:40002", "203.0.113.6").await.status,
        StatusCode::SEE_OTHER
    );
    // A client that is not a trusted proxy is counted by its own address, whatever it claims.
    for _ in 0..5 {
        let spoof = report("198.51.100.9:5000", "203.0.113.6").await;
        assert_eq!(spoof.status, StatusCode::SEE_OTHER);
    }
    assert_eq!(
        report("198.51.100.9:5000", "203.0.113.6").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        report("127.0.0.1:40003", "203.0.113.6").await.status,
        StatusCode::SEE_OTHER
    );
    // One report back every two minutes.
    app.clock.advance(chrono::Duration::seconds(120));
    assert_eq!(
        report("127.0.0.1:40004", "203.0.113.5").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        report("127.0.0.1:40005", "203.0.113.5").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}
