//! Labels worth an inspector's look, among the products the inspector may read: lists, not
//! verdicts. A genuine code copied onto fakes shows as one label scanned far more often
//! than the rest of its batch; a recalled lot or a voided range still being sold, as scans
//! with those verdicts.

use std::collections::HashMap;

use super::{App, Caller, Error, organization_target_now};
use crate::domain::product::Product;
use crate::domain::scan::SuspiciousLabel;

/// A label is listed when scanned at least this often…
pub const OFTEN: i64 = 10;
/// …and this many times as often as the other scanned labels of its batch.
pub const RATIO: f64 = 5.0;
/// The longest each list gets (the store narrows it to the caller's reach first).
const READ: i64 = 500;

/// The two lists, each label with its product.
#[derive(Debug, Default)]
pub struct Suspicious {
    pub often_scanned: Vec<(SuspiciousLabel, Product)>,
    pub after_recall: Vec<(SuspiciousLabel, Product)>,
}

pub async fn labels(app: &App, caller: &Caller) -> Result<Suspicious, Error> {
    let mut products: HashMap<i64, Option<Product>> = HashMap::new();
    // Each product looked up (and its producer's reach asked) once.
    let mut readable =
        async |label: SuspiciousLabel| -> Result<Option<(SuspiciousLabel, Product)>, Error> {
            let id = label.product_id;
            let product = match products.get(&id) {
                Some(known) => known.clone(),
                None => {
                    let product = match app.store.product(id).await? {
                        Some(p) => {
                            let target = organization_target_now(app, p.data.producer_id).await?;
                            caller.actor.may("registry.read", &target).then_some(p)
                        }
                        None => None,
                    };
                    products.insert(id, product.clone());
                    product
                }
            };
            Ok(product.map(|p| (label, p)))
        };
    let mut found = Suspicious::default();
    let reach = caller.actor.reach("registry.read");
    for label in app
        .store
        .often_scanned_labels(&reach, OFTEN, RATIO, READ)
        .await?
    {
        found.often_scanned.extend(readable(label).await?);
    }
    for label in app.store.labels_scanned_after_recall(&reach, READ).await? {
        found.after_recall.extend(readable(label).await?);
    }
    Ok(found)
}
