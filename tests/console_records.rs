//! A cooperative's records in the console: a certificate submitted with its evidence and the
//! inspector's decision seen there, a harvest recorded from a phone, and the dashboard.

use axum::http::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use truyxuat::domain::people::Role;

use crate::support::changes::Changes;
use crate::support::fixtures::{self, now};
use crate::support::http::{FilePart, TestApp};

#[tokio::test]
async fn an_editor_submits_a_certificate_with_its_evidence_and_sees_the_decision() {
    let app = TestApp::new().await;
    let store = &app.db.store;
    let coop = store
        .create_organization(&fixtures::cooperative("HTX Chè Cầu Đất").build(), now())
        .await
        .unwrap()
        .id;
    let council = store
        .create_organization(
            &fixtures::department("Hội đồng OCOP Lâm Đồng").build(),
            now(),
        )
        .await
        .unwrap()
        .id;
    let product = store
        .create_product(&fixtures::product(coop, "Chè Ô Long").build(), now())
        .await
        .unwrap()
        .id;
    let editor = app.member("bientap@htx.vn", coop, Role::Editor).await;
    let (council, product) = (council.to_string(), product.to_string());
    let fields = [
        ("holder_id", coop.to_string()),
        ("product_id", product.clone()),
        ("kind", "ocop".into()),
        ("ocop_stars", "4".into()),
        ("number", "QĐ 1234/QĐ-UBND".into()),
        ("issuer_id", council.clone()),
        ("issued_on", "2026-03-01".into()),
        ("valid_until", "2029-02-28".into()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();

    // HTML that calls itself a PDF is refused beside the file input; nothing is stored.
    let forged = FilePart {
        field: "evidence",
        file_name: "giay-chung-nhan.pdf",
        content_type: "application/pdf",
        bytes: b"<html><script>alert(1)</script></html>",
    };
    let refused = app
        .post_multipart("/console/certificates", &fields, Some(forged), &editor)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(
        refused.texts("#evidence-error").len(),
        1,
        "{}",
        refused.body
    );
    assert!(store.certifications_of(coop).await.unwrap().is_empty());
    // What was typed stays in the form.
    assert!(refused.body.contains("value=\"QĐ 1234/QĐ-UBND\""));

    let pdf = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
    let evidence = FilePart {
        field: "evidence",
        file_name: "giay-chung-nhan.pdf",
        content_type: "application/pdf",
        bytes: pdf,
    };
    let sent = app
        .post_multipart("/console/certificates", &fields, Some(evidence), &editor)
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let page = app
        .get_with("/console/certificates", "cookie", &editor.cookie)
        .await;
    let sha = hex::encode(Sha256::digest(pdf));
    assert_eq!(page.texts("#certificates td.sha"), vec![sha]);
    assert_eq!(page.texts("#certificates td.status"), vec!["Chờ thẩm định"]);

    // An inspector verifies it; the cooperative sees the decision and who made it.
    let cert = store.certifications_of(coop).await.unwrap()[0].id;
    let verified = app
        .api(
            "POST",
            &format!("/api/v1/certifications/{cert}/status"),
            json!({"status": "verified"}),
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.body);
    let page = app
        .get_with("/console/certificates", "cookie", &editor.cookie)
        .await;
    assert_eq!(page.texts("#certificates td.status"), vec!["Đã xác minh"]);
    assert!(
        page.body.contains("Vận hành"),
        "the operator's name as the decider"
    );

    // A viewer sees the list, not the form, and cannot submit.
    let viewer = app.member("xem@htx.vn", coop, Role::Viewer).await;
    let seen = app
        .get_with("/console/certificates", "cookie", &viewer.cookie)
        .await;
    assert_eq!(seen.texts("#certificates td.status").len(), 1);
    assert!(seen.texts("#new-certificate").is_empty());
    let posted = app
        .post_multipart("/console/certificates", &fields, None, &viewer)
        .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
}

mod sqlite {
    #[tokio::test]
    async fn the_dashboard_shows_scans_certificates_ending_and_reports() {
        let db = crate::support::db::TestDb::sqlite().await;
        super::dashboard(db).await;
    }
}

mod postgres {
    #[tokio::test]
    async fn the_dashboard_shows_scans_certificates_ending_and_reports() {
        let db = crate::support::db::TestDb::postgres().await;
        super::dashboard(db).await;
    }
}

async fn dashboard(db: crate::support::db::TestDb) {
    let app = TestApp::on(db).await;
    let store = &app.db.store;
    let coop = store
        .create_organization(&fixtures::cooperative("HTX Chè Cầu Đất").build(), now())
        .await
        .unwrap()
        .id;
    let council = store
        .create_organization(
            &fixtures::department("Hội đồng OCOP Lâm Đồng").build(),
            now(),
        )
        .await
        .unwrap()
        .id;
    let product = store
        .create_product(
            &fixtures::product(coop, "Chè Ô Long")
                .gtin("8930000000019")
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
    let mut ending = fixtures::ocop(coop, council, "QĐ 77/QĐ-UBND");
    ending.0.valid_until = (now() + chrono::Duration::days(20))
        .format("%Y-%m-%d")
        .to_string();
    store
        .create_certification(&ending.build(), now())
        .await
        .unwrap();
    // A certificate of years ahead is not "ending".
    store
        .create_certification(
            &fixtures::ocop(coop, council, "QĐ 78/QĐ-UBND").build(),
            now(),
        )
        .await
        .unwrap();
    let labels = crate::support::labels::mint(&app, product, 3, Some("CD-2026-11")).await;
    for path in &labels {
        assert_eq!(app.get(path).await.status, StatusCode::OK);
    }
    // Scans are stored in group commits a moment after their page.
    for _ in 0..100 {
        if store.count_scans().await.unwrap() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let report = truyxuat::domain::scan::NewReport {
        batch_id: None,
        label_index: None,
        product_id: Some(product),
        message: "<script>alert('tem giả')</script> mua ở chợ Đà Lạt".into(),
        contact: None,
    };
    store.add_report(&report, now()).await.unwrap();

    let owner = app.member("chu@htx.vn", coop, Role::Owner).await;
    let page = app.get_with("/console", "cookie", &owner.cookie).await;
    assert_eq!(page.texts("#scans-total"), vec!["3"]);
    assert_eq!(
        page.html()
            .select(&scraper::Selector::parse("svg.chart rect").unwrap())
            .count(),
        30
    );
    let expiring = page.texts("#expiring li");
    assert_eq!(expiring.len(), 1, "{expiring:?}");
    assert!(expiring[0].contains("QĐ 77/QĐ-UBND") && expiring[0].contains("20 ngày nữa"));
    let reports = page.texts("#reports li");
    assert_eq!(reports.len(), 1);
    assert!(
        reports[0].contains("<script>alert('tem giả')</script>"),
        "shown as text"
    );
    assert!(!page.body.contains("<script>alert"), "never as markup");
}

#[tokio::test]
async fn an_editor_records_a_harvest_from_a_phone_form() {
    let app = TestApp::new().await;
    let store = &app.db.store;
    let coop = store
        .create_organization(&fixtures::cooperative("HTX Nhãn Hưng Yên").build(), now())
        .await
        .unwrap()
        .id;
    let product = store
        .create_product(&fixtures::product(coop, "Nhãn lồng").build(), now())
        .await
        .unwrap()
        .id
        .to_string();
    let editor = app.member("bientap@nhan.vn", coop, Role::Editor).await;
    let fields = [
        ("product_id", product.as_str()),
        ("code", "NL-2026-08-01"),
        ("produced_on", "2026-08-01"),
        ("quantity", "1.200,5"),
        ("growing_area", "Vườn VT-HY-0451"),
        ("province", "Hưng Yên"),
    ];
    let saved = app.post_console("/console/lots", &fields, &editor).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = app
        .get_with("/console/lots", "cookie", &editor.cookie)
        .await;
    let cells = page.texts("#lots tbody td");
    assert_eq!(cells[0], "NL-2026-08-01");
    assert_eq!(cells[4], "1200.5");
    assert!(cells[5].contains("Hưng Yên"), "{cells:?}");

    // The same code again, a quantity that is no number: refused beside their fields.
    let mut again = fields;
    again[3] = ("quantity", "một tấn");
    let refused = app.post_console("/console/lots", &again, &editor).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.texts("#quantity-error").len(),
        1,
        "{}",
        refused.body
    );
    let refused = app.post_console("/console/lots", &fields, &editor).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.texts("#new-lot .field-error").len(),
        1,
        "{}",
        refused.body
    );
}
