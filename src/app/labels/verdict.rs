//! The verdict on a scanned URI: what the proof says, then what the records of its batch
//! say about the label.

use std::ops::Deref;

use serde::Serialize;

use crate::domain::batch::{LabelBatch, LabelState, RangeChange};
use crate::domain::lot::Lot;
use crate::domain::product::Product;
use crate::labelcode::{self, Keyring, Rejection, VerifiedLabel};
use crate::store::{Store, StoreError};

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

impl VerdictKind {
    /// The verdict as a sentence about the label: "the label's key has been revoked".
    pub fn sentence(self) -> &'static str {
        match self {
            Self::Genuine => "the label is genuine",
            Self::NotGenuine => "the label is not genuine",
            Self::NotActivated => "the label has not been activated",
            Self::Void => "the label has been voided",
            Self::Recalled => "the label's lot has been recalled",
            Self::UnknownKey => "the label names a key this service does not know",
            Self::RevokedKey => "the label's key has been revoked",
            Self::Malformed => "this is not a label URI",
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
    match labelcode::verify(uri, keyring) {
        Ok(label) => {
            verdict_on(store, label, async |batch| {
                BatchRecords::load(store, batch).await.map(Box::new)
            })
            .await
        }
        Err(rejection) => Ok(Verdict::rejected(rejection)),
    }
}

/// The verdict on a label whose proof held: its batch (if any holds it) and the batch's
/// records, which `records` gives (read afresh by `verify`, kept by the scan page's cache).
pub async fn verdict_on<R: Deref<Target = BatchRecords>>(
    store: &dyn Store,
    label: VerifiedLabel,
    records: impl AsyncFnOnce(LabelBatch) -> Result<R, StoreError>,
) -> Result<Verdict, StoreError> {
    let Some(batch) = store.batch_of_label(&label.kid, label.label_number).await? else {
        return Ok(not_genuine(
            label,
            "no batch holds this label: it was never issued",
        ));
    };
    records(batch).await?.verdict(store, label).await
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
        // The lot printed in the URI is the batch's, exactly: a label with its lot left out
        // (or one added) is not what was printed.
        if label.lot.as_ref() != self.printed_lot.as_ref().map(|l| &l.data.code) {
            return Ok(not_genuine(
                label,
                "the label's lot does not match its batch",
            ));
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
