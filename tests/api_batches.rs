//! Label batches through the API, as an integration (a shop, a printing house) uses them:
//! an order sent again with its `Idempotency-Key` makes no second batch, even a hundred
//! times at once; batches are read and listed a page at a time; labels stream as CSV or
//! NDJSON to those who may print them.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use truyxuat::app::access::{self, TokenRequest};
use truyxuat::app::{Caller, accounts};
use truyxuat::domain::people::{Membership, PersonInput, Role};

use crate::support::changes::Changes;
use crate::support::db::TestDb;
use crate::support::fixtures::{self, now};
use crate::support::http::{PASSWORD, TestApp};

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hundred_orders_with_one_key_mint_one_batch() {
        super::one_key_one_batch(super::TestDb::sqlite().await).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hundred_orders_with_one_key_mint_one_batch() {
        super::one_key_one_batch(super::TestDb::postgres().await).await;
    }
}

/// A cooperative and its product; returns (cooperative, product).
async fn product(app: &TestApp) -> (i64, i64) {
    let store = &app.db.store;
    let coop = store
        .create_organization(&fixtures::cooperative("HTX Chè Cầu Đất").build(), now())
        .await
        .unwrap()
        .id;
    let product = store
        .create_product(&fixtures::product(coop, "Chè Ô Long").build(), now())
        .await
        .unwrap()
        .id;
    (coop, product)
}

/// An order sent with the operator's token (and `key` as its idempotency key).
fn order(app: &TestApp, body: &Value, key: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/api/v1/batches")
        .header(header::AUTHORIZATION, format!("Bearer {}", app.token))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.body(Body::from(body.to_string())).unwrap()
}

async fn entries(app: &TestApp, action: &str) -> usize {
    let snapshot = app.db.snapshot().await;
    let (_, rows) = snapshot
        .into_iter()
        .find(|(t, _)| t == "audit_entries")
        .unwrap();
    rows.into_iter().filter(|r| r.contains(action)).count()
}

async fn one_key_one_batch(db: TestDb) {
    let app = TestApp::on(db).await;
    let (_, product) = product(&app).await;
    let body = json!({"product_id": product, "count": 500});

    // A hundred at once, as a shop's retrying client might send them.
    let mut sent = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let router = app.router.clone();
        let request = order(&app, &body, Some("don-hang-2026-0042"));
        sent.spawn(async move {
            let response = router.oneshot(request).await.unwrap();
            let status = response.status();
            let replayed = response.headers().contains_key("idempotent-replayed");
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                replayed,
                serde_json::from_slice::<Value>(&bytes).unwrap(),
            )
        });
    }
    let replies = sent.join_all().await;
    for (status, _, reply) in &replies {
        assert_eq!(*status, StatusCode::CREATED, "{reply}");
    }
    let ids: std::collections::BTreeSet<i64> = replies
        .iter()
        .map(|(_, _, r)| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let first: Vec<_> = replies
        .iter()
        .filter(|(_, replayed, _)| !replayed)
        .collect();
    assert_eq!(first.len(), 1, "exactly one reply made the batch");
    let id = *ids.first().unwrap();
    let stored = app.db.store.list_batches(Some(product)).await.unwrap();
    assert_eq!(stored.iter().map(|b| b.id).collect::<Vec<_>>(), vec![id]);
    assert_eq!(entries(&app, "labels.mint").await, 1);

    // The same key with another order: refused, naming the header; nothing minted.
    let other = json!({"product_id": product, "count": 501});
    let refused = app
        .send(order(&app, &other, Some("don-hang-2026-0042")))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.problem_fields(), vec!["Idempotency-Key"]);
    // The same order spaced otherwise is the same order.
    let respaced = app
        .send(
            Request::post("/api/v1/batches")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.token))
                .header(header::CONTENT_TYPE, "application/json")
                .header("idempotency-key", "don-hang-2026-0042")
                .body(Body::from(format!(
                    "{{ \"count\" : 500, \"product_id\": {product} }}"
                )))
                .unwrap(),
        )
        .await;
    assert_eq!(respaced.status, StatusCode::CREATED);
    assert_eq!(respaced.json()["id"], json!(id));
    // A new key, or none, is a new order.
    let again = app
        .send(order(&app, &body, Some("don-hang-2026-0043")))
        .await;
    let plain = app.send(order(&app, &body, None)).await;
    assert_ne!(again.json()["id"], json!(id));
    assert_ne!(plain.json()["id"], again.json()["id"]);
    assert_eq!(
        app.db
            .store
            .list_batches(Some(product))
            .await
            .unwrap()
            .len(),
        3
    );
    // A key that is no key.
    let blank = app.send(order(&app, &body, Some(""))).await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn batches_are_read_and_listed_a_page_at_a_time() {
    let app = TestApp::new().await;
    let (_, product) = product(&app).await;
    for count in [10, 20, 30] {
        let made = app
            .api(
                "POST",
                "/api/v1/batches",
                json!({"product_id": product, "count": count}),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED);
        assert_eq!(
            made.header("location"),
            format!("/api/v1/batches/{}", made.json()["id"])
        );
    }
    let first = app.api_get("/api/v1/batches?limit=2").await;
    assert_eq!(first.status, StatusCode::OK);
    let counts = |r: &crate::support::http::Reply| -> Vec<i64> {
        r.json()
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["count"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(counts(&first), vec![30, 20]);
    let link = first.header("link").to_owned();
    let next = link
        .strip_prefix('<')
        .and_then(|l| l.split_once(">; rel=\"next\""))
        .map(|(url, _)| url.to_owned())
        .unwrap_or_else(|| panic!("a next link: {link}"));
    let second = app.api_get(&next).await;
    assert_eq!(counts(&second), vec![10]);
    assert!(second.headers.get("link").is_none());

    let id = first.json()[0]["id"].as_i64().unwrap();
    app.api(
        "POST",
        &format!("/api/v1/batches/{id}/void"),
        json!({"range": "3..5"}),
    )
    .await;
    let one = app.api_get(&format!("/api/v1/batches/{id}")).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.json()["count"], json!(30));
    assert_eq!(one.json()["scans"], json!({"labels": 0, "scans": 0}));
    assert_eq!(one.json()["changes"][0]["state"], json!("void"));
    assert_eq!(
        app.api_get("/api/v1/batches/999999").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn labels_stream_as_csv_or_ndjson_to_those_who_may_print() {
    let app = TestApp::new().await;
    let (coop, product) = product(&app).await;
    let made = app
        .api(
            "POST",
            "/api/v1/batches",
            json!({"product_id": product, "count": 5000}),
        )
        .await;
    let id = made.json()["id"].as_i64().unwrap();

    let csv = app.api_get(&format!("/api/v1/batches/{id}/labels")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header("content-type"), "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 5001);
    assert_eq!(lines[0], "\u{FEFF}index,serial,uri");
    let ndjson = app
        .api_get(&format!(
            "/api/v1/batches/{id}/labels?format=ndjson&range=10..13"
        ))
        .await;
    assert_eq!(ndjson.header("content-type"), "application/x-ndjson");
    let labels: Vec<Value> = ndjson
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(labels.len(), 3);
    assert_eq!(labels[0]["index"], json!(10));
    // The same label in both: line 11 of the CSV is label 10.
    let uri = labels[0]["uri"].as_str().unwrap();
    assert!(lines[11].ends_with(uri), "{} vs {uri}", lines[11]);
    // A scan of it is a genuine label.
    let path = format!("/{}", uri.splitn(4, '/').nth(3).unwrap());
    let scan = app.get(&path).await;
    assert_eq!(scan.status, StatusCode::OK);
    assert!(!scan.body.contains("Tem không hợp lệ"));
    assert_eq!(entries(&app, "labels.print").await, 2);

    let bad = app
        .api_get(&format!("/api/v1/batches/{id}/labels?format=xml"))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.problem_fields(), vec!["format"]);

    // A viewer's token reads the batch but takes no labels.
    let person = PersonInput {
        login: "xem@htx.vn".into(),
        display_name: "Người xem".into(),
    }
    .validate()
    .unwrap();
    let viewer = accounts::create_person(
        &app.app,
        &Caller::cli(),
        &person,
        &[Membership::of(coop, Role::Viewer)],
        Some(PASSWORD),
    )
    .await
    .unwrap();
    let request = TokenRequest {
        organization_id: Some(coop),
        role: Role::Viewer,
        name: "xem".into(),
        days: 30,
    };
    let (token, _) = access::create_token(&app.app, &Caller::cli(), viewer.id, &request)
        .await
        .unwrap();
    let bearer = format!("Bearer {token}");
    let read = app
        .get_with(&format!("/api/v1/batches/{id}"), "authorization", &bearer)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    let taken = app
        .get_with(
            &format!("/api/v1/batches/{id}/labels"),
            "authorization",
            &bearer,
        )
        .await;
    assert_eq!(taken.status, StatusCode::FORBIDDEN);
    assert_eq!(taken.header("content-type"), "application/problem+json");
    assert_eq!(entries(&app, "labels.print").await, 2);
}

/// A body of `content_type` sent with the operator's token.
fn raw(app: &TestApp, path: &str, content_type: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", app.token))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn a_spreadsheet_imports_through_the_api_and_bad_cells_are_named() {
    let app = TestApp::new().await;
    let (coop, _) = product(&app).await;
    let path = |query: &str| format!("/api/v1/imports?producer_id={coop}{query}");
    let good = "Tên sản phẩm,Nhóm hàng,Đơn vị tính\nTrà xanh,Đồ uống,gói\nTrà đen,Đồ uống,gói\n";
    let checked = app
        .send(raw(&app, &path("&dry_run=true"), "text/csv", good))
        .await;
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.body);
    assert_eq!(checked.json()["created"]["products"], json!(2));
    assert_eq!(checked.json()["stored"], json!(false));
    let stored = app.send(raw(&app, &path(""), "text/csv", good)).await;
    assert_eq!(stored.json()["stored"], json!(true));
    let again = app.send(raw(&app, &path(""), "text/csv", good)).await;
    assert_eq!(again.json()["unchanged"]["products"], json!(2));

    let bad = "Tên sản phẩm,Nhóm hàng,Đơn vị tính\nTrà ô long,Đồ uống,\n";
    let refused = app.send(raw(&app, &path(""), "text/csv", bad)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.header("content-type"), "application/problem+json");
    assert_eq!(refused.problem_fields(), vec!["Sản phẩm!D2"]);
    let unreadable = app
        .send(raw(
            &app,
            &path(""),
            "application/octet-stream",
            "not a workbook",
        ))
        .await;
    assert_eq!(unreadable.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unreadable.problem_fields(), vec!["body"]);

    // The template and the export, as the console offers them; the export imports back
    // without a difference.
    let template = app.api_get("/api/v1/imports/template").await;
    assert_eq!(template.status, StatusCode::OK);
    let workbook: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(template.body_bytes)).unwrap();
    let sheets = calamine::Reader::sheet_names(&workbook);
    assert!(
        sheets.contains(&"Sản phẩm".to_owned()) && sheets.contains(&"Lô hàng".to_owned()),
        "{sheets:?}"
    );
    let export = app
        .api_get(&format!("/api/v1/exports?producer_id={coop}"))
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(export.header("content-disposition").contains(".xlsx"));
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    assert_eq!(export.header("content-type"), xlsx);
    let back = app
        .send(
            Request::post(path(""))
                .header(header::AUTHORIZATION, format!("Bearer {}", app.token))
                .header(header::CONTENT_TYPE, xlsx)
                .body(Body::from(export.body_bytes.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert_eq!(back.json()["created"]["products"], json!(0));
    assert_eq!(back.json()["updated"]["products"], json!(0));
    assert_eq!(back.json()["unchanged"]["products"], json!(3));
}

#[tokio::test]
async fn a_print_run_is_a_file_or_a_job_to_follow() {
    let app = TestApp::new().await;
    let (_, product) = product(&app).await;
    let made = app
        .api(
            "POST",
            "/api/v1/batches",
            json!({"product_id": product, "count": 25000}),
        )
        .await;
    let id = made.json()["id"].as_i64().unwrap();
    let print = format!("/api/v1/batches/{id}/print");

    let small = app
        .api("POST", &print, json!({"format": "csv", "range": "0..10"}))
        .await;
    assert_eq!(small.status, StatusCode::OK, "{}", small.body);
    assert_eq!(small.body.lines().count(), 11);
    let bad = app.api("POST", &print, json!({"layout": "a5-2x2"})).await;
    assert_eq!(bad.problem_fields(), vec!["layout"]);

    let queued = app.api("POST", &print, json!({"format": "csv"})).await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
    let job = queued.header("location").to_owned();
    let mut state = String::new();
    for _ in 0..600 {
        state = app.api_get(&job).await.json()["state"]
            .as_str()
            .unwrap()
            .to_owned();
        if state != "queued" && state != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(state, "done");
    let file = app.api_get(&format!("{job}/file")).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body.lines().count(), 25_001);
}
