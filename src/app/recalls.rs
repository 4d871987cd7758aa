//! Recalls as a service: open one over lots (each lot's producer's people or inspectors may),
//! close it when the lots are off the shelves (inspectors and operators only: a producer does
//! not lift a recall). Each is one change with one audit entry, on the recall, holding the
//! recall and every lot it moved before and after: `audit verify` checks those lots against
//! it, and a lot's history reads the entries of the recalls that cover it.

use super::{App, Caller, Error, audit, json, organization_target};
use crate::domain::audit::EntityRef;
use crate::domain::lot::Lot;
use crate::domain::recall::{NewRecall, Recall};
use crate::domain::validation::{Invalid, Refusal, Rule, Validator};
use crate::store::{StoreError, Writes};

/// Lot `id` as the transaction sees it, once `caller` may do `action` to its producer's records.
async fn lot_for(
    tx: &mut dyn Writes,
    caller: &Caller,
    action: &str,
    id: i64,
) -> Result<Lot, Error> {
    let missing = || {
        let refusal = Refusal::new(
            Rule::NotFound,
            Some(id.to_string()),
            format!("there is no lot {id}"),
        );
        Error::from(StoreError::Invalid(Invalid::by("lot_ids", refusal)))
    };
    let lot = tx.lot(id).await?.ok_or_else(missing)?;
    let product = tx.product(lot.data.product_id).await?.ok_or_else(missing)?;
    let target = organization_target(tx, product.data.producer_id).await?;
    caller.require(action, &target)?;
    Ok(lot)
}

/// Opens a recall over its lots: the next scan of any of their labels shows the banner.
pub async fn open(app: &App, caller: &Caller, recall: &NewRecall) -> Result<Recall, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let mut before = Vec::with_capacity(recall.lot_ids.len());
    for id in &recall.lot_ids {
        before.push(lot_for(&mut *tx, caller, "lot.recall", *id).await?);
    }
    let opened = tx.insert_recall(recall, now).await?;
    let (b, a) = moved(&mut *tx, None, &opened, before).await?;
    let entity = EntityRef::new("recall", opened.id);
    audit(
        &mut *tx,
        caller,
        now,
        "lot.recall",
        entity,
        Some(b),
        Some(a),
    )
    .await?;
    tx.commit().await?;
    Ok(opened)
}

/// Closes an open recall with a note: its lots' labels no longer read as recalled (unless
/// another open recall covers them); the recall and its history stay.
pub async fn close(app: &App, caller: &Caller, id: i64, note: &str) -> Result<Recall, Error> {
    let mut v = Validator::default();
    let note = v.multiline_text("note", note, 1000);
    v.finish()?;
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let open = tx.recall(id).await?.ok_or(Error::NotFound("recall"))?;
    let mut before = Vec::with_capacity(open.data.lot_ids.len());
    for lot in &open.data.lot_ids {
        before.push(lot_for(&mut *tx, caller, "recall.close", *lot).await?);
    }
    if !open.is_open() {
        let refusal = Refusal::new(Rule::Invalid, None, "the recall is already closed");
        return Err(StoreError::Conflict(Invalid::by("status", refusal)).into());
    }
    let closed = tx.close_recall(id, &note, now).await?;
    let (b, a) = moved(&mut *tx, Some(&open), &closed, before).await?;
    let entity = EntityRef::new("recall", id);
    audit(
        &mut *tx,
        caller,
        now,
        "recall.close",
        entity,
        Some(b),
        Some(a),
    )
    .await?;
    tx.commit().await?;
    Ok(closed)
}

/// A recall change as its entry holds it: the recall and the lots it moved (those it left
/// as they were are left out), before and after.
async fn moved(
    tx: &mut dyn Writes,
    before_recall: Option<&Recall>,
    after_recall: &Recall,
    lots_before: Vec<Lot>,
) -> Result<(serde_json::Value, serde_json::Value), Error> {
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for lot in lots_before {
        let now = tx.lot(lot.id).await?.ok_or(Error::NotFound("lot"))?;
        if now != lot {
            before.push(lot);
            after.push(now);
        }
    }
    Ok((
        serde_json::json!({ "recall": json(&before_recall)?, "lots": json(&before)? }),
        serde_json::json!({ "recall": json(after_recall)?, "lots": json(&after)? }),
    ))
}

/// Recall `id`, when `caller` may read the records of every producer whose lots it covers.
pub async fn readable(app: &App, caller: &Caller, id: i64) -> Result<Recall, Error> {
    let recall = app
        .store
        .recall(id)
        .await?
        .ok_or(Error::NotFound("recall"))?;
    for lot in &recall.data.lot_ids {
        let lot = app.store.lot(*lot).await?.ok_or(Error::NotFound("lot"))?;
        let product = app
            .store
            .product(lot.data.product_id)
            .await?
            .ok_or(Error::NotFound("product"))?;
        super::registry::require_readable(app, caller, product.data.producer_id).await?;
    }
    Ok(recall)
}
