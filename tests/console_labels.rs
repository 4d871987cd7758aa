//! A cooperative's label batches in the console, as its people see them: ordering labels,
//! activating and voiding ranges, and downloads that decode to genuine labels.

use axum::http::StatusCode;
use truyxuat::app::{Caller, accounts};
use truyxuat::domain::people::{Membership, PersonInput, Role};

use crate::print::decode_pdf;
use crate::support::changes::Changes;
use crate::support::fixtures::{self, now};
use crate::support::http::{PASSWORD, Reply, Session, TestApp};

/// A cooperative with a GTIN product and a lot; returns (cooperative, product).
async fn cooperative(app: &TestApp, name: &str, gtin: &str) -> (i64, i64) {
    let store = &app.db.store;
    let coop = store
        .create_organization(&fixtures::cooperative(name).build(), now())
        .await
        .unwrap()
        .id;
    let product = store
        .create_product(
            &fixtures::product(coop, "Chè Ô Long Cầu Đất")
                .gtin(gtin)
                .build(),
            now(),
        )
        .await
        .unwrap()
        .id;
    store
        .create_lot(&fixtures::lot(product, "CD-2026-11").build(), now())
        .await
        .unwrap();
    (coop, product)
}

/// A person with `role` at `organization`, signed in.
async fn member(app: &TestApp, login: &str, organization: i64, role: Role) -> Session {
    let input = PersonInput {
        login: login.into(),
        display_name: format!("Thành viên {login}"),
    }
    .validate()
    .unwrap();
    let membership = Membership::of(organization, role);
    accounts::create_person(
        &app.app,
        &Caller::cli(),
        &input,
        &[membership],
        Some(PASSWORD),
    )
    .await
    .unwrap();
    app.sign_in(login, PASSWORD).await.unwrap()
}

async fn get(app: &TestApp, path: &str, session: &Session) -> Reply {
    app.get_with(path, "cookie", &session.cookie).await
}

/// Orders `count` labels of `product` through the console; returns the new batch's id.
async fn order(app: &TestApp, session: &Session, product: i64, count: &str) -> i64 {
    let product = product.to_string();
    let fields = [
        ("product_id", product.as_str()),
        ("count", count),
        ("profile", "compact"),
    ];
    let reply = app.post_console("/console/batches", &fields, session).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    reply
        .header("location")
        .strip_prefix("/console/batches/")
        .expect("the batch's page")
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_printer_orders_labels_and_a_downloaded_page_decodes_to_genuine_labels() {
    let app = TestApp::new().await;
    let (coop, product) = cooperative(&app, "HTX Chè Cầu Đất", "8930000000019").await;
    let printer = member(&app, "inte@htx.vn", coop, Role::Printer).await;

    // The console leads to the labels; the order form offers the cooperative's product.
    let console = get(&app, "/console", &printer).await;
    assert_eq!(console.texts("#labels-link"), vec!["Tem QR"]);
    let list = get(&app, "/console/batches", &printer).await;
    assert_eq!(list.status, StatusCode::OK);
    let offered = list.texts("#order select[name=product_id] option");
    assert!(
        offered.iter().any(|o| o.starts_with("Chè Ô Long Cầu Đất")),
        "{offered:?}"
    );

    // "10.000" is how a Vietnamese office writes ten thousand.
    let batch = order(&app, &printer, product, "10.000").await;
    let page = get(&app, &format!("/console/batches/{batch}"), &printer).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.texts("#count"), vec!["10000"]);
    let list = get(&app, "/console/batches", &printer).await;
    assert_eq!(
        list.texts("#batches tbody tr td a"),
        vec![batch.to_string()]
    );

    // The first A4 page (40 labels) as a PDF: every code decodes to a genuine label.
    let path =
        format!("/console/batches/{batch}/print?format=pdf&layout=a4-5x8&dpi=300&range=0..40");
    let pdf = get(&app, &path, &printer).await;
    assert_eq!(pdf.status, StatusCode::OK, "{}", pdf.body);
    assert_eq!(pdf.header("content-type"), "application/pdf");
    assert_eq!(
        pdf.header("content-disposition"),
        format!("attachment; filename=\"batch-{batch}-a4-5x8.pdf\"")
    );
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("page.pdf");
    std::fs::write(&file, &pdf.body_bytes).unwrap();
    let uris = decode_pdf(&file, 300);
    assert_eq!(uris.len(), 40, "{uris:?}");
    for uri in &uris {
        let path = format!("/{}", uri.splitn(4, '/').nth(3).unwrap());
        let scan = app.get(&path).await;
        assert_eq!(scan.status, StatusCode::OK, "{uri}");
        // Minted, not yet on a product: genuine, and says so.
        assert!(!scan.texts("#verdict strong").is_empty(), "{uri}");
        assert!(!scan.body.contains("Tem không hợp lệ"), "{uri}");
    }

    // The CSV for a printing house: a header and one line per label asked for.
    let csv = get(
        &app,
        &format!("/console/batches/{batch}/print?format=csv&range=100..110"),
        &printer,
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.body.lines().count(), 11, "{}", csv.body);

    // Each download is recorded: who took which labels.
    let prints = app
        .db
        .snapshot()
        .await
        .into_iter()
        .find(|(t, _)| t == "audit_entries")
        .unwrap()
        .1
        .into_iter()
        .filter(|row| row.contains("labels.print"))
        .count();
    assert_eq!(prints, 2);
}

#[tokio::test]
async fn ranges_are_activated_and_voided_and_mistakes_come_back_beside_the_field() {
    let app = TestApp::new().await;
    let (coop, product) = cooperative(&app, "HTX Chè Cầu Đất", "8930000000019").await;
    let owner = member(&app, "chu@htx.vn", coop, Role::Owner).await;
    let batch = order(&app, &owner, product, "100").await;
    let base = format!("/console/batches/{batch}");

    let activated = app
        .post_console(
            &format!("{base}/activate"),
            &[("lot", "CD-2026-11"), ("range", "0..50")],
            &owner,
        )
        .await;
    assert_eq!(
        activated.status,
        StatusCode::SEE_OTHER,
        "{}",
        activated.body
    );
    let voided = app
        .post_console(&format!("{base}/void"), &[("range", "40..45")], &owner)
        .await;
    assert_eq!(voided.status, StatusCode::SEE_OTHER, "{}", voided.body);
    let page = get(&app, &base, &owner).await;
    assert_eq!(
        page.texts("#changes tbody td"),
        vec![
            "0..50",
            "Đã kích hoạt",
            "CD-2026-11",
            "40..45",
            "Đã huỷ",
            ""
        ]
    );

    // A range outside the batch, an unknown lot, an order of nothing: refused, with why.
    let outside = app
        .post_console(&format!("{base}/void"), &[("range", "90..200")], &owner)
        .await;
    assert_eq!(outside.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(outside.texts("#range-error").len(), 1, "{}", outside.body);
    let unknown = app
        .post_console(
            &format!("{base}/activate"),
            &[("lot", "KHONG-CO"), ("range", "0..5")],
            &owner,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.texts("#lot-error").len(), 1, "{}", unknown.body);
    let product = product.to_string();
    let nothing = app
        .post_console(
            "/console/batches",
            &[("product_id", product.as_str()), ("count", "mười")],
            &owner,
        )
        .await;
    assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(nothing.texts("#count-error").len(), 1, "{}", nothing.body);
    // What was typed stays in the form.
    assert!(nothing.body.contains("value=\"mười\""));

    // More labels than one download holds: the batch page again, saying so.
    let big = order(&app, &owner, product.parse().unwrap(), "20001").await;
    let refused = get(
        &app,
        &format!("/console/batches/{big}/print?format=pdf"),
        &owner,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.texts("#range-error")[0].contains("20000"));
}

#[tokio::test]
async fn only_those_who_may_print_see_the_print_form_or_download() {
    let app = TestApp::new().await;
    let (coop, product) = cooperative(&app, "HTX Chè Cầu Đất", "8930000000019").await;
    let (other, _) = cooperative(&app, "HTX Rau Đà Lạt", "8930000000026").await;
    let owner = member(&app, "chu@htx.vn", coop, Role::Owner).await;
    let batch = order(&app, &owner, product, "10").await;
    let page = format!("/console/batches/{batch}");
    let download = format!("{page}/print?format=csv");

    let viewer = member(&app, "xem@htx.vn", coop, Role::Viewer).await;
    let editor = member(&app, "bientap@htx.vn", coop, Role::Editor).await;
    let stranger = member(&app, "chu@rau.vn", other, Role::Owner).await;
    for (who, session) in [("viewer", &viewer), ("editor", &editor)] {
        let seen = get(&app, &page, session).await;
        assert_eq!(seen.status, StatusCode::OK, "{who}");
        assert!(seen.texts("#print").is_empty(), "{who} sees the print form");
        assert!(seen.texts("#void").is_empty(), "{who} sees the void form");
        assert_eq!(
            get(&app, &download, session).await.status,
            StatusCode::FORBIDDEN,
            "{who}"
        );
    }
    // Another cooperative's people see neither the batch nor its labels.
    assert_eq!(
        get(&app, &page, &stranger).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&app, &download, &stranger).await.status,
        StatusCode::FORBIDDEN
    );
    let theirs = get(&app, "/console/batches", &stranger).await;
    assert!(theirs.texts("#batches tbody tr").is_empty());
    // No batch: 404.
    assert_eq!(
        get(&app, "/console/batches/999999", &owner).await.status,
        StatusCode::NOT_FOUND
    );
}
