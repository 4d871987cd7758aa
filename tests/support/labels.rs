//! Labels minted straight through the library for HTTP tests, with the keys `TestApp`
//! serves with.

#![allow(dead_code)]

use truyxuat::app::{self, labels::MintRequest};
use truyxuat::domain::batch::Profile;
use truyxuat::labelcode::{KeySeed, Keyring, LabelBase};
use truyxuat::store::StoreError;

use super::changes::Changes;
use super::fixtures::now;
use super::http::TestApp;

/// The keys `TestApp` serves with.
pub fn keys() -> Keyring {
    Keyring::single(KeySeed::from_bytes([7; 32]), now())
}

/// Mints `count` compact labels of a product (for its lot `lot`, activated at once: printed
/// in the label where the product has a GTIN, given on activation otherwise); returns their
/// paths, the part of each URI after the host.
pub async fn mint(app: &TestApp, product_id: i64, count: u32, lot: Option<&str>) -> Vec<String> {
    let store = &*app.db.store;
    let has_gtin = store
        .product(product_id)
        .await
        .unwrap()
        .is_some_and(|p| p.data.gtin.is_some());
    let request = MintRequest {
        product_id,
        count,
        lot: lot.filter(|_| has_gtin).map(str::to_owned),
        profile: Profile::Compact,
    };
    let batch = app
        .db
        .store
        .mint(&keys(), &request, count.max(1000), now())
        .await
        .unwrap();
    if let Some(lot) = lot.filter(|_| !has_gtin) {
        app.db
            .store
            .activate(batch.id, lot, None, now())
            .await
            .unwrap();
    }
    let printable = app::labels::printable(store, batch.id).await.unwrap();
    let base = LabelBase::parse("http://127.0.0.1:8080").unwrap();
    let mut paths = Vec::new();
    printable
        .for_each_uri(&keys(), &base, printable.batch.all(), |_, _, uri| {
            paths.push(uri["http://127.0.0.1:8080".len()..].to_owned());
            Ok::<_, StoreError>(())
        })
        .unwrap();
    paths
}
