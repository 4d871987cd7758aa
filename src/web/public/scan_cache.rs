//! What scans read, read once for many: the records of a label's batch (its product, lots
//! and range changes, which decide the verdict on every label of the batch) and a product's
//! producer and certificates.
//!
//! An entry serves only while this process has committed no change since it was loaded, so
//! a recall, a voided range or a revoked certificate made here shows on the very next page;
//! and only for `ttl`, which bounds how long a change made by another process (the CLI,
//! another instance on the same PostgreSQL) takes to show.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::app::{
    self,
    labels::{BatchRecords, Verdict},
};
use crate::domain::certification::Certification;
use crate::domain::organization::Organization;
use crate::labelcode::VerifiedLabel;
use crate::store::{ListQuery, Store, StoreError};

/// What a product's pages show about its producer and certificates.
pub struct ProductContext {
    pub producer: Option<Organization>,
    pub certs: Vec<Certification>,
}

pub struct ScanCache {
    batches: Entries<i64, BatchRecords>,
    products: Entries<i64, ProductContext>,
}

impl ScanCache {
    pub fn new(ttl: Duration) -> ScanCache {
        ScanCache {
            batches: Entries::new(ttl),
            products: Entries::new(ttl),
        }
    }

    /// The verdict on a label whose proof held.
    pub async fn verdict(
        &self,
        store: &dyn Store,
        label: VerifiedLabel,
        now: DateTime<Utc>,
    ) -> Result<Verdict, StoreError> {
        app::labels::verdict_on(store, label, async |batch| {
            self.batches
                .get_or_load(batch.id, store, now, async || {
                    BatchRecords::load(store, batch).await
                })
                .await
        })
        .await
    }

    /// The producer and certificates of product `product_id`, made by `producer_id`.
    pub async fn product(
        &self,
        store: &dyn Store,
        product_id: i64,
        producer_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Arc<ProductContext>, StoreError> {
        self.products
            .get_or_load(product_id, store, now, async || {
                Ok(ProductContext {
                    producer: store.organization(producer_id).await?,
                    certs: store
                        .list_certifications(&ListQuery::default(), Some(product_id))
                        .await?,
                })
            })
            .await
    }
}

/// Entries kept per map at most; past this the map starts afresh. An entry serves for `ttl`
/// (seconds), and a batch's records hold up to 256 ranges: this bounds the memory to tens of MB.
const MAX_ENTRIES: usize = 10_000;

struct Entries<K, V> {
    ttl: Duration,
    map: Mutex<HashMap<K, Entry<V>>>,
}

/// When an entry was asked for: the store's count of local changes and the time, both
/// read before the value was loaded.
type Asked = (u64, DateTime<Utc>);

struct Entry<V> {
    loaded: Asked,
    value: Arc<V>,
}

impl<K: Hash + Eq, V> Entries<K, V> {
    fn new(ttl: Duration) -> Self {
        Entries {
            ttl,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The entry for `key` while fresh at `now`, else what `load` reads from `store` (then
    /// kept).
    async fn get_or_load(
        &self,
        key: K,
        store: &dyn Store,
        now: DateTime<Utc>,
        load: impl AsyncFnOnce() -> Result<V, StoreError>,
    ) -> Result<Arc<V>, StoreError> {
        // Read before loading: a change committed meanwhile makes the entry stale at once.
        let asked = (store.local_changes(), now);
        if let Some(value) = self.fresh(&key, asked) {
            return Ok(value);
        }
        let value = Arc::new(load().await?);
        self.keep(key, asked, value.clone());
        Ok(value)
    }

    fn fresh(&self, key: &K, (changes, now): Asked) -> Option<Arc<V>> {
        let map = self.map.lock().ok()?;
        let entry = map.get(key)?;
        let (loaded_changes, loaded_at) = entry.loaded;
        // A clock set back makes the age negative: stale, as an entry of unknown age should be.
        let age = (now - loaded_at).to_std().unwrap_or(Duration::MAX);
        (loaded_changes == changes && age < self.ttl).then(|| entry.value.clone())
    }

    fn keep(&self, key: K, loaded: Asked, value: Arc<V>) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, Entry { loaded, value });
        }
    }
}
