//! The inspectors' workspace: a certificate's three checks, and a decision the shopper's
//! page shows with the inspector's name, the date and the reason.

use axum::http::StatusCode;
use truyxuat::domain::certification::{CertStatus, Certification};
use truyxuat::domain::people::Role;

use crate::support::changes::Changes;
use crate::support::fixtures::{department, now};
use crate::support::http::{Session, TestApp, urlencode};
use crate::support::labels::mint;

/// Demo authorities inspectors belong to.
const LAM_DONG: &str = "Hội đồng OCOP tỉnh Lâm Đồng";
const TAY_NINH: &str = "Sở Nông nghiệp và Môi trường tỉnh Tây Ninh";

/// An inspector of the demo authority named `authority`, signed in.
async fn inspector(app: &TestApp, authority: &str, login: &str) -> Session {
    let found = app
        .db
        .store
        .list_organizations(&truyxuat::store::ListQuery::search(authority))
        .await
        .unwrap();
    let id = found.iter().find(|o| o.data.name == authority).unwrap().id;
    app.member(login, id, Role::Inspector).await
}

/// The first certificate of demo product `product` in `status`.
async fn certificate_of(app: &TestApp, product: i64, status: CertStatus) -> Certification {
    app.db
        .store
        .list_certifications(&Default::default(), Some(product))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.status == status)
        .unwrap()
}

#[tokio::test]
async fn an_inspector_rejects_a_certificate_and_the_shopper_sees_who_when_and_why() {
    let app = TestApp::with_demo().await;
    let store = app.db.store.clone();
    // Demo product 6 (Nước mắm) carries an OCOP certificate awaiting verification.
    let label = mint(&app, 6, 1, Some("PQ-THUNG-17")).await.remove(0);
    let cert = certificate_of(&app, 6, CertStatus::Submitted).await;
    let producer = store
        .organization(cert.data.holder_id)
        .await
        .unwrap()
        .unwrap();
    let department = store
        .create_organization(
            &department("Chi cục Quản lý chất lượng")
                .province(producer.data.province.name)
                .build(),
            now(),
        )
        .await
        .unwrap();
    let inspector = app
        .member("thanhtra@qlcl.gov.vn", department.id, Role::Inspector)
        .await;
    let path = format!("/inspect/certificates/{}", cert.id);

    // The three checks.
    let page = app.get_with(&path, "cookie", &inspector.cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.texts("#check-issuer")[0].contains("✓"),
        "{:?}",
        page.texts("#check-issuer")
    );
    assert!(page.texts("#check-validity")[0].contains("Chờ thẩm định"));
    assert_eq!(page.texts("#status"), vec!["Chờ thẩm định"]);

    // Rejecting needs a reason, in the page's language.
    let refused = app
        .post_console(
            &path,
            &[("decision", "reject"), ("reason", "  ")],
            &inspector,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.texts("#reason-error"), vec!["Không được để trống"]);
    assert_eq!(
        store.certification(cert.id).await.unwrap().unwrap().status,
        CertStatus::Submitted
    );

    // Rejected with a reason (hostile text is escaped wherever it shows).
    let reason = "Số quyết định không có trong danh sách <script>alert(1)</script>";
    let decided = app
        .post_console(
            &path,
            &[("decision", "reject"), ("reason", reason)],
            &inspector,
        )
        .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.body);
    let stored = store.certification(cert.id).await.unwrap().unwrap();
    assert_eq!(stored.status, CertStatus::Rejected);
    assert_eq!(stored.status_reason.as_deref(), Some(reason));
    assert_eq!(
        stored.status_changed_by.as_deref(),
        Some("Thành viên thanhtra@qlcl.gov.vn")
    );

    // The shopper's page: rejected, by whom, when and why.
    let scan = app.get(&label).await;
    assert_eq!(scan.texts("#certifications .badge.b-rejected").len(), 1);
    let decision = scan.texts("#certifications .decision");
    assert_eq!(
        decision,
        vec![format!(
            "Bị từ chối bởi Thành viên thanhtra@qlcl.gov.vn, ngày {}: {reason}",
            now().format("%d/%m/%Y")
        )]
    );
    assert!(!scan.body.contains("<script>alert"));

    // A rejected certificate cannot be verified; a producer's editor has no say.
    let again = app
        .post_console(&path, &[("decision", "verify"), ("reason", "")], &inspector)
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    let editor = app
        .member("bientap@nuocmam.vn", cert.data.holder_id, Role::Editor)
        .await;
    let refused = app
        .post_console(&path, &[("decision", "verify"), ("reason", "")], &editor)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

/// A verified certificate whose holder changes what it says waits for an inspector again:
/// the shopper's page shows it pending, not verified; saving it unchanged keeps it verified.
#[tokio::test]
async fn a_verified_certificate_changed_by_its_holder_goes_back_to_review() {
    let app = TestApp::with_demo().await;
    let store = app.db.store.clone();
    // Demo product 1 (Chè Ô Long) carries a verified certificate.
    let label = mint(&app, 1, 1, Some("CD-2026-10A")).await.remove(0);
    let cert = certificate_of(&app, 1, CertStatus::Verified).await;
    let same = store
        .update_certification(cert.id, &cert.data, now())
        .await
        .unwrap();
    assert_eq!(same.status, CertStatus::Verified);
    let pending_before = app.get(&label).await.texts(".badge.b-pending").len();

    let mut longer = cert.data.clone();
    longer.valid_until = longer.issued_on + chrono::Months::new(30);
    let changed = store
        .update_certification(cert.id, &longer, now())
        .await
        .unwrap();
    assert_eq!(changed.status, CertStatus::Submitted);
    assert_eq!(
        store.certification(cert.id).await.unwrap().unwrap().status,
        CertStatus::Submitted
    );
    let scan = app.get(&label).await;
    assert_eq!(scan.texts(".badge.b-pending").len(), pending_before + 1);
}

/// One search box, with or without diacritics, over the inspector's province only; what was
/// typed comes back escaped.
#[tokio::test]
async fn an_inspector_finds_gao_nang_thom_in_their_province_only() {
    let app = TestApp::with_demo().await;
    let tay_ninh = inspector(&app, TAY_NINH, "thanhtra@tayninh.gov.vn").await;
    let lam_dong = inspector(&app, LAM_DONG, "thanhtra@lamdong.gov.vn").await;
    for typed in ["gao nang thom", "Gạo Nàng Thơm"] {
        let path = format!("/inspect/search?q={}", urlencode(typed));
        let page = app.get_with(&path, "cookie", &tay_ninh.cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.texts("#found-products td a")
                .contains(&"Gạo Nàng Thơm Chợ Đào".to_owned()),
            "{typed}: {:?}",
            page.texts("#found-products td a")
        );
        assert_eq!(
            page.texts("#found-producers td a"),
            vec!["HTX Gạo Nàng Thơm Chợ Đào"]
        );
    }
    let elsewhere = app
        .get_with(
            "/inspect/search?q=gao+nang+thom",
            "cookie",
            &lam_dong.cookie,
        )
        .await;
    assert!(elsewhere.texts("#found-products td a").is_empty());
    assert_eq!(elsewhere.texts("#nothing").len(), 1);
    let hostile = app
        .get_with(
            "/inspect/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            "cookie",
            &tay_ninh.cookie,
        )
        .await;
    assert_eq!(hostile.status, StatusCode::OK);
    assert!(!hostile.body.contains("<script>alert"));
}

/// An organization of the demo data, by name.
async fn organization_named(
    app: &TestApp,
    name: &str,
) -> truyxuat::domain::organization::Organization {
    let query = truyxuat::store::ListQuery::search(name);
    let found = app.db.store.list_organizations(&query).await.unwrap();
    found.into_iter().find(|o| o.data.name == name).unwrap()
}

/// One kind as a table: filtered (status, stars, certificates ending within 30/60/90 days,
/// a province beyond the inspector's finds nothing), sorted both ways, paged by 50, and
/// exported whole as CSV (with a BOM), XLSX and JSON with the same rows.
#[tokio::test]
async fn an_inspector_filters_sorts_pages_and_exports_a_list() {
    use crate::support::fixtures::{lot, ocop};
    let app = TestApp::with_demo().await;
    let store = app.db.store.clone();
    let tay_ninh = inspector(&app, TAY_NINH, "thanhtra@tayninh.gov.vn").await;
    let authority = organization_named(&app, TAY_NINH).await;
    let coop = organization_named(&app, "HTX Gạo Nàng Thơm Chợ Đào").await;
    let product = store
        .list_products(
            &truyxuat::store::ListQuery::search("Gạo Nàng Thơm Chợ Đào"),
            None,
        )
        .await
        .unwrap()
        .remove(0);
    let before = store
        .list_lots(
            &truyxuat::store::ListQuery {
                limit: Some(500),
                ..Default::default()
            },
            Some(product.id),
        )
        .await
        .unwrap()
        .len();
    for n in 0..120 {
        let made = lot(product.id, &format!("GNT-{n:04}")).build();
        store.create_lot(&made, now()).await.unwrap();
    }
    let total = before + 120;
    let get = |path: String| {
        let app = &app;
        let cookie = tay_ninh.cookie.clone();
        async move { app.get_with(&path, "cookie", &cookie).await }
    };

    // Paged by 50, sorted by code both ways.
    let lots = "/inspect/search?q=gao+nang+thom&kind=lots";
    let first = get(format!("{lots}&sort=code")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let codes = first.texts("#found-lots tbody td a");
    assert_eq!(codes.len(), 50);
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted);
    assert_eq!(first.texts("a[rel=next]").len(), 1);
    let last_page = (total as i64 + 49) / 50;
    let last = get(format!("{lots}&sort=code&page={last_page}")).await;
    assert_eq!(
        last.texts("#found-lots tbody tr").len(),
        total - 50 * (last_page as usize - 1)
    );
    assert!(last.texts("a[rel=next]").is_empty());
    let down = get(format!("{lots}&sort=code&dir=desc")).await;
    let every = truyxuat::store::ListQuery {
        limit: Some(truyxuat::store::ListQuery::MAX_LIMIT),
        ..Default::default()
    };
    let all = store.list_lots(&every, Some(product.id)).await.unwrap();
    let highest = all.iter().map(|l| l.data.code.clone()).max().unwrap();
    assert_eq!(down.texts("#found-lots tbody td a")[0], highest);

    // A recalled lot, by its status.
    let recalled = store
        .list_lots(
            &truyxuat::store::ListQuery::search("GNT-0007"),
            Some(product.id),
        )
        .await
        .unwrap()
        .remove(0);
    truyxuat::app::labels::recall(
        &app.app,
        &truyxuat::app::Caller::cli(),
        product.id,
        "GNT-0007",
        "Nấm mốc",
    )
    .await
    .unwrap();
    let only = get(format!("{lots}&status=recalled")).await;
    assert_eq!(
        only.texts("#found-lots tbody td a"),
        vec![recalled.data.code.clone()]
    );

    // Certificates ending within 30, 60 and 90 days, and by stars.
    for (number, until, stars) in [
        ("TN-30", "2026-12-10", 3),
        ("TN-60", "2027-01-10", 5),
        ("TN-90", "2027-02-10", 5),
    ] {
        let mut cert = ocop(coop.id, authority.id, number).product(product.id);
        cert.0.valid_until = until.into();
        cert.0.ocop_stars = Some(stars);
        store
            .create_certification(&cert.build(), now())
            .await
            .unwrap();
    }
    let certs = "/inspect/search?kind=certificates&q=TN";
    for (days, expected) in [
        (30, vec!["TN-30"]),
        (60, vec!["TN-30", "TN-60"]),
        (90, vec!["TN-30", "TN-60", "TN-90"]),
    ] {
        let page = get(format!("{certs}&expiring={days}")).await;
        let numbers: Vec<String> = page.texts("#found-certificates tbody tr td:nth-child(4)");
        assert_eq!(numbers, expected, "within {days} days");
    }
    let five = get(format!("{certs}&stars=5&sort=valid_until&dir=desc")).await;
    assert_eq!(
        five.texts("#found-certificates tbody tr td:nth-child(4)"),
        vec!["TN-90", "TN-60"]
    );

    // Bad filters are refused in the page's language; another province finds nothing.
    let bad = get(format!("{certs}&stars=7")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.texts("#stars-error").len(), 1);
    let beyond =
        get("/inspect/search?kind=producers&province=L%C3%A2m+%C4%90%E1%BB%93ng".into()).await;
    assert!(beyond.texts("#found-producers tbody tr").is_empty());
    assert_eq!(beyond.texts("#nothing").len(), 1);

    // Exports: the whole list, whatever the page, in three formats.
    let csv = get("/inspect/search/export.csv?q=gao+nang+thom&kind=lots".into()).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert!(csv.body.starts_with('\u{feff}'), "a BOM first");
    let mut reader = csv::Reader::from_reader(csv.body.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(reader.headers().unwrap().get(1), Some("Mã lô"));
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), total);
    assert!(
        records
            .iter()
            .all(|r| r.get(2) == Some("Gạo Nàng Thơm Chợ Đào"))
    );
    let json = get("/inspect/search/export.json?q=gao+nang+thom&kind=lots".into()).await;
    let listed = json.json();
    assert_eq!(listed.as_array().unwrap().len(), total);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["recall_reason"] == "Nấm mốc")
    );
    let xlsx = app
        .send(
            axum::http::Request::get("/inspect/search/export.xlsx?q=gao+nang+thom&kind=lots")
                .header("cookie", &tay_ninh.cookie)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    let bytes = xlsx.body_bytes.clone();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    use calamine::Reader;
    let sheet = book.worksheet_range("Danh sách").unwrap();
    assert_eq!(sheet.height(), total + 1);
    assert_eq!(
        sheet.get((1, 2)).unwrap().to_string(),
        "Gạo Nàng Thơm Chợ Đào"
    );
}

/// The shoppers' reports as an inbox: an inspector of the product's province reads, takes
/// and handles one with a note (each an audit entry); another province's does not see it
/// and may not touch it; a report about no known label is every inspector's; what the
/// shopper typed is escaped.
#[tokio::test]
async fn an_inspector_reads_takes_and_handles_a_shoppers_report() {
    use truyxuat::domain::scan::{ReportInput, ReportState};
    let app = TestApp::with_demo().await;
    let store = app.db.store.clone();
    let report = |message: &str, product: Option<i64>| {
        ReportInput {
            message: message.into(),
            contact: Some("0912 345 678".into()),
        }
        .validate(None, None, product)
        .unwrap()
    };
    // Demo product 1 (Chè Ô Long) is made in Lâm Đồng.
    let about_tea = store
        .add_report(
            &report("Tem bị bóc <script>alert(1)</script>", Some(1)),
            now(),
        )
        .await
        .unwrap();
    let forged = store
        .add_report(&report("Tem không quét được", None), now())
        .await
        .unwrap();
    let lam_dong = inspector(&app, LAM_DONG, "thanhtra@lamdong.gov.vn").await;
    let tay_ninh = inspector(&app, TAY_NINH, "thanhtra@tayninh.gov.vn").await;

    let inbox = app
        .get_with("/inspect/reports", "cookie", &lam_dong.cookie)
        .await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);
    let row = format!("#report-{about_tea}");
    assert_eq!(inbox.texts(&format!("{row} td.state")), vec!["Mới"]);
    assert!(inbox.texts(&format!("{row} td.message"))[0].starts_with("Tem bị bóc <script>"));
    assert!(!inbox.body.contains("<script>alert"));
    assert_eq!(
        inbox.texts(&format!("#report-{forged} td.state")),
        vec!["Mới"]
    );
    let elsewhere = app
        .get_with("/inspect/reports", "cookie", &tay_ninh.cookie)
        .await;
    assert!(elsewhere.texts(&format!("{row} td.state")).is_empty());
    assert_eq!(
        elsewhere.texts(&format!("#report-{forged} td.state")),
        vec!["Mới"]
    );

    let path = format!("/inspect/reports/{about_tea}");
    let refused = app
        .post_console(&path, &[("action", "take"), ("note", "")], &tay_ninh)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let entries = store.audit_size().await.unwrap();
    let taken = app
        .post_console(&path, &[("action", "take"), ("note", "")], &lam_dong)
        .await;
    assert_eq!(taken.status, StatusCode::SEE_OTHER, "{}", taken.body);
    let handled = app
        .post_console(
            &path,
            &[("action", "handled"), ("note", "Đã liên hệ HTX, tem thật")],
            &lam_dong,
        )
        .await;
    assert_eq!(handled.status, StatusCode::SEE_OTHER);
    assert_eq!(store.audit_size().await.unwrap(), entries + 2);
    let inbox = app
        .get_with("/inspect/reports", "cookie", &lam_dong.cookie)
        .await;
    assert_eq!(inbox.texts(&format!("{row} td.state")), vec!["Đã xử lý"]);
    assert_eq!(
        inbox.texts(&format!("{row} td.handler")),
        vec!["Thành viên thanhtra@lamdong.gov.vn"]
    );
    assert_eq!(
        inbox.texts(&format!("{row} p.note")),
        vec!["Đã liên hệ HTX, tem thật"]
    );
    let stored = store
        .list_reports(&Default::default(), Some(1))
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == about_tea)
        .unwrap();
    assert_eq!(stored.state, ReportState::Handled);
    assert!(stored.assigned_to.is_some());
}

/// An inspector suspends a producer of the province with a reason (the next scan of its
/// labels says so), then lifts it; a suspension needs a reason.
#[tokio::test]
async fn an_inspector_suspends_a_producer_and_lifts_it() {
    let app = TestApp::with_demo().await;
    let store = app.db.store.clone();
    let label = mint(&app, 1, 1, Some("CD-2026-10A")).await.remove(0);
    let coop = store.product(1).await.unwrap().unwrap().data.producer_id;
    let inspector = inspector(&app, LAM_DONG, "thanhtra@lamdong.gov.vn").await;
    let path = format!("/inspect/producers/{coop}");
    let page = app.get_with(&path, "cookie", &inspector.cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let action = format!("{path}/suspension");

    let refused = app
        .post_console(
            &action,
            &[("action", "suspend"), ("reason", " ")],
            &inspector,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.texts("#reason-error"), vec!["Không được để trống"]);

    let reason = "Dùng tem của cơ sở khác";
    let suspended = app
        .post_console(
            &action,
            &[("action", "suspend"), ("reason", reason)],
            &inspector,
        )
        .await;
    assert_eq!(
        suspended.status,
        StatusCode::SEE_OTHER,
        "{}",
        suspended.body
    );
    let page = app.get_with(&path, "cookie", &inspector.cookie).await;
    assert!(page.texts("#suspended")[0].ends_with(reason));
    let scan = app.get(&label).await;
    assert!(scan.texts("#suspended b").contains(&reason.to_owned()));

    let lifted = app
        .post_console(
            &action,
            &[("action", "reinstate"), ("reason", "")],
            &inspector,
        )
        .await;
    assert_eq!(lifted.status, StatusCode::SEE_OTHER);
    assert!(
        store
            .organization(coop)
            .await
            .unwrap()
            .unwrap()
            .suspended_at
            .is_none()
    );
    assert!(app.get(&label).await.texts("#suspended").is_empty());
}

/// An inspector recalls two lots with GS1's fields from a lot's page: the next scan of a
/// label on either shows the banner, each lot's history and the recall's own show it, and
/// the log still verifies; closing it (a note needed) takes the banner away, keeps the recall.
#[tokio::test]
async fn an_inspector_recalls_two_lots_and_closes_the_recall() {
    let app = TestApp::with_demo().await;
    let store = app.db.store.clone();
    let label = mint(&app, 1, 1, Some("CD-2026-10A")).await.remove(0);
    let lots = store.list_lots(&Default::default(), Some(1)).await.unwrap();
    let lot = lots.iter().find(|l| l.data.code == "CD-2026-10A").unwrap();
    let other = lots.iter().find(|l| l.id != lot.id).expect("a second lot");
    let inspector = inspector(&app, LAM_DONG, "thanhtra@lamdong.gov.vn").await;
    let path = format!("/inspect/lots/{}", lot.id);
    let page = app.get_with(&path, "cookie", &inspector.cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.texts("#lot-state"), vec!["Đang lưu hành"]);
    assert_eq!(page.texts("#recall option[selected]").len(), 0);

    // Every field is needed, each refusal in the page's language, and nothing changes.
    let action = format!("{path}/recall");
    let lot_id = lot.id.to_string();
    let refused = app
        .post_console(
            &action,
            &[
                ("lot_ids", &lot_id),
                ("reason_code", "BAD_LUCK"),
                ("risk_class", "4"),
            ],
            &inspector,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["reason_code", "reason", "risk_class", "contact"] {
        assert_eq!(
            refused.texts(&format!("#{field}-error")).len(),
            1,
            "{field}"
        );
    }
    assert_eq!(refused.texts("#contact-error"), vec!["Không được để trống"]);
    assert!(store.recalls_of_lot(lot.id).await.unwrap().is_empty());

    let other_id = other.id.to_string();
    let reason = "Mẫu kiểm nghiệm phát hiện dư lượng <b>chlorpyrifos</b>";
    let recalled = app
        .post_console(
            &action,
            &[
                ("lot_ids", lot_id.as_str()),
                ("lot_ids", other_id.as_str()),
                ("reason_code", "CHEMICAL_CONTAMINATION"),
                ("reason", reason),
                ("risk_class", "1"),
                ("contact", "Chi cục QLCL Lâm Đồng, 0263 3822 000"),
            ],
            &inspector,
        )
        .await;
    assert_eq!(recalled.status, StatusCode::SEE_OTHER, "{}", recalled.body);
    let recall = store.recalls_of_lot(other.id).await.unwrap().remove(0);
    assert_eq!(recall.data.lot_ids, {
        let mut ids = vec![lot.id, other.id];
        ids.sort();
        ids
    });
    assert_eq!(recall.data.risk_class, 1);
    assert!(
        store
            .lot(other.id)
            .await
            .unwrap()
            .unwrap()
            .recalled_at
            .is_some()
    );

    // The very next scan shows the banner and the reason, escaped.
    let scan = app.get(&label).await;
    assert_eq!(
        scan.texts("#verdict strong"),
        vec!["SẢN PHẨM ĐÃ BỊ THU HỒI"]
    );
    assert_eq!(
        scan.texts("#verdict p"),
        vec![
            reason,
            "Liên hệ về đợt thu hồi: Chi cục QLCL Lâm Đồng, 0263 3822 000"
        ]
    );
    assert!(!scan.body.contains("<b>chlorpyrifos"));

    // The lot's page, the recall's history and the lot's history.
    let page = app.get_with(&path, "cookie", &inspector.cookie).await;
    assert_eq!(page.texts("#lot-state"), vec!["Đang bị thu hồi"]);
    let section = format!("#recall-{}", recall.id);
    assert!(page.texts(&section)[0].contains("Nhiễm hoá chất"));
    assert!(page.texts(&section)[0].contains("Loại 1"));
    let history = app
        .get_with(
            &format!("/inspect/history/recall/{}", recall.id),
            "cookie",
            &inspector.cookie,
        )
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    assert!(history.body.contains("lot.recall"), "{}", history.body);
    let lot_history = app
        .get_with(
            &format!("/inspect/history/lot/{}", other.id),
            "cookie",
            &inspector.cookie,
        )
        .await;
    assert!(lot_history.body.contains("lot.recall"));
    truyxuat::app::auditlog::checkpoint(&app.app, &app.audit_key)
        .await
        .unwrap();
    let verified = truyxuat::app::auditlog::verify(&app.app, &app.audit_key.vkey)
        .await
        .unwrap();
    assert!(verified.is_ok(), "{verified:?}");

    // A producer's owner may not lift an inspector's recall.
    let close = format!("/inspect/recalls/{}/close", recall.id);
    let producer = store.product(1).await.unwrap().unwrap().data.producer_id;
    let owner = app
        .member_token("chu@caphe.vn", producer, Role::Owner)
        .await;
    let close_api = format!("/api/v1/recalls/{}/close", recall.id);
    let api = app
        .api_with(
            &owner,
            "POST",
            &close_api,
            serde_json::json!({"note": "xong"}),
        )
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN, "{}", api.body);

    // A second recall of the other lot alone, for another reason: the lot takes it.
    let second: truyxuat::domain::recall::RecallInput = serde_json::from_value(serde_json::json!({
        "lot_ids": [other.id], "reason_code": "INCORRECT_LABELLING", "reason": "Ghi nhãn sai",
        "risk_class": 3, "contact": "HTX, 0263 3821 468"
    }))
    .unwrap();
    truyxuat::app::recalls::open(
        &app.app,
        &truyxuat::app::Caller::cli(),
        &second.validate().unwrap(),
    )
    .await
    .unwrap();

    // Closing needs a note; then the banner goes and the recall stays.
    let refused = app
        .post_console(
            &close,
            &[("lot", lot_id.as_str()), ("note", "")],
            &inspector,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.texts("[id='close.note-error']"),
        vec!["Không được để trống"]
    );
    let closed = app
        .post_console(
            &close,
            &[
                ("lot", lot_id.as_str()),
                ("note", "Đã thu hồi hết hàng trên kệ"),
            ],
            &inspector,
        )
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    let scan = app.get(&label).await;
    assert!(scan.texts("#verdict strong") != vec!["SẢN PHẨM ĐÃ BỊ THU HỒI"]);
    let page = app.get_with(&path, "cookie", &inspector.cookie).await;
    assert_eq!(page.texts("#lot-state"), vec!["Đang lưu hành"]);
    assert!(page.texts(&section)[0].contains("Đã kết thúc"));
    // The other lot is still under the second recall, with its reason.
    let still = store.lot(other.id).await.unwrap().unwrap();
    assert!(still.recalled_at.is_some());
    assert_eq!(still.recall_reason.as_deref(), Some("Ghi nhãn sai"));
    let verified = truyxuat::app::auditlog::verify(&app.app, &app.audit_key.vkey)
        .await
        .unwrap();
    assert!(verified.is_ok(), "{verified:?}");
    let again = app
        .post_console(
            &close,
            &[("lot", lot_id.as_str()), ("note", "lần nữa")],
            &inspector,
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// The exported CSV opens in LibreOffice with its Vietnamese intact: converted headless to
/// XLSX, its heads and names come back as written. (Headless conversion skips the import
/// dialog, where the BOM preselects UTF-8, so the filter names it: comma, double quote,
/// UTF-8.)
#[tokio::test]
async fn libreoffice_opens_an_exported_csv_with_vietnamese_intact() {
    use calamine::Reader;
    let app = TestApp::with_demo().await;
    let tay_ninh = inspector(&app, TAY_NINH, "thanhtra@tayninh.gov.vn").await;
    let csv = app
        .get_with(
            "/inspect/search/export.csv?q=gao+nang+thom&kind=products",
            "cookie",
            &tay_ninh.cookie,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("san-pham.csv");
    std::fs::write(&file, &csv.body_bytes).unwrap();
    // A profile of its own, so that a desktop's LibreOffice (or another test's) is no matter.
    let profile = format!(
        "-env:UserInstallation=file://{}/profile",
        dir.path().display()
    );
    let converted = std::process::Command::new("soffice")
        .args([&profile, "--headless", "--infilter=CSV:44,34,76,1"])
        .args(["--convert-to", "xlsx", "--outdir"])
        .arg(dir.path())
        .arg(&file)
        .output()
        .expect("LibreOffice (soffice) is missing: `make test` installs it");
    assert!(converted.status.success(), "{converted:?}");
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook(dir.path().join("san-pham.xlsx")).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let cell = |row: usize, col: usize| sheet.get((row, col)).unwrap().to_string();
    assert_eq!(cell(0, 0), "Mã", "the BOM is no part of the first head");
    assert_eq!(cell(0, 1), "Tên");
    assert_eq!(cell(0, 4), "Cơ sở sản xuất");
    assert_eq!(cell(1, 1), "Gạo Nàng Thơm Chợ Đào");
    assert_eq!(cell(1, 4), "HTX Gạo Nàng Thơm Chợ Đào");
}

/// One decision revokes several certificates from a list, all or none: each then reads
/// revoked with the decision's number on the shopper's page, each with its audit entry; a
/// certificate of another province among them, or no decision number, changes nothing.
#[tokio::test]
async fn an_inspector_revokes_several_certificates_by_one_decision() {
    let app = TestApp::with_demo().await;
    let store = app.db.store.clone();
    let tay_ninh = inspector(&app, TAY_NINH, "thanhtra@tayninh.gov.vn").await;
    let number = |n: &str| {
        let store = store.clone();
        let n = n.to_owned();
        async move {
            let query = truyxuat::store::ListQuery::search(&n);
            store
                .list_certifications(&query, None)
                .await
                .unwrap()
                .remove(0)
        }
    };
    let vietgap = number("VG-TN-2025-0142").await;
    let chain = number("88/XN-SNNMT").await;
    let lam_dong = number("1520/QĐ-UBND").await;
    let label = mint(&app, vietgap.data.product_id.unwrap(), 1, None)
        .await
        .remove(0);
    let back = "q=gao+nang+thom&kind=certificates";
    let (v, c, l) = (
        vietgap.id.to_string(),
        chain.id.to_string(),
        lam_dong.id.to_string(),
    );
    let entries = store.audit_size().await.unwrap();

    // Another province's certificate among them: refused, nothing changes.
    let refused = app
        .post_console(
            "/inspect/certificates/revoke",
            &[
                ("ids", &v),
                ("ids", &l),
                ("decision", "125/QĐ-SNNMT"),
                ("reason", "Hết điều kiện"),
                ("back", back),
            ],
            &tay_ninh,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // No decision number: refused in the page's language, the ticks kept.
    let refused = app
        .post_console(
            "/inspect/certificates/revoke",
            &[
                ("ids", &v),
                ("ids", &c),
                ("decision", " "),
                ("reason", "Hết điều kiện"),
                ("back", back),
            ],
            &tay_ninh,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.texts("[id='revoke.decision-error']"),
        vec!["Không được để trống"]
    );
    assert_eq!(refused.texts("input[name=ids][checked]").len(), 2);
    assert_eq!(store.audit_size().await.unwrap(), entries);
    assert_eq!(number("VG-TN-2025-0142").await.status, CertStatus::Verified);

    let reason = "Không duy trì điều kiện sản xuất <b>an toàn</b>";
    let done = app
        .post_console(
            "/inspect/certificates/revoke",
            &[
                ("ids", &v),
                ("ids", &c),
                ("decision", "125/QĐ-SNNMT"),
                ("reason", reason),
                ("back", back),
            ],
            &tay_ninh,
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.header("location"), format!("/inspect/search?{back}"));
    assert_eq!(store.audit_size().await.unwrap(), entries + 2);
    for n in ["VG-TN-2025-0142", "88/XN-SNNMT"] {
        let revoked = number(n).await;
        assert_eq!(revoked.status, CertStatus::Revoked, "{n}");
        assert_eq!(
            revoked.status_reason.as_deref(),
            Some(format!("125/QĐ-SNNMT: {reason}").as_str())
        );
    }
    let scan = app.get(&label).await;
    let decisions = scan.texts("#certifications .decision");
    assert!(
        decisions
            .iter()
            .any(|d| d.contains("125/QĐ-SNNMT: Không duy trì")),
        "{decisions:?}"
    );
    assert!(!scan.body.contains("<b>an toàn"));
    // Revoked already: a second decision is refused.
    let again = app
        .post_console(
            "/inspect/certificates/revoke",
            &[
                ("ids", &v),
                ("decision", "126/QĐ-SNNMT"),
                ("reason", "Lần nữa"),
                ("back", back),
            ],
            &tay_ninh,
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.texts("[id='revoke.status-error']").len(), 1);
}

/// Labels worth a look, on both databases: one label of a batch scanned 30 times while the
/// others were scanned once is listed (a copied code); one scanned 3 times is not; scans of
/// a recalled lot's label are listed; another province's inspector sees neither.
mod suspicious {
    #[tokio::test]
    async fn sqlite() {
        super::suspicious_labels(crate::support::db::TestDb::sqlite().await).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::suspicious_labels(crate::support::db::TestDb::postgres().await).await;
    }
}

async fn suspicious_labels(db: crate::support::db::TestDb) {
    use truyxuat::domain::scan::NewScan;
    let app = TestApp::on_with_demo(db).await;
    let store = app.db.store.clone();
    mint(&app, 1, 10, Some("CD-2026-10A")).await;
    let batch = store.list_batches(Some(1)).await.unwrap()[0].id;
    let scan = |index: u32, minutes: i64, verdict: &'static str| NewScan {
        batch_id: batch,
        label_index: index,
        verdict,
        client: "android",
        scanned_at: now() + chrono::Duration::minutes(minutes),
    };
    let mut scans: Vec<NewScan> = (0..30).map(|m| scan(0, m, "genuine")).collect();
    scans.extend((1..5).map(|i| scan(i, 1, "genuine")));
    scans.extend((0..3).map(|m| scan(5, m, "genuine")));
    scans.extend((0..2).map(|m| scan(6, 40 + m, "recalled")));
    store.record_scans(&scans).await.unwrap();

    let lam_dong = inspector(&app, LAM_DONG, "thanhtra@lamdong.gov.vn").await;
    let page = app
        .get_with("/inspect/suspicious", "cookie", &lam_dong.cookie)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let often = page.texts("#often-scanned tbody tr");
    assert_eq!(often.len(), 1, "{often:?}");
    assert!(often[0].contains(&format!("#{batch} / 0")), "{often:?}");
    assert!(often[0].contains("30"), "{often:?}");
    let after = page.texts("#after-recall tbody tr");
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(after[0].contains(&format!("#{batch} / 6")) && after[0].contains("Đã thu hồi"));

    let tay_ninh = inspector(&app, TAY_NINH, "thanhtra@tayninh.gov.vn").await;
    let elsewhere = app
        .get_with("/inspect/suspicious", "cookie", &tay_ninh.cookie)
        .await;
    assert_eq!(elsewhere.texts("#often-none").len(), 1);
    assert_eq!(elsewhere.texts("#after-none").len(), 1);
    app.db.finish().await;
}

/// An OCOP re-evaluation that changes the stars shows the new stars on the shopper's page
/// from its date, and until then the old ones.
#[tokio::test]
async fn an_ocop_re_evaluation_shows_its_stars_from_its_date() {
    use crate::support::fixtures::ocop;
    let app = TestApp::with_demo().await;
    let store = app.db.store.clone();
    let label = mint(&app, 1, 1, Some("CD-2026-10A")).await.remove(0);
    let old = certificate_of(&app, 1, CertStatus::Verified).await;
    assert_eq!(old.data.ocop_stars, Some(4));
    let mut five = ocop(old.data.holder_id, old.data.issuer_id, "2210/QĐ-UBND").product(1);
    five.0.ocop_stars = Some(5);
    five.0.issued_on = "2026-12-01".into();
    five.0.valid_until = "2029-11-30".into();
    let five = store
        .create_certification(&five.build(), now())
        .await
        .unwrap();
    truyxuat::app::registry::set_certification_status(
        &app.app,
        &truyxuat::app::Caller::cli(),
        five.id,
        CertStatus::Verified,
        None,
    )
    .await
    .unwrap();
    let stars = |page: &crate::support::http::Reply| page.texts("#certifications .stars");

    let before = app.get(&label).await;
    assert_eq!(stars(&before), vec!["★★★★"]);
    assert!(!before.body.contains("2210/QĐ-UBND"));
    app.clock.advance(chrono::Duration::days(9));
    let after = app.get(&label).await;
    assert_eq!(stars(&after), vec!["★★★★★"]);
    assert!(after.body.contains("2210/QĐ-UBND") && !after.body.contains(&old.data.number));
}
