//! Shoppers' problem reports as an inspector's inbox: read, taken by someone, handled with a
//! note. Each change is an audit entry like any other; a report about a label of no known
//! product (a forged one) is any inspector's to handle.

use super::permissions::Target;
use super::{App, Caller, Error, audit, json, organization_target, organization_target_now};
use crate::domain::audit::EntityRef;
use crate::domain::scan::{Report, ReportState};
use crate::domain::validation::Validator;
use crate::store::Writes;

/// What an inspector does with a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportChange {
    pub state: ReportState,
    /// Takes the report as the caller's own to handle (when nobody has it yet, or anyway).
    pub take: bool,
    pub note: Option<String>,
}

/// Who may handle report `report`: the inspectors of its product's producer.
async fn target_of(tx: &mut dyn Writes, report: &Report) -> Result<Target, Error> {
    let Some(product_id) = report.product_id else {
        return Ok(Target::unowned());
    };
    match tx.product(product_id).await? {
        Some(p) => organization_target(tx, p.data.producer_id).await,
        None => Ok(Target::unowned()),
    }
}

/// Whether `caller` may handle `report` (for listing the inbox; read outside a transaction).
pub async fn may_handle(app: &App, caller: &Caller, report: &Report) -> Result<bool, Error> {
    let product = match report.product_id {
        Some(id) => app.store.product(id).await?,
        None => None,
    };
    let target = match product {
        Some(p) => organization_target_now(app, p.data.producer_id).await?,
        None => Target::unowned(),
    };
    Ok(caller.actor.may("report.handle", &target))
}

/// Records an inspector's handling of report `id`.
pub async fn handle(
    app: &App,
    caller: &Caller,
    id: i64,
    change: &ReportChange,
) -> Result<Report, Error> {
    let mut v = Validator::default();
    let note = v.optional_multiline_text("note", change.note.as_deref(), 2000);
    v.finish()?;
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let before = tx.report(id).await?.ok_or(Error::NotFound("report"))?;
    let target = target_of(&mut *tx, &before).await?;
    caller.require("report.handle", &target)?;
    let assigned_to = if change.take {
        caller.actor.person_id().or(before.assigned_to)
    } else {
        before.assigned_to
    };
    let note = note.or_else(|| before.handling_note.clone());
    let after = tx
        .update_report(id, change.state, assigned_to, note.as_deref())
        .await?;
    let entity = EntityRef::new("report", id);
    let (b, a) = (Some(json(&before)?), Some(json(&after)?));
    audit(&mut *tx, caller, now, "report.handle", entity, b, a).await?;
    tx.commit().await?;
    Ok(after)
}
