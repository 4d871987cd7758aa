//! The audit log on both databases: every change appends exactly one entry in its own
//! transaction, a change that fails leaves neither itself nor an entry, and entries are
//! numbered without gaps however many writers there are.

use std::sync::Arc;

use truyxuat::app::labels::MintRequest;
use truyxuat::domain::audit::{ActorRecord, leaf_hash};
use truyxuat::domain::batch::Profile;
use truyxuat::domain::bundle::BundleInput;
use truyxuat::domain::certification::CertStatus;
use truyxuat::labelcode::{KeySeed, Keyring};
use truyxuat::store::{ListQuery, Store};

use crate::on_both_databases;
use crate::support::changes::Changes;
use crate::support::fixtures::*;

on_both_databases!(
    every_change_appends_exactly_one_entry,
    entries_are_numbered_without_gaps_under_32_writers,
);

/// The failure test needs the database itself (to inject a fault), not only the store.
mod injected {
    use crate::support::db::TestDb;

    mod sqlite {
        #[tokio::test]
        async fn a_failed_change_leaves_neither_change_nor_entry() {
            let db = super::TestDb::sqlite().await;
            super::super::a_failed_change_leaves_neither_change_nor_entry(&db).await;
            db.finish().await;
        }
    }

    mod postgres {
        #[tokio::test]
        async fn a_failed_change_leaves_neither_change_nor_entry() {
            let db = super::TestDb::postgres().await;
            super::super::a_failed_change_leaves_neither_change_nor_entry(&db).await;
            db.finish().await;
        }
    }
}

/// All entries, checked: numbered 0, 1, 2…, each leaf hash that of its bytes, and the bytes
/// canonical (read and written again, the same).
async fn entries(store: &Arc<dyn Store>) -> Vec<truyxuat::domain::audit::AuditEntry> {
    let size = store.audit_size().await.unwrap();
    let stored = store.audit_entries(0, size + 1).await.unwrap();
    assert_eq!(stored.len() as i64, size);
    stored
        .iter()
        .enumerate()
        .map(|(i, e)| {
            assert_eq!(e.seq, i as i64, "entry numbers have a gap");
            assert_eq!(e.leaf_hash, leaf_hash(&e.bytes));
            let entry = e.entry().unwrap();
            assert_eq!(entry.canonical_bytes().unwrap(), e.bytes);
            entry
        })
        .collect()
}

/// Runs `change` and checks it appended exactly one entry, of `action` on `entity`.
async fn one_entry<T, E: std::fmt::Debug>(
    store: &Arc<dyn Store>,
    action: &str,
    change: impl std::future::Future<Output = Result<T, E>>,
) -> T {
    let before = store.audit_size().await.unwrap();
    let value = change.await.unwrap_or_else(|e| panic!("{action}: {e:?}"));
    let all = entries(store).await;
    assert_eq!(all.len() as i64, before + 1, "{action}: one entry");
    let entry = all.last().unwrap();
    assert_eq!(entry.action, action);
    assert!(matches!(entry.actor, ActorRecord::Cli { .. }), "{entry:?}");
    assert_eq!(entry.at, "2026-11-23T08:00:00.000000Z");
    value
}

async fn every_change_appends_exactly_one_entry(store: Arc<dyn Store>) {
    let s = &store;
    let coop = one_entry(
        s,
        "organization.create",
        s.create_organization(&cooperative("HTX A").build(), now()),
    )
    .await;
    let dept = one_entry(
        s,
        "organization.create",
        s.create_organization(&department("Sở A").build(), now()),
    )
    .await;
    one_entry(
        s,
        "organization.update",
        s.update_organization(coop.id, &cooperative("HTX A mới").build(), now()),
    )
    .await;
    let tea = one_entry(
        s,
        "product.create",
        s.create_product(
            &product(coop.id, "Chè").gtin("8934588012112").build(),
            now(),
        ),
    )
    .await;
    one_entry(
        s,
        "product.update",
        s.update_product(
            tea.id,
            &product(coop.id, "Chè xanh").gtin("8934588012112").build(),
            now(),
        ),
    )
    .await;
    let pdf = b"%PDF-1.7 evidence".to_vec();
    let sha = one_entry(
        s,
        "document.store",
        s.put_document(&pdf, "application/pdf", None, now()),
    )
    .await;
    let mut cert = ocop(coop.id, dept.id, "1/QĐ").product(tea.id).build();
    cert.evidence_sha256 = Some(sha);
    let cert = one_entry(
        s,
        "certification.create",
        s.create_certification(&cert, now()),
    )
    .await;
    one_entry(
        s,
        "certification.update",
        s.update_certification(cert.id, &ocop(coop.id, dept.id, "1/QĐ").build(), now()),
    )
    .await;
    one_entry(
        s,
        "certification.status",
        s.set_certification_status(cert.id, CertStatus::Verified, "thanh.tra", now()),
    )
    .await;
    let lot = one_entry(
        s,
        "lot.create",
        s.create_lot(&lot(tea.id, "L-01").build(), now()),
    )
    .await;
    one_entry(
        s,
        "lot.update",
        s.update_lot(
            lot.id,
            &crate::support::fixtures::lot(tea.id, "L-02").build(),
            now(),
        ),
    )
    .await;
    let keys = Keyring::single(KeySeed::from_bytes([3; 32]), now());
    let request = |lot: Option<&str>| MintRequest {
        product_id: tea.id,
        count: 10,
        lot: lot.map(str::to_owned),
        profile: Profile::Compact,
    };
    let batch = one_entry(s, "labels.mint", s.mint(&keys, &request(None), 100, now())).await;
    one_entry(
        s,
        "labels.activate",
        s.activate(batch.id, "L-02", Some("0..5".parse().unwrap()), now()),
    )
    .await;
    one_entry(
        s,
        "labels.void",
        s.void(batch.id, Some("5..6".parse().unwrap()), now()),
    )
    .await;
    one_entry(
        s,
        "lot.recall",
        s.recall(tea.id, "L-02", "Nhiễm khuẩn", now()),
    )
    .await;
    let bundle: BundleInput = serde_json::from_value(serde_json::json!({
        "organizations": [{"key": "b", "kind": "cooperative", "name": "HTX B", "province": "Lâm Đồng"}],
        "products": [{"key": "p", "producer": "b", "name": "Gạo", "category": "Gạo", "unit": "túi"}],
    }))
    .unwrap();
    one_entry(
        s,
        "registry.import",
        s.import_registry(&bundle.validate().unwrap(), now(), None),
    )
    .await;

    // Entries record the entity and, for an update, both states.
    let all = entries(s).await;
    let update = all.iter().find(|e| e.action == "product.update").unwrap();
    assert_eq!(update.entity.kind, "product");
    assert_eq!(update.entity.id, serde_json::json!(tea.id));
    assert_eq!(update.before.as_ref().unwrap()["name"], "Chè");
    assert_eq!(update.after.as_ref().unwrap()["name"], "Chè xanh");
    let import = all.last().unwrap();
    assert_eq!(import.after.as_ref().unwrap()["summary"]["products"], 1);
}

async fn a_failed_change_leaves_neither_change_nor_entry(db: &crate::support::db::TestDb) {
    let s = &db.store;
    let coop = s
        .create_organization(&cooperative("HTX A").build(), now())
        .await
        .unwrap();
    let tea = s
        .create_product(
            &product(coop.id, "Chè").gtin("8934588012112").build(),
            now(),
        )
        .await
        .unwrap();
    let size = s.audit_size().await.unwrap();
    // A constraint: a second product with the same GTIN.
    assert!(
        s.create_product(
            &product(coop.id, "Chè 2").gtin("8934588012112").build(),
            now()
        )
        .await
        .is_err()
    );
    // A refused rule: a product of an organization that is not a producer.
    let dept = s
        .create_organization(&department("Sở A").build(), now())
        .await
        .unwrap();
    let size = size + 1;
    assert!(
        s.create_product(&product(dept.id, "Chè 3").build(), now())
            .await
            .is_err()
    );
    // A failure after the change, before the commit: the entry cannot be written.
    refuse_audit_entries_of(db, "product.update").await;
    let renamed = product(coop.id, "Chè mới").gtin("8934588012112").build();
    assert!(s.update_product(tea.id, &renamed, now()).await.is_err());
    assert_eq!(s.product(tea.id).await.unwrap().unwrap().data.name, "Chè");
    let products = s.list_products(&ListQuery::default(), None).await.unwrap();
    assert_eq!(products.len(), 1);
    assert_eq!(s.audit_size().await.unwrap(), size);
    assert_eq!(entries(s).await.len() as i64, size);
    // Other changes go on.
    s.create_product(&product(coop.id, "Gạo").build(), now())
        .await
        .unwrap();
    assert_eq!(s.audit_size().await.unwrap(), size + 1);
}

/// A trigger in the database that refuses audit entries of `action`: a fault injected
/// between a change and its commit.
async fn refuse_audit_entries_of(db: &crate::support::db::TestDb, action: &str) {
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query(&format!(
            "CREATE TRIGGER refuse_entry BEFORE INSERT ON audit_entries \
             WHEN NEW.action = '{action}' BEGIN SELECT RAISE(ABORT, 'injected'); END"
        ))
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query(&format!(
            "CREATE FUNCTION refuse_entry() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN IF NEW.action = '{action}' THEN RAISE EXCEPTION 'injected'; END IF; \
             RETURN NEW; END; $$"
        ))
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query(
            "CREATE TRIGGER refuse_entry BEFORE INSERT ON audit_entries \
             FOR EACH ROW EXECUTE FUNCTION refuse_entry()",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
}

async fn entries_are_numbered_without_gaps_under_32_writers(store: Arc<dyn Store>) {
    let mut writers = Vec::new();
    for w in 0..32 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..4 {
                store
                    .create_organization(&cooperative(&format!("HTX {w}-{i}")).build(), now())
                    .await
                    .unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    // 128 entries numbered 0 to 127 (checked by `entries`), one for each organization.
    let all = entries(&store).await;
    assert_eq!(all.len(), 128);
    let mut ids: Vec<i64> = all.iter().map(|e| e.entity.id.as_i64().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 128);
}
