//! A short-lived cache of what a product's pages show besides the label itself (producer
//! and certificates), so that a burst of scans of one product reads them once. Entries live
//! a few seconds: a certificate revoked by an inspector shows on the next page after that.
//! The label's own state (void, recalled, scans) is always read fresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::certification::Certification;
use crate::domain::organization::Organization;
use crate::store::{ListQuery, Store, StoreError};

/// What a product's page shows about its producer and certificates.
pub struct ProductContext {
    pub producer: Option<Organization>,
    pub certs: Vec<Certification>,
}

pub struct ProductCache {
    ttl: Duration,
    entries: Mutex<HashMap<i64, (Instant, Arc<ProductContext>)>>,
}

/// Products remembered at most; past this the cache starts afresh.
const MAX_ENTRIES: usize = 10_000;

impl ProductCache {
    pub fn new(ttl: Duration) -> ProductCache {
        ProductCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The context of product `product_id` (made by `producer_id`), from the cache while
    /// fresh, else from the store.
    pub async fn get(
        &self,
        store: &dyn Store,
        product_id: i64,
        producer_id: i64,
        now: Instant,
    ) -> Result<Arc<ProductContext>, StoreError> {
        if let Ok(entries) = self.entries.lock() {
            if let Some((at, context)) = entries.get(&product_id) {
                if now.duration_since(*at) < self.ttl {
                    return Ok(context.clone());
                }
            }
        }
        let context = Arc::new(ProductContext {
            producer: store.organization(producer_id).await?,
            certs: store
                .list_certifications(&ListQuery::default(), Some(product_id))
                .await?,
        });
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(product_id, (now, context.clone()));
        }
        Ok(context)
    }
}
