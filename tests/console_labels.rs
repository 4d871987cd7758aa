//! A cooperative's label batches in the console, as its people see them: ordering labels,
//! activating and voiding ranges, and downloads that decode to genuine labels.

use axum::http::StatusCode;
use truyxuat::app::Caller;
use truyxuat::domain::people::Role;

use crate::print::decode_pdf;
use crate::support::changes::Changes;
use crate::support::fixtures::{self, now};
use crate::support::http::{Reply, Session, TestApp};

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
    let printer = app.member("inte@htx.vn", coop, Role::Printer).await;

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
    let print = format!("/console/batches/{batch}/print");
    let fields = [
        ("format", "pdf"),
        ("layout", "a4-5x8"),
        ("dpi", "300"),
        ("range", "0..40"),
    ];
    let pdf = app.post_console(&print, &fields, &printer).await;
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
    let csv = app
        .post_console(
            &print,
            &[("format", "csv"), ("range", "100..110")],
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
    let owner = app.member("chu@htx.vn", coop, Role::Owner).await;
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

    // A range the batch does not hold: the batch page again, saying so.
    let refused = app
        .post_console(&format!("{base}/print"), &[("range", "0..101")], &owner)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.texts("#range-error").len(), 1, "{}", refused.body);
}

#[tokio::test]
async fn only_those_who_may_print_see_the_print_form_or_download() {
    let app = TestApp::new().await;
    let (coop, product) = cooperative(&app, "HTX Chè Cầu Đất", "8930000000019").await;
    let (other, _) = cooperative(&app, "HTX Rau Đà Lạt", "8930000000026").await;
    let owner = app.member("chu@htx.vn", coop, Role::Owner).await;
    let batch = order(&app, &owner, product, "10").await;
    let page = format!("/console/batches/{batch}");
    let download = format!("{page}/print");

    let viewer = app.member("xem@htx.vn", coop, Role::Viewer).await;
    let editor = app.member("bientap@htx.vn", coop, Role::Editor).await;
    let stranger = app.member("chu@rau.vn", other, Role::Owner).await;
    for (who, session) in [("viewer", &viewer), ("editor", &editor)] {
        let seen = get(&app, &page, session).await;
        assert_eq!(seen.status, StatusCode::OK, "{who}");
        assert!(seen.texts("#print").is_empty(), "{who} sees the print form");
        assert!(seen.texts("#void").is_empty(), "{who} sees the void form");
        let taken = app
            .post_console(&download, &[("format", "csv")], session)
            .await;
        assert_eq!(taken.status, StatusCode::FORBIDDEN, "{who}");
    }
    // Another cooperative's people see neither the batch nor its labels.
    assert_eq!(
        get(&app, &page, &stranger).await.status,
        StatusCode::FORBIDDEN
    );
    let taken = app
        .post_console(&download, &[("format", "csv")], &stranger)
        .await;
    assert_eq!(taken.status, StatusCode::FORBIDDEN);
    let theirs = get(&app, "/console/batches", &stranger).await;
    assert!(theirs.texts("#batches tbody tr").is_empty());
    // No batch: 404.
    assert_eq!(
        get(&app, "/console/batches/999999", &owner).await.status,
        StatusCode::NOT_FOUND
    );
}

/// The job's page until the job is no longer queued or running (at most a minute).
async fn finished_job(app: &TestApp, session: &Session, job: &str) -> Reply {
    for _ in 0..600 {
        let page = get(app, job, session).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let working = page.body.contains("http-equiv=\"refresh\"");
        if !working {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{job} did not finish in a minute");
}

#[tokio::test]
async fn a_large_print_run_is_a_job_with_progress_and_a_download() {
    let app = TestApp::new().await;
    let (coop, product) = cooperative(&app, "HTX Chè Cầu Đất", "8930000000019").await;
    let printer = app.member("inte@htx.vn", coop, Role::Printer).await;
    let batch = order(&app, &printer, product, "25000").await;

    // More than one download holds: queued, and its page shows where it is.
    let queued = app
        .post_console(
            &format!("/console/batches/{batch}/print"),
            &[("format", "csv")],
            &printer,
        )
        .await;
    assert_eq!(queued.status, StatusCode::SEE_OTHER, "{}", queued.body);
    let job = queued.header("location").to_owned();
    assert!(job.starts_with("/console/jobs/"), "{job}");
    let first = get(&app, &job, &printer).await;
    assert_eq!(first.texts("#progress").len(), 1);
    let done = finished_job(&app, &printer, &job).await;
    assert_eq!(done.texts("#state"), vec!["Đã xong"], "{}", done.body);
    assert_eq!(done.texts("#percent"), vec!["100 %"]);
    let file = get(&app, &format!("{job}/file"), &printer).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body.lines().count(), 25_001);
    // The batch page lists it.
    let page = get(&app, &format!("/console/batches/{batch}"), &printer).await;
    assert_eq!(page.texts("#jobs li a").len(), 1);

    // Not for those who may not print the batch.
    let viewer = app.member("xem@htx.vn", coop, Role::Viewer).await;
    assert_eq!(get(&app, &job, &viewer).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&app, &format!("{job}/file"), &viewer).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_job_left_running_by_a_stopped_server_runs_again_at_the_next_start() {
    let app = TestApp::new().await;
    let (coop, product) = cooperative(&app, "HTX Chè Cầu Đất", "8930000000019").await;
    let printer = app.member("inte@htx.vn", coop, Role::Printer).await;
    let batch = order(&app, &printer, product, "21000").await;
    let spec = truyxuat::domain::job::PrintSpec {
        format: "csv".into(),
        layout: "a4-5x8".into(),
        dpi: 300,
        range: truyxuat::domain::batch::IndexRange {
            first: 0,
            end: 21000,
        },
        calibration: false,
        no_text: false,
    };
    // Ordered, then taken by a worker that died with its process: "running", no one on it.
    let ordered = truyxuat::app::labels::order_print(&app.app, &Caller::cli(), batch, &spec)
        .await
        .unwrap();
    let store = app.db.store.clone();
    let taken = store.claim_print_job(now()).await.unwrap().unwrap();
    assert_eq!(taken.id, ordered.id);
    assert_eq!(
        store.print_job(taken.id).await.unwrap().unwrap().state,
        truyxuat::domain::job::JobState::Running
    );

    // The next start queues it again, and it is printed.
    truyxuat::jobs::PrintWorker {
        store: store.clone(),
        clock: std::sync::Arc::new(truyxuat::clock::ManualClock::new(now())),
        keyring: std::sync::Arc::new(crate::support::labels::keys()),
        base: truyxuat::labelcode::LabelBase::parse("http://127.0.0.1:8080").ok(),
        folder: app.data.path().join("print-jobs"),
        keep: chrono::Duration::days(7),
    }
    .start();
    let done = finished_job(&app, &printer, &format!("/console/jobs/{}", taken.id)).await;
    assert_eq!(done.texts("#state"), vec!["Đã xong"], "{}", done.body);
}
