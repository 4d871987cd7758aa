//! A cooperative's spreadsheet (products, lots and certificates) imported into its records:
//! every row checked by the same rules as a form, matched with what is stored (by the
//! truyxuat id of an exported file, by GTIN, or by name; a lot by its product and code; a
//! certificate by its issuer and number), then created, updated or left as it is; the lot
//! diary's events are captured (`events`). All or nothing unless the valid rows alone are
//! asked for; a dry run stores nothing. Importing the same file twice changes nothing the
//! second time.

mod certificates;
mod events;
mod lots;
mod products;
mod workbooks;

pub use workbooks::{error_workbook, export, template};

use certificates::{Known, check_certificates, taken_numbers};
use lots::check_lots;
use products::{ProductNames, check_products};

use std::collections::HashMap;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::app::{App, Caller, Error, json, organization_target};
use crate::domain::audit::AuditEntry;
use crate::domain::audit::EntityRef;
use crate::domain::certification::{Certification, NewCertification};
use crate::domain::lot::{Lot, NewLot};
use crate::domain::product::{NewProduct, Product};
use crate::domain::validation::{FieldError, Invalid, Refusal, Rule};
use crate::sheets::{Kind, Row, SheetFile, column_name};

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Check and report, store nothing.
    pub dry_run: bool,
    /// Store the rows that check out and report the others (otherwise one bad row stops all).
    pub valid_rows_only: bool,
}

/// A refused cell: where it is, as the person sees it in Excel, and why (a rule the edges
/// put into words, and the same in English).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CellError {
    #[schema(value_type = String)]
    pub sheet: &'static str,
    pub kind: Kind,
    /// The row number Excel shows.
    pub row: u32,
    /// "C (Nhóm hàng)"; empty for the row as a whole.
    pub column: String,
    #[serde(flatten)]
    pub refusal: FieldError,
}

/// Rows by what they would do (or did).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub products: usize,
    pub lots: usize,
    pub certificates: usize,
    pub events: usize,
}

/// What an import found and did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Outcome {
    pub errors: Vec<CellError>,
    pub created: Counts,
    pub updated: Counts,
    pub unchanged: Counts,
    /// Whether anything was stored (false for a dry run or a refused file).
    pub stored: bool,
}

impl Outcome {
    /// The rows of `kind` with an error, and their refusals put in words by `word` and
    /// joined, in row order.
    pub fn refused_rows(
        &self,
        kind: Kind,
        word: &dyn Fn(&FieldError) -> String,
    ) -> Vec<(u32, String)> {
        let mut rows: Vec<(u32, String)> = Vec::new();
        for e in self.errors.iter().filter(|e| e.kind == kind) {
            let text = if e.column.is_empty() {
                word(&e.refusal)
            } else {
                format!("{}: {}", e.column, word(&e.refusal))
            };
            match rows.iter_mut().find(|(r, _)| *r == e.row) {
                Some((_, joined)) => {
                    joined.push_str("; ");
                    joined.push_str(&text);
                }
                None => rows.push((e.row, text)),
            }
        }
        rows.sort_by_key(|(r, _)| *r);
        rows
    }
}

/// What a checked row does.
enum Plan<T, S> {
    Create(T),
    Update { before: S, after: T },
    Unchanged,
}

/// A product row checked and matched.
struct ProductRow {
    row: u32,
    plan: Plan<NewProduct, Product>,
    /// The stored product it matched, if any.
    existing: Option<i64>,
}

/// Where a lot's product is: stored, or made by a row of this file.
#[derive(Clone, Copy)]
enum ProductRef {
    Stored(i64),
    Row(usize),
}

struct LotRow {
    product: ProductRef,
    plan: Plan<NewLot, Lot>,
}

struct CertificateRow {
    /// The product it certifies; None for the producer as a whole.
    product: Option<ProductRef>,
    plan: Plan<NewCertification, Certification>,
}

/// A name as compared: NFC, case and spacing ignored.
fn name_key(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .nfc()
        .collect::<String>()
        .to_lowercase()
}

struct Checker {
    errors: Vec<CellError>,
}

impl Checker {
    /// Refuses the cell of `field` by `code` (with its argument), `message` its English.
    fn refuse(
        &mut self,
        (kind, row): (Kind, u32),
        field: &str,
        code: Rule,
        argument: Option<String>,
        message: impl Into<String>,
    ) {
        let refusal = Refusal::new(code, argument, message);
        self.cell(kind, row, refusal.of(field));
    }

    /// Notes `key` as seen in `at`'s row; refuses the cell of `field` if an earlier row of
    /// the sheet had it ("the same {what} as row 3"). Whether this is the first such row.
    fn first_of<K: std::hash::Hash + Eq>(
        &mut self,
        seen: &mut HashMap<K, u32>,
        key: K,
        at: (Kind, u32),
        field: &str,
        what: &str,
    ) -> bool {
        let Some(first) = seen.insert(key, at.1) else {
            return true;
        };
        let message = format!("the same {what} as row {first}");
        self.refuse(
            at,
            field,
            Rule::DuplicateRow,
            Some(first.to_string()),
            message,
        );
        false
    }

    /// The stored record `row`'s id cell names among `by_id` (None when the cell is empty);
    /// an id this producer has no `what` of is refused at its cell.
    fn stored_by_id<'a, T>(
        &mut self,
        row: &crate::sheets::Row,
        at: (Kind, u32),
        by_id: &HashMap<i64, &'a T>,
        what: &str,
    ) -> Result<Option<&'a T>, ()> {
        let Some(id) = row.optional("id") else {
            return Ok(None);
        };
        match id.parse::<i64>().ok().and_then(|id| by_id.get(&id)) {
            Some(found) => Ok(Some(*found)),
            None => {
                let message = format!("this producer has no {what} {id}");
                self.refuse(at, "id", Rule::NotFound, Some(id), message);
                Err(())
            }
        }
    }

    fn cell(&mut self, kind: Kind, row: u32, refusal: FieldError) {
        self.errors.push(CellError {
            sheet: kind.sheet(),
            kind,
            row,
            column: column_name(kind, &refusal.field),
            refusal,
        });
    }

    fn invalid(&mut self, kind: Kind, row: u32, invalid: Invalid) {
        for mut e in invalid.errors {
            // Form fields named otherwise than the sheet's columns.
            if e.field == "product_id" {
                e.field = "product".into();
            }
            self.cell(kind, row, e);
        }
    }

    fn has_errors(&self, kind: Kind, row: u32) -> bool {
        self.errors.iter().any(|e| e.kind == kind && e.row == row)
    }
}

/// Imports `file` into the records of producer `producer_id`.
pub async fn import_sheets(
    app: &App,
    caller: &Caller,
    producer_id: i64,
    file: &SheetFile,
    options: Options,
) -> Result<Outcome, Error> {
    let producer = app
        .store
        .organization(producer_id)
        .await?
        .ok_or(Error::NotFound("producer"))?;
    if !producer.data.kind.is_producer() {
        return Err(Error::Invalid(Invalid::field(
            "producer_id",
            "only a producer's records are imported from a spreadsheet",
        )));
    }
    let target = crate::app::permissions::Target::of(&producer);
    let sheets: [(&[Row], &[&str]); 4] = [
        (&file.products, &["product.create", "product.update"]),
        (&file.lots, &["lot.create", "lot.update"]),
        (
            &file.certificates,
            &["certification.create", "certification.update"],
        ),
        (&file.events, &["event.capture"]),
    ];
    for (rows, actions) in sheets {
        if !rows.is_empty() {
            for action in actions {
                caller.require(action, &target)?;
            }
        }
    }
    let stored_products = app.store.products_of(producer_id).await?;
    let stored_lots = app.store.lots_of_producer(producer_id).await?;
    let mut check = Checker { errors: Vec::new() };
    let products = check_products(
        app,
        &mut check,
        producer_id,
        &file.products,
        &stored_products,
    )
    .await?;
    let names = ProductNames::new(&file.products, &products, &stored_products);
    let lots = check_lots(&mut check, &file.lots, &names, &products, &stored_lots);
    let certificates = if file.certificates.is_empty() {
        Vec::new()
    } else {
        let stored = app.store.certifications_of(producer_id).await?;
        let issuers = app.store.authorities().await?;
        let known = Known {
            names: &names,
            products: &products,
            stored: &stored,
            issuers: &issuers,
        };
        let rows = check_certificates(&mut check, producer_id, &file.certificates, &known);
        taken_numbers(app, &mut check, &file.certificates, &rows).await?;
        rows
    };
    // The certificates events rest on, as stored before this import (checked and stored
    // alike, so that an event imported twice has the same id).
    let held = if file.events.is_empty() {
        Vec::new()
    } else {
        app.store.certifications_of(producer_id).await?
    };
    let event_rows = if file.events.is_empty() {
        Vec::new()
    } else {
        let file_lots: Vec<(ProductRef, String)> = file
            .lots
            .iter()
            .zip(&lots)
            .filter(|(row, _)| !check.has_errors(Kind::Lots, row.number))
            .filter_map(|(row, lot)| Some((lot.as_ref()?.product, row.get("code").to_owned())))
            .collect();
        let known = events::KnownLots::new(&stored_lots, &file_lots, &stored_products);
        let classes = events::ClassIds {
            stored: &stored_products,
            held: &held,
        };
        events::check_events(
            app,
            &mut check,
            &file.events,
            &names,
            &products,
            &known,
            &classes,
        )
        .await?
    };

    let mut outcome = Outcome::default();
    let product_ok = |i: usize| !check.has_errors(Kind::Products, file.products[i].number);
    for (i, p) in products.iter().enumerate() {
        if product_ok(i) {
            tally(&mut outcome, &p.plan, |c| &mut c.products);
        }
    }
    for (row, lot) in file.lots.iter().zip(&lots) {
        if let Some(lot) = lot
            && !check.has_errors(Kind::Lots, row.number)
        {
            tally(&mut outcome, &lot.plan, |c| &mut c.lots);
        }
    }
    for (row, cert) in file.certificates.iter().zip(&certificates) {
        if let Some(cert) = cert
            && !check.has_errors(Kind::Certificates, row.number)
        {
            tally(&mut outcome, &cert.plan, |c| &mut c.certificates);
        }
    }
    for (row, event) in file.events.iter().zip(&event_rows) {
        if let Some(event) = event
            && !check.has_errors(Kind::Events, row.number)
        {
            tally(&mut outcome, event.plan(), |c| &mut c.events);
        }
    }
    outcome.errors = check.errors;
    outcome.errors.sort_by_key(|e| (e.kind, e.row));
    if options.dry_run || (!outcome.errors.is_empty() && !options.valid_rows_only) {
        return Ok(outcome);
    }
    let planned = Planned {
        products,
        lots,
        certificates,
        events: event_rows,
        held,
    };
    store(app, caller, producer_id, file, &outcome, planned).await?;
    outcome.stored = true;
    Ok(outcome)
}

fn tally<T, S>(outcome: &mut Outcome, plan: &Plan<T, S>, count: fn(&mut Counts) -> &mut usize) {
    match plan {
        Plan::Create(_) => *count(&mut outcome.created) += 1,
        Plan::Update { .. } => *count(&mut outcome.updated) += 1,
        Plan::Unchanged => *count(&mut outcome.unchanged) += 1,
    }
}

/// What the checked rows would do, by sheet.
struct Planned {
    products: Vec<ProductRow>,
    lots: Vec<Option<LotRow>>,
    certificates: Vec<Option<CertificateRow>>,
    events: Vec<Option<events::EventRow>>,
    /// The certificates events rest on.
    held: Vec<Certification>,
}

/// Stores the planned changes of the rows without errors in one transaction, one audit
/// entry for each record created or changed. New records go in many rows a statement, and
/// their entries likewise: a statement costs a round trip to the database, and 100,000
/// rows one at a time took 38 s (`make bench`).
async fn store(
    app: &App,
    caller: &Caller,
    producer_id: i64,
    file: &SheetFile,
    outcome: &Outcome,
    planned: Planned,
) -> Result<(), Error> {
    let Planned {
        products,
        lots,
        certificates,
        events: event_rows,
        held,
    } = planned;
    let refused = |kind: Kind, row: u32| {
        outcome
            .errors
            .iter()
            .any(|e| e.kind == kind && e.row == row)
    };
    let now = app.now();
    let entry = |action: &str, entity: EntityRef, before, after| {
        AuditEntry::new(
            now,
            caller.actor.record(),
            action,
            entity,
            before,
            after,
            caller.request_id.clone(),
        )
    };
    let mut tx = app.store.begin().await?;
    // Asked again inside the transaction: the producer may have been suspended since.
    let target = organization_target(&mut *tx, producer_id).await?;
    let mut actions = vec![
        "product.create",
        "product.update",
        "lot.create",
        "lot.update",
    ];
    if !file.certificates.is_empty() {
        actions.extend(["certification.create", "certification.update"]);
    }
    if !file.events.is_empty() {
        actions.push("event.capture");
    }
    for action in actions {
        caller.require(action, &target)?;
    }
    let producer_name = tx
        .organization(producer_id)
        .await?
        .map(|o| o.data.name)
        .unwrap_or_default();
    let mut entries = Vec::new();
    // Entries are written a few thousand at a time, so that an import of 100,000 rows does
    // not hold 100,000 of them in memory.
    const FLUSH: usize = 5_000;

    // Products: the new ones at once, then the changed ones.
    let mut new_rows = Vec::new();
    let mut new_products = Vec::new();
    let mut changed = Vec::new();
    for (i, p) in products.into_iter().enumerate() {
        if refused(Kind::Products, p.row) {
            continue;
        }
        match p.plan {
            Plan::Create(new) => {
                new_rows.push(i);
                new_products.push(new);
            }
            Plan::Update { before, after } => changed.push((before, after)),
            Plan::Unchanged => {}
        }
    }
    let ids = tx.insert_products(&new_products, now).await?;
    let mut made: HashMap<usize, i64> = HashMap::new();
    for ((row, id), data) in new_rows.into_iter().zip(ids).zip(new_products) {
        made.insert(row, id);
        let created = Product {
            id,
            data,
            producer_name: producer_name.clone(),
            created_at: now,
            updated_at: now,
        };
        let after = Some(json(&created)?);
        entries.push(entry(
            "product.create",
            EntityRef::new("product", id),
            None,
            after,
        ));
        if entries.len() >= FLUSH {
            tx.append_audits(&entries).await?;
            entries.clear();
        }
    }
    for (before, after) in changed {
        let stored = tx.update_product(before.id, &after, now).await?;
        let (b, a) = (Some(json(&before)?), Some(json(&stored)?));
        entries.push(entry(
            "product.update",
            EntityRef::new("product", before.id),
            b,
            a,
        ));
    }

    // Lots, likewise, their products' ids known now.
    let mut new_lots = Vec::new();
    let mut changed = Vec::new();
    for (row, lot) in file.lots.iter().zip(lots) {
        let Some(lot) = lot else { continue };
        if refused(Kind::Lots, row.number) {
            continue;
        }
        let product_id = match lot.product {
            ProductRef::Stored(id) => id,
            ProductRef::Row(i) => match made.get(&i) {
                Some(id) => *id,
                None => continue,
            },
        };
        match lot.plan {
            Plan::Create(mut new) => {
                new.product_id = product_id;
                new_lots.push(new);
            }
            Plan::Update { before, after } => changed.push((before, after)),
            Plan::Unchanged => {}
        }
    }
    let ids = tx.insert_lots(&new_lots, now).await?;
    for (id, data) in ids.into_iter().zip(new_lots) {
        let created = Lot {
            id,
            data,
            recalled_at: None,
            recall_reason: None,
            created_at: now,
            updated_at: now,
        };
        let after = Some(json(&created)?);
        entries.push(entry("lot.create", EntityRef::new("lot", id), None, after));
        if entries.len() >= FLUSH {
            tx.append_audits(&entries).await?;
            entries.clear();
        }
    }
    for (before, after) in changed {
        let stored = tx.update_lot(before.id, &after, now).await?;
        let (b, a) = (Some(json(&before)?), Some(json(&stored)?));
        entries.push(entry("lot.update", EntityRef::new("lot", before.id), b, a));
    }

    // Certificates, a few dozen a producer: one statement each.
    for (row, cert) in file.certificates.iter().zip(certificates) {
        let Some(cert) = cert else { continue };
        if refused(Kind::Certificates, row.number) {
            continue;
        }
        let product_id = match cert.product {
            None => None,
            Some(ProductRef::Stored(id)) => Some(id),
            Some(ProductRef::Row(i)) => match made.get(&i) {
                Some(id) => Some(*id),
                None => continue,
            },
        };
        match cert.plan {
            Plan::Create(mut new) => {
                new.product_id = product_id;
                let created = tx.insert_certification(&new, now).await?;
                let entity = EntityRef::new("certification", created.id);
                let after = Some(json(&created)?);
                entries.push(entry("certification.create", entity, None, after));
            }
            Plan::Update { before, mut after } => {
                after.product_id = product_id;
                let stored = crate::app::registry::write_certificate_change(
                    &mut *tx, caller, &before, &after, now,
                )
                .await?;
                let entity = EntityRef::new("certification", before.id);
                let (b, a) = (Some(json(&before)?), Some(json(&stored)?));
                entries.push(entry("certification.update", entity, b, a));
            }
            Plan::Unchanged => {}
        }
    }
    // Events last: they name lots by their products' ids and GTINs, known now.
    let accepted: Vec<events::EventRow> = file
        .events
        .iter()
        .zip(event_rows)
        .filter(|(row, _)| !refused(Kind::Events, row.number))
        .filter_map(|(_, event)| event)
        .collect();
    let captured = events::store_events(
        &mut *tx,
        app,
        &held,
        caller,
        producer_id,
        accepted,
        &made,
        now,
    )
    .await?;
    entries.extend(captured);
    tx.append_audits(&entries).await?;
    tx.commit().await?;
    Ok(())
}

/// A number as a spreadsheet cell holds it: "1200", "1200.5" (a number cell), "1200,5"
/// (typed with a decimal comma), spaces ignored.
fn sheet_number(typed: &str) -> Option<f64> {
    typed
        .replace(' ', "")
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
}
