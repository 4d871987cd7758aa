//! The label lifecycle as a service: mint, list, activate, void, recall, and the verdict on
//! a scanned URI (`verdict`). It joins the pure label code (`labels`) with the records
//! (`store`); the CLI and the web call it.

mod verdict;

pub use verdict::{BatchRecords, MAX_HELD_RANGES, Verdict, VerdictKind, verdict_on, verify};

use chrono::{DateTime, Utc};

use crate::domain::batch::Profile;
use crate::domain::batch::{IndexRange, LabelBatch, LabelState, NewBatch, RangeChange};
use crate::domain::lot::Lot;
use crate::domain::product::Product;
use crate::domain::validation::Invalid;
use crate::labelcode::{Keyring, LabelBase, MintError, Minter, Serial};
use crate::store::{Store, StoreError};

/// The largest batch minted unless configured otherwise.
pub const DEFAULT_MAX_BATCH: u32 = 1_000_000;

fn refuse(field: &str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid(Invalid::field(field, message))
}

fn mint_refusal(e: MintError) -> StoreError {
    refuse("labels", e.to_string())
}

async fn product(store: &dyn Store, id: i64) -> Result<Product, StoreError> {
    store
        .product(id)
        .await?
        .ok_or_else(|| refuse("product", format!("there is no product {id}")))
}

async fn lot_of(store: &dyn Store, product: &Product, code: &str) -> Result<Lot, StoreError> {
    // A code no lot can have (a NUL, say) is not looked up.
    crate::domain::lot::check_lot_code(code.trim()).map_err(|e| refuse("lot", e))?;
    store
        .lot_by_code(product.id, code.trim())
        .await?
        .ok_or_else(|| {
            refuse(
                "lot",
                format!("product {} has no lot '{}'", product.id, code.trim()),
            )
        })
}

/// What to mint.
#[derive(Debug, Clone)]
pub struct MintRequest {
    pub product_id: i64,
    pub count: u32,
    /// Mint for this lot (printed in GS1 URIs) and activate at once.
    pub lot: Option<String>,
    pub profile: Profile,
}

/// Mints a batch: one row, whatever the count. Nothing is stored when the request is refused.
pub async fn mint(
    store: &dyn Store,
    keyring: &Keyring,
    request: &MintRequest,
    max_batch: u32,
    now: DateTime<Utc>,
) -> Result<LabelBatch, StoreError> {
    if request.count == 0 || request.count > max_batch {
        return Err(refuse(
            "count",
            format!(
                "must be from 1 to {max_batch} labels, not {}",
                request.count
            ),
        ));
    }
    let key = keyring.active().ok_or_else(|| {
        refuse(
            "key",
            "there is no active signing key: run `truyxuat keys new` (or `keys rotate`)",
        )
    })?;
    let product = product(store, request.product_id).await?;
    let lot = match &request.lot {
        Some(code) => {
            if product.data.gtin.is_none() {
                return Err(refuse(
                    "lot",
                    "a lot is printed only in GS1 labels, and this product has no GTIN: \
                     mint without --lot, then `truyxuat activate BATCH --lot CODE`",
                ));
            }
            Some(lot_of(store, &product, code).await?)
        }
        None => None,
    };
    store
        .create_batch(
            &NewBatch {
                product_id: product.id,
                lot_id: lot.as_ref().map(|l| l.id),
                kid: key.kid().to_owned(),
                key_slot: key.slot(),
                count: request.count,
                profile: request.profile,
            },
            now,
        )
        .await
}

/// A batch with what its labels print: the product and the lot in the URIs.
pub struct PrintableBatch {
    pub batch: LabelBatch,
    pub product: Product,
    pub lot: Option<Lot>,
}

/// Loads a batch for printing or listing.
pub async fn printable(store: &dyn Store, batch_id: i64) -> Result<PrintableBatch, StoreError> {
    let batch = store
        .batch(batch_id)
        .await?
        .ok_or_else(|| refuse("batch", format!("there is no batch {batch_id}")))?;
    let product = product(store, batch.product_id).await?;
    let lot = match batch.lot_id {
        Some(id) => store.lot(id).await?,
        None => None,
    };
    Ok(PrintableBatch {
        batch,
        product,
        lot,
    })
}

impl PrintableBatch {
    /// Calls `each(index, serial, uri)` for every label of `range`, in order, reusing one
    /// buffer. The batch's key must still be in the keyring (any status).
    pub fn for_each_uri<E: From<StoreError> + From<MintError>>(
        &self,
        keyring: &Keyring,
        base: &LabelBase,
        range: IndexRange,
        mut each: impl FnMut(u32, &Serial, &str) -> Result<(), E>,
    ) -> Result<(), E> {
        let range = range
            .within(self.batch.count)
            .map_err(|m| refuse("range", m))?;
        let key = keyring.by_kid(&self.batch.kid).ok_or_else(|| {
            refuse(
                "key",
                format!(
                    "key {} of this batch is not in the key folder",
                    self.batch.kid
                ),
            )
        })?;
        // Reprinting uses the batch's own key whatever its status now: the serials are
        // already decided by it.
        let mut minter = Minter::for_reprint(
            key,
            base.clone(),
            self.product.data.gtin.as_ref(),
            self.lot.as_ref().map(|l| l.data.code.as_str()),
            self.batch.profile,
        )
        .map_err(mint_refusal)?;
        let first = self.batch.first_number;
        minter.for_each_uri(first + range.first, range.len(), |number, serial, uri| {
            each(number - first, serial, uri)
        })
    }
}

impl From<MintError> for StoreError {
    fn from(e: MintError) -> Self {
        mint_refusal(e)
    }
}

/// Ties labels of a batch to a lot of its product: they are then on a product.
pub async fn activate(
    store: &dyn Store,
    batch_id: i64,
    lot_code: &str,
    range: Option<IndexRange>,
    now: DateTime<Utc>,
) -> Result<RangeChange, StoreError> {
    let printable = printable(store, batch_id).await?;
    let lot = lot_of(store, &printable.product, lot_code).await?;
    if let Some(printed) = &printable.lot {
        if printed.id != lot.id {
            return Err(refuse(
                "lot",
                format!(
                    "the labels of batch {batch_id} carry lot '{}' in their URI",
                    printed.data.code
                ),
            ));
        }
    }
    let change = RangeChange {
        range: range_of(&printable.batch, range)?,
        state: LabelState::Activated,
        lot_id: Some(lot.id),
    };
    store.change_labels(batch_id, &change, now).await?;
    Ok(change)
}

/// Voids labels of a batch (misprinted, lost, destroyed): a scan then says so.
pub async fn void(
    store: &dyn Store,
    batch_id: i64,
    range: Option<IndexRange>,
    now: DateTime<Utc>,
) -> Result<RangeChange, StoreError> {
    let batch = store
        .batch(batch_id)
        .await?
        .ok_or_else(|| refuse("batch", format!("there is no batch {batch_id}")))?;
    let change = RangeChange {
        range: range_of(&batch, range)?,
        state: LabelState::Void,
        lot_id: None,
    };
    store.change_labels(batch_id, &change, now).await?;
    Ok(change)
}

/// Recalls a lot of a product: every label tied to it then reads as recalled.
pub async fn recall(
    store: &dyn Store,
    product_id: i64,
    lot_code: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Lot, StoreError> {
    let mut v = crate::domain::validation::Validator::default();
    let reason = v.text("reason", reason, 500);
    v.finish().map_err(StoreError::Invalid)?;
    let product = product(store, product_id).await?;
    let lot = lot_of(store, &product, lot_code).await?;
    store.recall_lot(lot.id, &reason, now).await
}

fn range_of(batch: &LabelBatch, range: Option<IndexRange>) -> Result<IndexRange, StoreError> {
    range
        .unwrap_or_else(|| batch.all())
        .within(batch.count)
        .map_err(|m| refuse("range", m))
}
