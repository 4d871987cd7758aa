//! The label lifecycle on both databases: mint, list, activate, void, recall, rotate,
//! revoke, and the verdict a scan gets.

use std::sync::Arc;

use chrono::Duration;
use truyxuat::app::{
    self,
    labels::{MintRequest, VerdictKind},
};
use truyxuat::domain::batch::IndexRange;
use truyxuat::domain::batch::Profile;
use truyxuat::domain::scan::NewScan;
use truyxuat::labelcode::{KeySeed, Keyring, LabelBase};
use truyxuat::store::{Store, StoreError};

use crate::on_both_databases;
use crate::support::changes::Changes;
use crate::support::fixtures::*;

on_both_databases!(
    minted_labels_verify_once_activated,
    batches_take_disjoint_ranges_of_the_key,
    void_and_recall_give_their_own_verdicts,
    rotation_keeps_old_labels_valid_and_revocation_has_its_verdict,
    forged_and_swapped_labels_are_not_genuine,
    bad_requests_change_nothing,
    a_group_of_scans_counts_each_label_in_order,
    a_batch_changed_label_by_label_still_gets_each_verdict,
);

fn keyring() -> Keyring {
    Keyring::single(KeySeed::from_bytes([42; 32]), now())
}

fn base() -> LabelBase {
    LabelBase::parse("https://truyxuat.lamdong.gov.vn").unwrap()
}

/// A producer with a GTIN product (lot L-01) and a product without GTIN; their ids.
async fn registry(store: &Arc<dyn Store>) -> (i64, i64) {
    let coop = store
        .create_organization(&cooperative("HTX Chè Cầu Đất").build(), now())
        .await
        .unwrap();
    let tea = store
        .create_product(
            &product(coop.id, "Chè Ô Long").gtin("8934588012112").build(),
            now(),
        )
        .await
        .unwrap();
    let jam = store
        .create_product(&product(coop.id, "Mứt dâu").build(), now())
        .await
        .unwrap();
    store
        .create_lot(&lot(tea.id, "L-01").build(), now())
        .await
        .unwrap();
    store
        .create_lot(&lot(jam.id, "M-01").build(), now())
        .await
        .unwrap();
    (tea.id, jam.id)
}

async fn mint(
    store: &Arc<dyn Store>,
    keys: &Keyring,
    product_id: i64,
    count: u32,
    lot: Option<&str>,
    profile: Profile,
) -> Vec<String> {
    let request = MintRequest {
        product_id,
        count,
        lot: lot.map(str::to_owned),
        profile,
    };
    let batch = store.mint(keys, &request, 1_000_000, now()).await.unwrap();
    uris(&**store, keys, batch.id).await
}

async fn uris(store: &dyn Store, keys: &Keyring, batch: i64) -> Vec<String> {
    let printable = app::labels::printable(store, batch).await.unwrap();
    let mut out = Vec::new();
    printable
        .for_each_uri(keys, &base(), printable.batch.all(), |_, _, uri| {
            out.push(uri.to_owned());
            Ok::<_, StoreError>(())
        })
        .unwrap();
    out
}

async fn verdict(store: &dyn Store, keys: &Keyring, uri: &str) -> VerdictKind {
    app::labels::verify(store, keys, uri).await.unwrap().verdict
}

async fn minted_labels_verify_once_activated(store: Arc<dyn Store>) {
    let keys = keyring();
    let (tea, jam) = registry(&store).await;
    for profile in [Profile::Compact, Profile::Offline] {
        // With --lot the labels carry the lot and are activated at once.
        let with_lot = mint(&store, &keys, tea, 5, Some("L-01"), profile).await;
        assert!(
            with_lot[0].contains("/01/08934588012112/10/L-01/21/"),
            "{}",
            with_lot[0]
        );
        for uri in &with_lot {
            let v = app::labels::verify(&*store, &keys, uri).await.unwrap();
            assert_eq!(v.verdict, VerdictKind::Genuine, "{uri}");
            assert_eq!(v.product.unwrap().data.name, "Chè Ô Long");
            assert_eq!(v.lot.unwrap().data.code, "L-01");
        }
        // Without a lot they wait for activation; the short form serves a product
        // without GTIN and is accepted in any case.
        let short = mint(&store, &keys, jam, 4, None, profile).await;
        assert!(short[0].starts_with("HTTPS://TRUYXUAT.LAMDONG.GOV.VN/T/"));
        assert_eq!(
            verdict(&*store, &keys, &short[0]).await,
            VerdictKind::NotActivated
        );
        let batch = app::labels::verify(&*store, &keys, &short[0])
            .await
            .unwrap()
            .batch_id
            .unwrap();
        store
            .activate(batch, "M-01", Some("0..2".parse().unwrap()), now())
            .await
            .unwrap();
        let lower = if profile == Profile::Compact {
            short[1].to_lowercase()
        } else {
            short[1].clone()
        };
        assert_eq!(verdict(&*store, &keys, &lower).await, VerdictKind::Genuine);
        assert_eq!(
            verdict(&*store, &keys, &short[2]).await,
            VerdictKind::NotActivated
        );
    }
}

async fn batches_take_disjoint_ranges_of_the_key(store: Arc<dyn Store>) {
    let keys = keyring();
    let (tea, _) = registry(&store).await;
    let a = mint(&store, &keys, tea, 1000, None, Profile::Compact).await;
    let b = mint(&store, &keys, tea, 1000, None, Profile::Compact).await;
    let mut all: Vec<_> = a.iter().chain(&b).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 2000);
    let va = app::labels::verify(&*store, &keys, &a[999]).await.unwrap();
    let vb = app::labels::verify(&*store, &keys, &b[0]).await.unwrap();
    assert_eq!(va.index, Some(999));
    assert_eq!(vb.index, Some(0));
    assert_ne!(va.batch_id, vb.batch_id);
    // Listing a range gives exactly those labels.
    let printable = app::labels::printable(&*store, vb.batch_id.unwrap())
        .await
        .unwrap();
    let mut some = Vec::new();
    printable
        .for_each_uri(
            &keys,
            &base(),
            IndexRange { first: 10, end: 13 },
            |i, _, uri| {
                some.push((i, uri.to_owned()));
                Ok::<_, StoreError>(())
            },
        )
        .unwrap();
    assert_eq!(
        some,
        vec![
            (10, b[10].clone()),
            (11, b[11].clone()),
            (12, b[12].clone())
        ]
    );
}

async fn void_and_recall_give_their_own_verdicts(store: Arc<dyn Store>) {
    let keys = keyring();
    let (tea, _) = registry(&store).await;
    let labels = mint(&store, &keys, tea, 10, Some("L-01"), Profile::Compact).await;
    let batch = app::labels::verify(&*store, &keys, &labels[0])
        .await
        .unwrap()
        .batch_id
        .unwrap();
    store
        .void(batch, Some("3..5".parse().unwrap()), now())
        .await
        .unwrap();
    assert_eq!(
        verdict(&*store, &keys, &labels[2]).await,
        VerdictKind::Genuine
    );
    assert_eq!(verdict(&*store, &keys, &labels[3]).await, VerdictKind::Void);
    assert_eq!(verdict(&*store, &keys, &labels[4]).await, VerdictKind::Void);
    assert_eq!(
        verdict(&*store, &keys, &labels[5]).await,
        VerdictKind::Genuine
    );

    let lot = store
        .recall(tea, "L-01", "nhiễm nấm mốc", now())
        .await
        .unwrap();
    assert_eq!(lot.recall_reason.as_deref(), Some("nhiễm nấm mốc"));
    assert_eq!(
        verdict(&*store, &keys, &labels[0]).await,
        VerdictKind::Recalled
    );
    // A voided label stays void: it was never on a product of the lot.
    assert_eq!(verdict(&*store, &keys, &labels[3]).await, VerdictKind::Void);
}

async fn rotation_keeps_old_labels_valid_and_revocation_has_its_verdict(store: Arc<dyn Store>) {
    let mut keys = keyring();
    let (tea, _) = registry(&store).await;
    let old = mint(&store, &keys, tea, 3, Some("L-01"), Profile::Offline).await;
    let old_kid = keys.active().unwrap().kid().to_owned();
    keys.rotate(KeySeed::from_bytes([43; 32]), now()).unwrap();
    let new_kid = keys.active().unwrap().kid().to_owned();
    assert_ne!(old_kid, new_kid);
    let new = mint(&store, &keys, tea, 3, Some("L-01"), Profile::Offline).await;
    let v_old = app::labels::verify(&*store, &keys, &old[0]).await.unwrap();
    let v_new = app::labels::verify(&*store, &keys, &new[0]).await.unwrap();
    assert_eq!(v_old.verdict, VerdictKind::Genuine);
    assert_eq!(v_old.kid.as_deref(), Some(old_kid.as_str()));
    assert_eq!(v_new.kid.as_deref(), Some(new_kid.as_str()));
    // Old batches can still be printed again with their own (retired) key.
    assert_eq!(uris(&*store, &keys, v_old.batch_id.unwrap()).await, old);

    keys.revoke(&old_kid, now()).unwrap();
    let revoked = app::labels::verify(&*store, &keys, &old[0]).await.unwrap();
    assert_eq!(revoked.verdict, VerdictKind::RevokedKey);
    assert_eq!(revoked.kid.as_deref(), Some(old_kid.as_str()));
    assert_eq!(verdict(&*store, &keys, &new[0]).await, VerdictKind::Genuine);

    // A serial naming a slot no key uses (the new key is in slot 1) gets its own verdict.
    assert!(new[0].contains("/21/1"), "{}", new[0]);
    let unknown_slot = new[0].replace("/21/1", "/21/9");
    assert_eq!(
        verdict(&*store, &keys, &unknown_slot).await,
        VerdictKind::UnknownKey,
        "{unknown_slot}"
    );
}

async fn forged_and_swapped_labels_are_not_genuine(store: Arc<dyn Store>) {
    let keys = keyring();
    let (tea, jam) = registry(&store).await;
    let tea_labels = mint(&store, &keys, tea, 2, Some("L-01"), Profile::Compact).await;
    let jam_labels = mint(&store, &keys, jam, 2, None, Profile::Compact).await;
    let jam_serial = jam_labels[0].rsplit('/').next().unwrap();
    // A real serial moved onto another product's URI.
    let moved =
        format!("https://truyxuat.lamdong.gov.vn/01/08934588012112/10/L-01/21/{jam_serial}");
    assert_eq!(
        verdict(&*store, &keys, &moved).await,
        VerdictKind::NotGenuine
    );
    // The lot in the URI must be the batch's.
    let other_lot = tea_labels[0].replace("/10/L-01/", "/10/L-02/");
    assert_eq!(
        verdict(&*store, &keys, &other_lot).await,
        VerdictKind::NotGenuine
    );
    // A guessed serial.
    let guessed =
        "https://truyxuat.lamdong.gov.vn/01/08934588012112/10/L-01/21/0ABCDEFGHJKMNPQRSTVW";
    assert_eq!(
        verdict(&*store, &keys, guessed).await,
        VerdictKind::NotGenuine
    );
    assert_eq!(
        verdict(&*store, &keys, "https://example.com/nothing").await,
        VerdictKind::Malformed
    );
}

async fn bad_requests_change_nothing(store: Arc<dyn Store>) {
    let keys = keyring();
    let (tea, jam) = registry(&store).await;
    let refuse = |count, product_id, lot: Option<&str>| MintRequest {
        product_id,
        count,
        lot: lot.map(str::to_owned),
        profile: Profile::Compact,
    };
    for (request, field) in [
        (refuse(0, tea, None), "count"),
        (refuse(1_000_001, tea, None), "count"),
        (refuse(5, 9999, None), "product"),
        (refuse(5, tea, Some("NO-SUCH-LOT")), "lot"),
        (refuse(5, jam, Some("M-01")), "lot"),
    ] {
        match store.mint(&keys, &request, 1_000_000, now()).await {
            Err(app::Error::Invalid(i)) => assert_eq!(i.errors[0].field, field),
            other => panic!("{request:?}: {other:?}"),
        }
    }
    assert!(store.list_batches(None).await.unwrap().is_empty());
    let labels = mint(&store, &keys, tea, 5, None, Profile::Compact).await;
    let batch = app::labels::verify(&*store, &keys, &labels[0])
        .await
        .unwrap()
        .batch_id
        .unwrap();
    assert!(
        store
            .void(batch, Some("4..6".parse().unwrap()), now())
            .await
            .is_err()
    );
    assert!(store.activate(batch, "L-02", None, now()).await.is_err());
    assert_eq!(
        verdict(&*store, &keys, &labels[4]).await,
        VerdictKind::NotActivated
    );
    // No key, no minting.
    let none = Keyring::new();
    assert!(
        store
            .mint(&none, &refuse(5, tea, None), 10, now())
            .await
            .is_err()
    );
    assert_eq!(store.list_batches(None).await.unwrap().len(), 1);
}

/// One group commit holding several scans of one label and one of another: each scan gets
/// its own running count, and every scan is a row.
async fn a_group_of_scans_counts_each_label_in_order(store: Arc<dyn Store>) {
    let keys = keyring();
    let (tea, _) = registry(&store).await;
    let labels = mint(&store, &keys, tea, 3, Some("L-01"), Profile::Compact).await;
    let batch = app::labels::verify(&*store, &keys, &labels[0])
        .await
        .unwrap()
        .batch_id
        .unwrap();
    let scan = |index: u32, minutes: i64| NewScan {
        batch_id: batch,
        label_index: index,
        verdict: "genuine",
        client: "android",
        scanned_at: now() + Duration::minutes(minutes),
    };
    let first = store.record_scans(&[scan(0, 0)]).await.unwrap();
    assert_eq!(first[0].count, 1);
    assert_eq!(first[0].first_at, Some(now()));
    let group = store
        .record_scans(&[scan(0, 1), scan(2, 1), scan(0, 2), scan(0, 3)])
        .await
        .unwrap();
    let counts: Vec<i64> = group.iter().map(|s| s.count).collect();
    assert_eq!(counts, [2, 1, 3, 4]);
    assert_eq!(group[0].first_at, Some(now()));
    assert_eq!(group[1].first_at, Some(now() + Duration::minutes(1)));
    assert_eq!(store.count_scans().await.unwrap(), 5);
    assert_eq!(store.label_scans(batch, 0).await.unwrap().count, 4);
    assert_eq!(store.label_scans(batch, 1).await.unwrap().count, 0);
    // A group naming a batch that does not exist stores none of its scans.
    let mut stray = scan(1, 4);
    stray.batch_id = batch + 1000;
    assert!(store.record_scans(&[scan(1, 4), stray]).await.is_err());
    assert_eq!(store.count_scans().await.unwrap(), 5);
    assert_eq!(store.label_scans(batch, 1).await.unwrap().count, 0);
}

/// Past the range changes a batch's records hold, each label's change is read alone: the
/// verdicts are the same either way.
async fn a_batch_changed_label_by_label_still_gets_each_verdict(store: Arc<dyn Store>) {
    let keys = keyring();
    let (tea, _) = registry(&store).await;
    let count = app::labels::MAX_HELD_RANGES as u32 + 10;
    let labels = mint(&store, &keys, tea, count, None, Profile::Compact).await;
    let batch = app::labels::verify(&*store, &keys, &labels[0])
        .await
        .unwrap()
        .batch_id
        .unwrap();
    let single = |i: u32| {
        Some(IndexRange {
            first: i,
            end: i + 1,
        })
    };
    for changes in [3, app::labels::MAX_HELD_RANGES as u32 + 1] {
        for i in 0..changes {
            store
                .activate(batch, "L-01", single(i), now())
                .await
                .unwrap();
        }
        store.void(batch, single(1), now()).await.unwrap();
        let genuine = app::labels::verify(&*store, &keys, &labels[0])
            .await
            .unwrap();
        assert_eq!(genuine.verdict, VerdictKind::Genuine, "{changes} changes");
        assert_eq!(genuine.lot.unwrap().data.code, "L-01");
        assert_eq!(verdict(&*store, &keys, &labels[1]).await, VerdictKind::Void);
        assert_eq!(
            verdict(&*store, &keys, &labels[count as usize - 1]).await,
            VerdictKind::NotActivated
        );
    }
}
