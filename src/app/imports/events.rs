//! The lot diary's sheet: each row an event of a lot (harvested, processed, packed, shipped,
//! received), checked by the console form's rules, naming its lot by product and code (a lot
//! stored, or one of the file's lots sheet) and captured as an EPCIS event with its audit
//! entry. An event captured before is left as it is, so a file imported twice adds nothing.

use std::collections::{HashMap, HashSet};

use super::{Checker, Plan, ProductNames, ProductRef, ProductRow};
use crate::app::events::certification_info;
use crate::app::{App, Caller, Error};
use crate::domain::certification::Certification;
use crate::domain::epcis::event::{ReadEvent, read_event};
use crate::domain::epcis::hash::Prefixes;
use crate::domain::epcis::journey::lot_class_id;
use crate::domain::epcis::record::{Recording, RecordingInput};
use crate::domain::lot::Lot;
use crate::domain::product::Product;
use crate::domain::validation::Rule;
use crate::sheets::{Kind, Row};
use crate::store::Writes;

/// A lot as an event row names it: its product, and its code.
type LotName = (ProductRef, String);

/// An event row checked: its lot, the lots it was made from, what happened.
pub(super) struct EventRow {
    lot: LotName,
    inputs: Vec<LotName>,
    recording: Recording,
    /// Create, or Unchanged when captured before.
    plan: Plan<(), ()>,
}

impl EventRow {
    pub(super) fn plan(&self) -> &Plan<(), ()> {
        &self.plan
    }
}

fn key(name: &LotName) -> (String, String) {
    let product = match name.0 {
        ProductRef::Stored(id) => format!("id:{id}"),
        ProductRef::Row(i) => format!("row:{i}"),
    };
    (product, name.1.clone())
}

/// The lots an event may name: the producer's stored lots and the file's lots sheet's rows
/// that check out.
pub(super) struct KnownLots {
    all: HashSet<(String, String)>,
    /// By code alone, for the inputs column.
    by_code: HashMap<String, Vec<LotName>>,
}

impl KnownLots {
    pub(super) fn new(
        stored: &[Lot],
        file_lots: &[(ProductRef, String)],
        stored_products: &[Product],
    ) -> KnownLots {
        let mut known = KnownLots {
            all: HashSet::new(),
            by_code: HashMap::new(),
        };
        let ours: HashSet<i64> = stored_products.iter().map(|p| p.id).collect();
        let stored = stored
            .iter()
            .filter(|l| ours.contains(&l.data.product_id))
            .map(|l| (ProductRef::Stored(l.data.product_id), l.data.code.clone()));
        for name in stored.chain(file_lots.iter().cloned()) {
            if known.all.insert(key(&name)) {
                known.by_code.entry(name.1.clone()).or_default().push(name);
            }
        }
        known
    }
}

/// What the class ids of checked rows are made from: each product's GTIN and id.
pub(super) struct ClassIds<'a> {
    pub stored: &'a [Product],
    /// The producer's certificates (stored before this import), which events rest on.
    pub held: &'a [Certification],
}

impl ClassIds<'_> {
    /// The certificates an event of a stored product rests on (none is known yet for a
    /// product of the file).
    fn certificates(&self, app: &App, name: &LotName, recording: &Recording) -> Vec<String> {
        match name.0 {
            ProductRef::Stored(id) => {
                certification_info(app, self.held, id, recording.at.date_naive())
            }
            ProductRef::Row(_) => Vec::new(),
        }
    }

    /// The class id a lot has now, or a stand-in naming the file's row (for rows whose
    /// product is not stored yet: only compared within the file).
    fn of(&self, name: &LotName) -> String {
        match name.0 {
            ProductRef::Stored(id) => {
                let gtin = self
                    .stored
                    .iter()
                    .find(|p| p.id == id)
                    .and_then(|p| p.data.gtin.map(|g| g.as_gtin14()));
                lot_class_id(gtin.as_deref(), id, &name.1)
            }
            ProductRef::Row(i) => format!("urn:truyxuat:file-row:{i}:{}", name.1),
        }
    }
}

fn event(
    recording: &Recording,
    lot: String,
    inputs: Vec<String>,
    certificates: &[String],
) -> Option<ReadEvent> {
    read_event(
        &recording.to_event(&lot, &inputs, certificates),
        &Prefixes::from_context(None),
        "",
    )
    .ok()
}

/// Checks the events sheet's rows; an event captured before is planned Unchanged.
pub(super) async fn check_events(
    app: &App,
    check: &mut Checker,
    rows: &[Row],
    names: &ProductNames,
    products: &[ProductRow],
    known: &KnownLots,
    classes: &ClassIds<'_>,
) -> Result<Vec<Option<EventRow>>, Error> {
    let kind = Kind::Events;
    let now = app.now();
    let mut checked = Vec::with_capacity(rows.len());
    let mut seen: HashMap<String, u32> = HashMap::new();
    // The rows whose event is all of stored lots, by index, with the event's id.
    let mut ids_of_stored: Vec<(usize, String)> = Vec::new();
    for row in rows {
        let at = (kind, row.number);
        let product = match names.of(check, row, products) {
            Ok(Some(p)) => Some(p),
            Ok(None) => {
                check.refuse(at, "product", Rule::Required, None, "must not be empty");
                None
            }
            Err(()) => None,
        };
        let code = row.get("lot").to_owned();
        let lot = product.map(|p| (p, code.clone()));
        if let Some(lot) = &lot
            && !code.is_empty()
            && !known.all.contains(&key(lot))
        {
            let message = format!("the product has no lot '{code}' in the file or in truyxuat");
            check.refuse(at, "lot", Rule::NotFound, Some(code.clone()), message);
        }
        let mut inputs = Vec::new();
        for typed in row
            .get("inputs")
            .split([';', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match known.by_code.get(typed).map(Vec::as_slice) {
                Some([one]) => inputs.push(one.clone()),
                Some(_) => {
                    let message = format!("more than one product has a lot '{typed}'");
                    check.refuse(at, "inputs", Rule::Ambiguous, Some(typed.into()), message);
                }
                None => {
                    let message = format!("no lot '{typed}' in the file or in truyxuat");
                    check.refuse(at, "inputs", Rule::NotFound, Some(typed.into()), message);
                }
            }
        }
        // The form's rules, with stand-in lot ids: the sheet names lots by code.
        let input = RecordingInput {
            step: row.get("step").to_owned(),
            lot_id: (!code.is_empty()).then_some(0),
            inputs: (1..=inputs.len() as i64).collect(),
            date: row.get("date").to_owned(),
            time: row.get("time").to_owned(),
            // A spreadsheet's number cell reads "1.125": its dot is a decimal point.
            quantity: match super::sheet_number(row.get("quantity")) {
                Some(n) => n.to_string().replace('.', ","),
                None => row.get("quantity").to_owned(),
            },
            unit: row.get("unit").to_owned(),
            place: row.get("place").to_owned(),
            plot: row.get("plot").to_owned(),
            commune: row.get("commune").to_owned(),
            province: row.get("province").to_owned(),
        };
        let recording = match input.validate(now) {
            Ok(r) => Some(r),
            Err(mut invalid) => {
                for e in &mut invalid.errors {
                    if e.field == "lot_id" {
                        e.field = "lot".into();
                    }
                }
                check.invalid(kind, row.number, invalid);
                None
            }
        };
        let (Some(lot), Some(recording)) = (lot, recording) else {
            checked.push(None);
            continue;
        };
        if check.has_errors(kind, row.number) {
            checked.push(None);
            continue;
        }
        let ids = inputs.iter().map(|i| classes.of(i)).collect();
        let certificates = classes.certificates(app, &lot, &recording);
        let Some(read) = event(&recording, classes.of(&lot), ids, &certificates) else {
            checked.push(None);
            continue;
        };
        if !check.first_of(&mut seen, read.hash_id.clone(), at, "step", "event") {
            checked.push(None);
            continue;
        }
        let stored = matches!(lot.0, ProductRef::Stored(_))
            && inputs.iter().all(|i| matches!(i.0, ProductRef::Stored(_)));
        if stored {
            ids_of_stored.push((checked.len(), read.hash_id.clone()));
        }
        checked.push(Some(EventRow {
            lot,
            inputs,
            recording,
            plan: Plan::Create(()),
        }));
    }
    // Events of stored lots captured before are left as they are: asked for all at once.
    let hashes: Vec<String> = ids_of_stored.iter().map(|(_, h)| h.clone()).collect();
    let captured: HashSet<String> = app
        .store
        .captured_already(&hashes)
        .await?
        .into_iter()
        .collect();
    for (i, hash) in ids_of_stored {
        if captured.contains(&hash)
            && let Some(Some(row)) = checked.get_mut(i)
        {
            row.plan = Plan::Unchanged;
        }
    }
    Ok(checked)
}

/// Captures the new events of `rows` in `tx`, their lots' products stored by now (`made`:
/// the products sheet's rows by their new ids). Returns their audit entries.
#[allow(clippy::too_many_arguments)]
pub(super) async fn store_events(
    tx: &mut dyn Writes,
    app: &App,
    held: &[Certification],
    caller: &Caller,
    producer_id: i64,
    rows: Vec<EventRow>,
    made: &HashMap<usize, i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<crate::domain::audit::AuditEntry>, Error> {
    let mut gtins: HashMap<i64, Option<String>> = HashMap::new();
    let mut read = Vec::new();
    for row in rows {
        if !matches!(row.plan, Plan::Create(())) {
            continue;
        }
        let mut class = async |name: &LotName| -> Result<Option<String>, Error> {
            let id = match name.0 {
                ProductRef::Stored(id) => id,
                ProductRef::Row(i) => match made.get(&i) {
                    Some(id) => *id,
                    None => return Ok(None),
                },
            };
            let gtin = match gtins.get(&id) {
                Some(gtin) => gtin.clone(),
                None => {
                    let gtin = tx.product(id).await?.and_then(|p| p.data.gtin);
                    let gtin = gtin.map(|g| g.as_gtin14());
                    gtins.insert(id, gtin.clone());
                    gtin
                }
            };
            Ok(Some(lot_class_id(gtin.as_deref(), id, &name.1)))
        };
        let Some(lot) = class(&row.lot).await? else {
            continue;
        };
        let mut inputs = Vec::new();
        for input in &row.inputs {
            inputs.extend(class(input).await?);
        }
        let product = match row.lot.0 {
            ProductRef::Stored(id) => Some(id),
            ProductRef::Row(i) => made.get(&i).copied(),
        };
        let day = row.recording.at.date_naive();
        let certificates = product
            .map(|p| certification_info(app, held, p, day))
            .unwrap_or_default();
        read.extend(event(&row.recording, lot, inputs, &certificates));
    }
    let hashes: Vec<String> = read.iter().map(|e| e.hash_id.clone()).collect();
    let captured: HashSet<String> = tx.captured_events(&hashes).await?.into_iter().collect();
    read.retain(|e| !captured.contains(&e.hash_id));
    let new: Vec<_> = read.iter().map(|e| e.to_new(Some(producer_id))).collect();
    let ids = tx.insert_events(&new, now).await?;
    let sender = crate::app::events::Sender::of(caller);
    Ok(crate::app::events::audit_entries(&sender, now, &read, &ids))
}
