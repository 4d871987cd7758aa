//! The label lifecycle as a service: mint, list, activate, void, recall, and the verdict on
//! a scanned URI. It joins the pure label code (`labels`) with the records (`store`); the
//! CLI and the web call it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::batch::{IndexRange, LabelBatch, LabelState, NewBatch, RangeChange};
use crate::domain::lot::Lot;
use crate::domain::product::Product;
use crate::domain::validation::Invalid;
use crate::labels::{
    self, Keyring, LabelBase, MintError, Minter, Profile, Rejection, Serial, VerifiedLabel,
};
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
    if reason.trim().is_empty() {
        return Err(refuse("reason", "say why the lot is recalled"));
    }
    let product = product(store, product_id).await?;
    let lot = lot_of(store, &product, lot_code).await?;
    store.recall_lot(lot.id, reason.trim(), now).await
}

fn range_of(batch: &LabelBatch, range: Option<IndexRange>) -> Result<IndexRange, StoreError> {
    range
        .unwrap_or_else(|| batch.all())
        .within(batch.count)
        .map_err(|m| refuse("range", m))
}

/// What a scan of a URI finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    Genuine,
    NotGenuine,
    NotActivated,
    Void,
    Recalled,
    UnknownKey,
    RevokedKey,
    /// Not a label URI at all.
    Malformed,
}

impl VerdictKind {
    /// The verdict as stored and counted: `not_genuine`, as it serializes.
    pub fn code(self) -> &'static str {
        match self {
            Self::Genuine => "genuine",
            Self::NotGenuine => "not_genuine",
            Self::NotActivated => "not_activated",
            Self::Void => "void",
            Self::Recalled => "recalled",
            Self::UnknownKey => "unknown_key",
            Self::RevokedKey => "revoked_key",
            Self::Malformed => "malformed",
        }
    }

    /// The verdict in words: `not genuine`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Genuine => "genuine",
            Self::NotGenuine => "not genuine",
            Self::NotActivated => "not activated",
            Self::Void => "void",
            Self::Recalled => "recalled",
            Self::UnknownKey => "unknown key",
            Self::RevokedKey => "revoked key",
            Self::Malformed => "malformed",
        }
    }
}

/// The verdict on one URI, with what is known of the label.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub verdict: VerdictKind,
    /// Why, in a sentence.
    pub reason: String,
    pub kid: Option<String>,
    pub serial: Option<String>,
    pub batch_id: Option<i64>,
    /// The label's index in its batch.
    pub index: Option<u32>,
    pub product: Option<Product>,
    pub lot: Option<Lot>,
}

impl Verdict {
    /// The verdict on a URI whose proof failed: no record was read.
    pub fn rejected(rejection: Rejection) -> Verdict {
        let kind = match &rejection {
            Rejection::Malformed(_) => VerdictKind::Malformed,
            Rejection::NotGenuine(_) | Rejection::Unsigned => VerdictKind::NotGenuine,
            Rejection::UnknownKey { .. } => VerdictKind::UnknownKey,
            Rejection::RevokedKey { .. } => VerdictKind::RevokedKey,
        };
        let mut verdict = Verdict::bare(kind, rejection.to_string());
        if let Rejection::RevokedKey { kid } = rejection {
            verdict.kid = Some(kid);
        }
        verdict
    }

    fn bare(verdict: VerdictKind, reason: impl Into<String>) -> Verdict {
        Verdict {
            verdict,
            reason: reason.into(),
            kid: None,
            serial: None,
            batch_id: None,
            index: None,
            product: None,
            lot: None,
        }
    }

    pub fn is_genuine(&self) -> bool {
        self.verdict == VerdictKind::Genuine
    }
}

/// Verifies a scanned URI: the proof first (a forged code costs no database read), then
/// the batch, product and lot it belongs to, then the label's state.
pub async fn verify(
    store: &dyn Store,
    keyring: &Keyring,
    uri: &str,
) -> Result<Verdict, StoreError> {
    match labels::verify(uri, keyring) {
        Ok(label) => verdict_on(store, label).await,
        Err(rejection) => Ok(Verdict::rejected(rejection)),
    }
}

/// The verdict on a label whose proof held: the records decide the rest.
pub async fn verdict_on(store: &dyn Store, label: VerifiedLabel) -> Result<Verdict, StoreError> {
    let Some(batch) = store.batch_of_label(&label.kid, label.label_number).await? else {
        return Ok(never_issued(label));
    };
    BatchRecords::load(store, batch)
        .await?
        .verdict(store, label)
        .await
}

/// A label under a known key that no batch holds.
pub fn never_issued(label: VerifiedLabel) -> Verdict {
    not_genuine(label, "no batch holds this label: it was never issued")
}

fn not_genuine(label: VerifiedLabel, reason: &str) -> Verdict {
    let mut v = Verdict::bare(VerdictKind::NotGenuine, reason);
    v.kid = Some(label.kid);
    v.serial = Some(label.serial.as_str().to_owned());
    v
}

/// Range changes held per batch at most; the labels of a batch changed more often than this
/// are looked up one by one.
pub const MAX_HELD_RANGES: usize = 256;

/// What the records say about one batch: all that a verdict on any of its labels needs, so
/// that a cache can hold it for every label of the batch.
#[derive(Debug, Clone)]
pub struct BatchRecords {
    pub batch: LabelBatch,
    product: Option<Product>,
    printed_lot: Option<Lot>,
    /// The batch's range changes, oldest first; None when too many to hold.
    ranges: Option<Vec<RangeChange>>,
    /// The lots that range changes moved labels to.
    moved_to: Vec<Lot>,
}

impl BatchRecords {
    pub async fn load(store: &dyn Store, batch: LabelBatch) -> Result<BatchRecords, StoreError> {
        let product = store.product(batch.product_id).await?;
        let printed_lot = match batch.lot_id {
            Some(id) => store.lot(id).await?,
            None => None,
        };
        let ranges = store.label_changes(batch.id, MAX_HELD_RANGES + 1).await?;
        let ranges = (ranges.len() <= MAX_HELD_RANGES).then_some(ranges);
        let mut moved_to: Vec<Lot> = Vec::new();
        for id in ranges.iter().flatten().filter_map(|c| c.lot_id) {
            if Some(id) != batch.lot_id && !moved_to.iter().any(|l| l.id == id) {
                moved_to.extend(store.lot(id).await?);
            }
        }
        Ok(BatchRecords {
            batch,
            product,
            printed_lot,
            ranges,
            moved_to,
        })
    }

    /// The verdict on a label of this batch whose proof held.
    pub async fn verdict(
        &self,
        store: &dyn Store,
        label: VerifiedLabel,
    ) -> Result<Verdict, StoreError> {
        let batch = &self.batch;
        let index = batch.index_of(label.label_number).unwrap_or_default();
        if batch.profile != label.profile {
            return Ok(not_genuine(
                label,
                "the label's form does not match its batch",
            ));
        }
        let Some(product) = &self.product else {
            return Ok(not_genuine(label, "the label's product no longer exists"));
        };
        if label.gtin != product.data.gtin {
            return Ok(not_genuine(label, "the label belongs to another product"));
        }
        if let Some(uri_lot) = &label.lot {
            if self.printed_lot.as_ref().map(|l| &l.data.code) != Some(uri_lot) {
                return Ok(not_genuine(
                    label,
                    "the label's lot does not match its batch",
                ));
            }
        }
        let change = match &self.ranges {
            // The newest change covering the label decides.
            Some(ranges) => ranges
                .iter()
                .rev()
                .find(|c| c.range.contains(index))
                .cloned(),
            None => store.label_change(batch.id, index).await?,
        };
        let state = change.as_ref().map_or(batch.state, |c| c.state);
        let lot_id = change.as_ref().and_then(|c| c.lot_id).or(batch.lot_id);
        let lot = match lot_id {
            Some(id) if Some(id) == batch.lot_id => self.printed_lot.clone(),
            Some(id) => match self.moved_to.iter().find(|l| l.id == id) {
                Some(lot) => Some(lot.clone()),
                None => store.lot(id).await?,
            },
            None => None,
        };
        let (verdict, reason) = match state {
            LabelState::Void => (VerdictKind::Void, "this label was voided by its producer"),
            _ if lot.as_ref().is_some_and(|l| l.recalled_at.is_some()) => (
                VerdictKind::Recalled,
                "the lot of this product has been recalled",
            ),
            LabelState::Minted => (
                VerdictKind::NotActivated,
                "this label was printed but not yet put on a product",
            ),
            _ => (VerdictKind::Genuine, "this label was issued by truyxuat"),
        };
        Ok(Verdict {
            verdict,
            reason: reason.to_owned(),
            kid: Some(label.kid),
            serial: Some(label.serial.as_str().to_owned()),
            batch_id: Some(batch.id),
            index: Some(index),
            product: Some(product.clone()),
            lot,
        })
    }
}
