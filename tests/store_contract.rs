//! The storage contract, written once and run on both databases.

use std::sync::Arc;

use truyxuat::app::Error;
use truyxuat::domain::bundle::{BundleCertification, RegistryBundle};
use truyxuat::domain::certification::CertStatus;
use truyxuat::domain::scan::ReportInput;
use truyxuat::store::{ListQuery, Store};

use crate::on_both_databases;
use crate::support::changes::Changes;
use crate::support::fixtures::*;

on_both_databases!(
    organizations_are_created_read_updated_listed_and_searched,
    products_are_created_read_updated_listed_and_searched,
    search_ignores_diacritics_and_case,
    a_duplicate_gtin_is_a_conflict_and_changes_nothing,
    certifications_are_created_updated_listed_and_reviewed,
    a_duplicate_certificate_number_for_one_issuer_is_a_conflict,
    lots_are_created_read_updated_listed_and_searched,
    references_to_missing_or_wrong_kinds_are_refused,
    a_failed_import_leaves_nothing_behind,
    an_import_stores_everything_with_its_links,
    documents_are_stored_once_by_their_sha256,
    a_migrated_store_is_ready,
    problem_reports_are_stored_as_typed_and_read_back_newest_first,
);

fn field_of(e: &Error) -> &str {
    match e {
        Error::Conflict(i) | Error::Invalid(i) => &i.errors[0].field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

async fn organizations_are_created_read_updated_listed_and_searched(store: Arc<dyn Store>) {
    let created = store
        .create_organization(&cooperative("HTX Nông nghiệp Xuân Thọ").build(), now())
        .await
        .unwrap();
    assert_eq!(created.data.name, "HTX Nông nghiệp Xuân Thọ");
    assert_eq!(created.data.province.slug, "lam-dong");

    let read = store.organization(created.id).await.unwrap().unwrap();
    assert_eq!(read, created);

    let mut changed = cooperative("HTX Nông nghiệp Xuân Thọ")
        .province("Đắk Lắk")
        .build();
    changed.phone = Some("0262 111 222".into());
    let updated = store
        .update_organization(created.id, &changed, now())
        .await
        .unwrap();
    assert_eq!(updated.data.province.slug, "dak-lak");
    assert_eq!(
        store
            .organization(created.id)
            .await
            .unwrap()
            .unwrap()
            .data
            .phone
            .as_deref(),
        Some("0262 111 222")
    );

    store
        .create_organization(&department("Sở Nông nghiệp và Môi trường").build(), now())
        .await
        .unwrap();
    assert_eq!(
        store
            .list_organizations(&ListQuery::default())
            .await
            .unwrap()
            .len(),
        2
    );
    let found = store
        .list_organizations(&ListQuery::search("xuan tho dak lak"))
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![created.id]
    );

    assert!(matches!(
        store.update_organization(9999, &changed, now()).await,
        Err(Error::NotFound(_))
    ));
    assert!(store.organization(9999).await.unwrap().is_none());
}

async fn products_are_created_read_updated_listed_and_searched(store: Arc<dyn Store>) {
    let coop = store
        .create_organization(&cooperative("HTX Chè Cầu Đất").build(), now())
        .await
        .unwrap();
    let tea = store
        .create_product(
            &product(coop.id, "Chè Ô Long Cầu Đất")
                .gtin("8934588012112")
                .build(),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(tea.data.gtin.unwrap().as_gtin14(), "08934588012112");
    assert_eq!(tea.producer_name, "HTX Chè Cầu Đất");
    assert_eq!(store.product(tea.id).await.unwrap().unwrap(), tea);

    let coffee = store
        .create_product(&product(coop.id, "Cà phê Arabica").build(), now())
        .await
        .unwrap();
    assert!(coffee.data.gtin.is_none());

    let renamed = store
        .update_product(
            coffee.id,
            &product(coop.id, "Cà phê Arabica Cầu Đất").build(),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(renamed.data.name, "Cà phê Arabica Cầu Đất");

    let all = store
        .list_products(&ListQuery::default(), Some(coop.id))
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    let by_gtin = store
        .list_products(&ListQuery::search("08934588012112"), None)
        .await
        .unwrap();
    assert_eq!(by_gtin.len(), 1);
    assert_eq!(by_gtin[0].id, tea.id);
    let page = ListQuery {
        limit: Some(1),
        offset: Some(1),
        ..Default::default()
    };
    assert_eq!(store.list_products(&page, None).await.unwrap().len(), 1);
}

async fn search_ignores_diacritics_and_case(store: Arc<dyn Store>) {
    let coop = store
        .create_organization(
            &cooperative("HTX Gạo Chợ Đào").province("Tây Ninh").build(),
            now(),
        )
        .await
        .unwrap();
    let rice = store
        .create_product(&product(coop.id, "Gạo Nàng Thơm Chợ Đào").build(), now())
        .await
        .unwrap();
    store
        .create_product(&product(coop.id, "Gạo ST25").build(), now())
        .await
        .unwrap();
    for query in ["gao nang thom", "GẠO NÀNG", "thom cho dao", "Nàng   Thơm"] {
        let found = store
            .list_products(&ListQuery::search(query), None)
            .await
            .unwrap();
        assert_eq!(
            found.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![rice.id],
            "query {query:?}"
        );
    }
    // LIKE wildcards typed by a person are matched literally.
    assert!(
        store
            .list_products(&ListQuery::search("%"), None)
            .await
            .unwrap()
            .is_empty()
    );
    let orgs = store
        .list_organizations(&ListQuery::search("cho dao tay ninh"))
        .await
        .unwrap();
    assert_eq!(orgs.len(), 1);
}

async fn a_duplicate_gtin_is_a_conflict_and_changes_nothing(store: Arc<dyn Store>) {
    let coop = store
        .create_organization(&cooperative("HTX Mắc ca").build(), now())
        .await
        .unwrap();
    let first = store
        .create_product(
            &product(coop.id, "Hạt mắc ca").gtin("8934588012112").build(),
            now(),
        )
        .await
        .unwrap();
    // The same GTIN typed as GTIN-13 and as GTIN-14 is the same GTIN.
    let err = store
        .create_product(
            &product(coop.id, "Mắc ca rang")
                .gtin("08934588012112")
                .build(),
            now(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)));
    assert_eq!(field_of(&err), "gtin");

    let other = store
        .create_product(&product(coop.id, "Mắc ca rang").build(), now())
        .await
        .unwrap();
    let err = store
        .update_product(
            other.id,
            &product(coop.id, "Mắc ca rang")
                .gtin("8934588012112")
                .build(),
            now(),
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "gtin");
    assert!(
        store
            .product(other.id)
            .await
            .unwrap()
            .unwrap()
            .data
            .gtin
            .is_none()
    );
    assert_eq!(
        store
            .list_products(&ListQuery::default(), None)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(store.product(first.id).await.unwrap().unwrap(), first);
}

async fn certifications_are_created_updated_listed_and_reviewed(store: Arc<dyn Store>) {
    let coop = store
        .create_organization(&cooperative("HTX Rau Đà Lạt").build(), now())
        .await
        .unwrap();
    let council = store
        .create_organization(&department("Hội đồng OCOP tỉnh Lâm Đồng").build(), now())
        .await
        .unwrap();
    let cabbage = store
        .create_product(&product(coop.id, "Bắp cải tím").build(), now())
        .await
        .unwrap();
    let cert = store
        .create_certification(
            &ocop(coop.id, council.id, "128/QĐ-UBND")
                .product(cabbage.id)
                .build(),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(cert.status, CertStatus::Submitted);
    assert_eq!(cert.issuer_name, "Hội đồng OCOP tỉnh Lâm Đồng");
    assert_eq!(store.certification(cert.id).await.unwrap().unwrap(), cert);

    let mut changed = ocop(coop.id, council.id, "128/QĐ-UBND")
        .product(cabbage.id)
        .build();
    changed.ocop_stars = Some(5);
    let updated = store
        .update_certification(cert.id, &changed, now())
        .await
        .unwrap();
    assert_eq!(updated.data.ocop_stars, Some(5));

    let verified = store
        .set_certification_status(cert.id, CertStatus::Verified, "thanh.tra@lamdong", now())
        .await
        .unwrap();
    assert_eq!(verified.status, CertStatus::Verified);
    assert_eq!(
        verified.status_changed_by.as_deref(),
        Some("cli:thanh.tra@lamdong")
    );
    assert_eq!(verified.status_changed_at, Some(now()));

    // A verified certificate cannot be rejected; it is revoked instead.
    let err = store
        .set_certification_status(cert.id, CertStatus::Rejected, "x", now())
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "status");
    assert_eq!(
        store.certification(cert.id).await.unwrap().unwrap().status,
        CertStatus::Verified
    );

    let listed = store
        .list_certifications(&ListQuery::default(), Some(cabbage.id))
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let searched = store
        .list_certifications(&ListQuery::search("128/qđ"), None)
        .await
        .unwrap();
    assert_eq!(searched.len(), 1);
    assert!(
        store
            .list_certifications(&ListQuery::search("vietgap"), None)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_duplicate_certificate_number_for_one_issuer_is_a_conflict(store: Arc<dyn Store>) {
    let coop = store
        .create_organization(&cooperative("HTX Cà phê Cầu Đất").build(), now())
        .await
        .unwrap();
    let council = store
        .create_organization(&department("Hội đồng OCOP Lâm Đồng").build(), now())
        .await
        .unwrap();
    let other_council = store
        .create_organization(
            &department("Hội đồng OCOP Gia Lai")
                .province("Gia Lai")
                .build(),
            now(),
        )
        .await
        .unwrap();
    store
        .create_certification(&ocop(coop.id, council.id, "01/2025").build(), now())
        .await
        .unwrap();
    let err = store
        .create_certification(&ocop(coop.id, council.id, "01/2025").build(), now())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)));
    assert_eq!(field_of(&err), "number");
    // Another issuer may use the same number.
    store
        .create_certification(&ocop(coop.id, other_council.id, "01/2025").build(), now())
        .await
        .unwrap();
    assert_eq!(
        store
            .list_certifications(&ListQuery::default(), None)
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn lots_are_created_read_updated_listed_and_searched(store: Arc<dyn Store>) {
    let coop = store
        .create_organization(&cooperative("HTX Sầu riêng").build(), now())
        .await
        .unwrap();
    let durian = store
        .create_product(&product(coop.id, "Sầu riêng Ri6").build(), now())
        .await
        .unwrap();
    let lot1 = store
        .create_lot(&lot(durian.id, "SR-2026-10").build(), now())
        .await
        .unwrap();
    assert_eq!(lot1.data.province.map(|p| p.slug), Some("lam-dong"));
    assert_eq!(store.lot(lot1.id).await.unwrap().unwrap(), lot1);

    let mut input = lot(durian.id, "SR-2026-11").0;
    input.produced_on = "2026-11-01".into();
    let lot2 = store
        .create_lot(&input.validate().unwrap(), now())
        .await
        .unwrap();

    let err = store
        .create_lot(&lot(durian.id, "SR-2026-10").build(), now())
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "code");

    let mut changed = lot(durian.id, "SR-2026-10").build();
    changed.quantity = Some(800.5);
    assert_eq!(
        store
            .update_lot(lot1.id, &changed, now())
            .await
            .unwrap()
            .data
            .quantity,
        Some(800.5)
    );

    let listed = store
        .list_lots(&ListQuery::default(), Some(durian.id))
        .await
        .unwrap();
    assert_eq!(
        listed.iter().map(|l| l.id).collect::<Vec<_>>(),
        vec![lot2.id, lot1.id]
    );
    let found = store
        .list_lots(&ListQuery::search("sr-2026-11"), None)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, lot2.id);
}

async fn references_to_missing_or_wrong_kinds_are_refused(store: Arc<dyn Store>) {
    let coop = store
        .create_organization(&cooperative("HTX Mật ong").build(), now())
        .await
        .unwrap();
    let dept = store
        .create_organization(&department("Sở Công Thương").build(), now())
        .await
        .unwrap();
    let err = store
        .create_product(&product(dept.id, "Mật ong").build(), now())
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "producer_id");
    let err = store
        .create_product(&product(4242, "Mật ong").build(), now())
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "producer_id");
    // The issuer must be an authority, not another cooperative.
    let err = store
        .create_certification(&ocop(coop.id, coop.id, "9/2025").build(), now())
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "issuer_id");
    let err = store
        .create_lot(&lot(4242, "L1").build(), now())
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "product_id");
    assert!(
        store
            .list_products(&ListQuery::default(), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_certifications(&ListQuery::default(), None)
            .await
            .unwrap()
            .is_empty()
    );
}

fn bundle_with_products(gtins: &[&str]) -> RegistryBundle {
    let mut bundle = RegistryBundle {
        organizations: vec![
            ("coop".into(), cooperative("HTX Dược liệu").build()),
            ("council".into(), department("Hội đồng OCOP").build()),
        ],
        ..Default::default()
    };
    for (i, gtin) in gtins.iter().enumerate() {
        let key = format!("p{i}");
        bundle.products.push((
            key.clone(),
            "coop".into(),
            product(0, &format!("Sâm số {i}")).gtin(gtin).build(),
        ));
        bundle
            .lots
            .push((key.clone(), lot(0, &format!("L{i}")).build()));
        bundle.certifications.push(BundleCertification {
            holder: "coop".into(),
            product: Some(key),
            issuer: "council".into(),
            cert: ocop(0, 0, &format!("{i}/2025")).build(),
            verified_by: Some("demo".into()),
        });
    }
    bundle
}

async fn a_failed_import_leaves_nothing_behind(store: Arc<dyn Store>) {
    // The second product repeats the first one's GTIN: the whole import must roll back.
    let bundle = bundle_with_products(&["8934588012112", "8934588012112"]);
    let err = store
        .import_registry(&bundle, now(), None)
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "products[1].gtin");
    assert_eq!(store.count_organizations().await.unwrap(), 0);
    assert!(
        store
            .list_products(&ListQuery::default(), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_lots(&ListQuery::default(), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_certifications(&ListQuery::default(), None)
            .await
            .unwrap()
            .is_empty()
    );

    // A link to a key the bundle does not define is refused the same way.
    let mut bundle = bundle_with_products(&["8934588012112"]);
    bundle.lots[0].0 = "nowhere".into();
    let err = store
        .import_registry(&bundle, now(), None)
        .await
        .unwrap_err();
    assert_eq!(field_of(&err), "lots[0].product");
    assert_eq!(store.count_organizations().await.unwrap(), 0);
}

async fn an_import_stores_everything_with_its_links(store: Arc<dyn Store>) {
    let bundle = bundle_with_products(&["8934588012112", "96385074"]);
    let summary = store.import_registry(&bundle, now(), None).await.unwrap();
    assert_eq!(
        (summary.products, summary.lots, summary.certifications),
        (2, 2, 2)
    );
    let products = store
        .list_products(&ListQuery::default(), None)
        .await
        .unwrap();
    assert_eq!(products.len(), 2);
    for p in &products {
        assert_eq!(p.producer_name, "HTX Dược liệu");
        let certs = store
            .list_certifications(&ListQuery::default(), Some(p.id))
            .await
            .unwrap();
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0].status, CertStatus::Verified);
        assert_eq!(
            store
                .list_lots(&ListQuery::default(), Some(p.id))
                .await
                .unwrap()
                .len(),
            1
        );
    }
}

async fn documents_are_stored_once_by_their_sha256(store: Arc<dyn Store>) {
    let pdf = b"%PDF-1.7 certificate scan".to_vec();
    let sha = store
        .put_document(&pdf, "application/pdf", Some("ocop.pdf"), now())
        .await
        .unwrap();
    assert_eq!(
        sha,
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&pdf))
    );
    let again = store
        .put_document(&pdf, "application/pdf", None, now())
        .await
        .unwrap();
    assert_eq!(again, sha);
    let doc = store.document(&sha.to_uppercase()).await.unwrap().unwrap();
    assert_eq!(doc.content, pdf);
    assert_eq!(doc.file_name.as_deref(), Some("ocop.pdf"));
    assert!(store.document(&"0".repeat(64)).await.unwrap().is_none());
}

async fn a_migrated_store_is_ready(store: Arc<dyn Store>) {
    assert_eq!(store.readiness(now()).await, Ok(()));
    // Migrating again is harmless.
    store.migrate().await.unwrap();
    assert_eq!(store.readiness(now()).await, Ok(()));
}

async fn problem_reports_are_stored_as_typed_and_read_back_newest_first(store: Arc<dyn Store>) {
    let coop = store
        .create_organization(&cooperative("HTX Chè Cầu Đất").build(), now())
        .await
        .unwrap();
    let tea = store
        .create_product(&product(coop.id, "Chè Ô Long").build(), now())
        .await
        .unwrap();
    let about_tea = ReportInput {
        message: "Tem bị bong, số seri mờ: 'X' & <b>".into(),
        contact: Some("0909 000 111".into()),
    }
    .validate(None, None, Some(tea.id))
    .unwrap();
    let first = store.add_report(&about_tea, now()).await.unwrap();
    let unknown = ReportInput {
        message: "Mã QR lạ ở chợ".into(),
        contact: None,
    }
    .validate(None, None, None)
    .unwrap();
    let later = now() + chrono::Duration::minutes(5);
    let second = store.add_report(&unknown, later).await.unwrap();
    let all = store
        .list_reports(&ListQuery::default(), None)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![second, first]
    );
    assert_eq!(all[1].message, "Tem bị bong, số seri mờ: 'X' & <b>");
    assert_eq!(all[1].contact.as_deref(), Some("0909 000 111"));
    assert_eq!(all[1].product_id, Some(tea.id));
    assert_eq!(all[1].created_at, now());
    assert_eq!(all[0].created_at, later);
    let of_tea = store
        .list_reports(&ListQuery::default(), Some(tea.id))
        .await
        .unwrap();
    assert_eq!(of_tea.len(), 1);
    assert_eq!(of_tea[0].id, first);
}
