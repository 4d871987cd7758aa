//! A cooperative submits a certificate with its evidence in the console, and sees the
//! inspector's decision there.

use axum::http::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use truyxuat::app::{Caller, accounts};
use truyxuat::domain::people::{Membership, PersonInput, Role};

use crate::support::changes::Changes;
use crate::support::fixtures::{self, now};
use crate::support::http::{FilePart, PASSWORD, Session, TestApp};

async fn member(app: &TestApp, login: &str, organization: i64, role: Role) -> Session {
    let input = PersonInput {
        login: login.into(),
        display_name: format!("Người {login}"),
    }
    .validate()
    .unwrap();
    accounts::create_person(
        &app.app,
        &Caller::cli(),
        &input,
        &[Membership::of(organization, role)],
        Some(PASSWORD),
    )
    .await
    .unwrap();
    app.sign_in(login, PASSWORD).await.unwrap()
}

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
    let editor = member(&app, "bientap@htx.vn", coop, Role::Editor).await;
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
    let viewer = member(&app, "xem@htx.vn", coop, Role::Viewer).await;
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
