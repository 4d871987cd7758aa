//! A cooperative's spreadsheet (products and lots) imported into its records: every row
//! checked by the same rules as a form, matched with what is stored (by the truyxuat id of
//! an exported file, by GTIN, or by name; a lot by its product and code), then created,
//! updated or left as it is. All or nothing unless the valid rows alone are asked for; a
//! dry run stores nothing. Importing the same file twice changes nothing the second time.

use std::collections::HashMap;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::app::{App, Caller, Error, json, organization_target};
use crate::domain::audit::AuditEntry;
use crate::domain::audit::EntityRef;
use crate::domain::batch::refuse_printed_change;
use crate::domain::lot::{Lot, LotInput, NewLot};
use crate::domain::product::{NewProduct, Product, ProductInput};
use crate::domain::validation::Invalid;
use crate::sheets::{Kind, Row, SheetFile, column_name};

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Check and report, store nothing.
    pub dry_run: bool,
    /// Store the rows that check out and report the others (otherwise one bad row stops all).
    pub valid_rows_only: bool,
}

/// A refused cell: where it is, as the person sees it in Excel, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CellError {
    #[schema(value_type = String)]
    pub sheet: &'static str,
    pub kind: Kind,
    /// The row number Excel shows.
    pub row: u32,
    /// "C (Nhóm hàng)"; empty for the row as a whole.
    pub column: String,
    pub message: String,
}

/// Rows by what they would do (or did).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub products: usize,
    pub lots: usize,
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
    /// The rows of `kind` with an error, and their messages joined, in row order.
    pub fn refused_rows(&self, kind: Kind) -> Vec<(u32, String)> {
        let mut rows: Vec<(u32, String)> = Vec::new();
        for e in self.errors.iter().filter(|e| e.kind == kind) {
            let text = if e.column.is_empty() {
                e.message.clone()
            } else {
                format!("{}: {}", e.column, e.message)
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
    fn refuse(&mut self, kind: Kind, row: u32, field: &str, message: impl Into<String>) {
        self.errors.push(CellError {
            sheet: kind.sheet(),
            kind,
            row,
            column: column_name(kind, field),
            message: message.into(),
        });
    }

    fn invalid(&mut self, kind: Kind, row: u32, invalid: Invalid) {
        for e in invalid.errors {
            // Form fields named otherwise than the sheet's columns.
            let field = match e.field.as_str() {
                "product_id" => "product",
                other => other,
            };
            self.refuse(kind, row, field, e.message);
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
    for (rows, actions) in [
        (&file.products, ["product.create", "product.update"]),
        (&file.lots, ["lot.create", "lot.update"]),
    ] {
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
    let lots = check_lots(
        &mut check,
        &file.lots,
        &file.products,
        &products,
        &stored_products,
        &stored_lots,
    );

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
    outcome.errors = check.errors;
    outcome
        .errors
        .sort_by_key(|e| (e.kind == Kind::Lots, e.row));
    if options.dry_run || (!outcome.errors.is_empty() && !options.valid_rows_only) {
        return Ok(outcome);
    }
    store(app, caller, producer_id, file, &outcome, products, lots).await?;
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

async fn check_products(
    app: &App,
    check: &mut Checker,
    producer_id: i64,
    rows: &[Row],
    stored: &[Product],
) -> Result<Vec<ProductRow>, Error> {
    let kind = Kind::Products;
    let by_id: HashMap<i64, &Product> = stored.iter().map(|p| (p.id, p)).collect();
    let by_gtin: HashMap<String, &Product> = stored
        .iter()
        .filter_map(|p| p.data.gtin.map(|g| (g.as_gtin14(), p)))
        .collect();
    let by_name: HashMap<String, &Product> =
        stored.iter().map(|p| (name_key(&p.data.name), p)).collect();
    let mut seen_gtin: HashMap<String, u32> = HashMap::new();
    let mut seen_name: HashMap<String, u32> = HashMap::new();
    let mut checked = Vec::with_capacity(rows.len());
    let mut new_gtins: Vec<(usize, String)> = Vec::new();
    for row in rows {
        let input = ProductInput {
            producer_id: Some(producer_id),
            name: row.get("name").to_owned(),
            category: row.get("category").to_owned(),
            unit: row.get("unit").to_owned(),
            description: row.optional("description"),
            photo_url: None,
            gtin: row.optional("gtin"),
            growing_area_code: row.optional("growing_area_code"),
        };
        let mut product = match input.validate() {
            Ok(p) => Some(p),
            Err(invalid) => {
                check.invalid(kind, row.number, invalid);
                None
            }
        };
        let by_id_match = match row.optional("id") {
            Some(id) => match id.parse::<i64>().ok().and_then(|id| by_id.get(&id)) {
                Some(p) => Some(*p),
                None => {
                    check.refuse(
                        kind,
                        row.number,
                        "id",
                        format!("không có sản phẩm mã số {id} của cơ sở này"),
                    );
                    None
                }
            },
            None => None,
        };
        let gtin = product.as_ref().and_then(|p| p.gtin.map(|g| g.as_gtin14()));
        let name = name_key(row.get("name"));
        if let Some(g) = &gtin {
            if let Some(first) = seen_gtin.insert(g.clone(), row.number) {
                check.refuse(
                    kind,
                    row.number,
                    "gtin",
                    format!("trùng GTIN với dòng {first}"),
                );
            }
        } else if !name.is_empty() {
            if let Some(first) = seen_name.insert(name.clone(), row.number) {
                check.refuse(
                    kind,
                    row.number,
                    "name",
                    format!("trùng tên với dòng {first}"),
                );
            }
        }
        let existing = by_id_match
            .or_else(|| gtin.as_ref().and_then(|g| by_gtin.get(g).copied()))
            .or_else(|| {
                by_name
                    .get(&name)
                    .copied()
                    .filter(|p| p.data.gtin.is_none() || gtin.is_none())
            });
        let plan = match (product.take(), existing) {
            (None, _) => Plan::Unchanged,
            (Some(mut new), Some(before)) => {
                // A spreadsheet carries no photo: the product keeps its own.
                new.photo_url = before.data.photo_url.clone();
                if new == before.data {
                    Plan::Unchanged
                } else {
                    if new.gtin != before.data.gtin {
                        let batches = app.store.list_batches(Some(before.id)).await?;
                        let ids: Vec<i64> = batches.iter().map(|b| b.id).collect();
                        if let Err(e) = refuse_printed_change(&ids, "gtin", "the GTIN") {
                            check.invalid(kind, row.number, e);
                        }
                    }
                    Plan::Update {
                        before: before.clone(),
                        after: new,
                    }
                }
            }
            (Some(new), None) => {
                if let Some(g) = &gtin {
                    new_gtins.push((checked.len(), g.clone()));
                }
                Plan::Create(new)
            }
        };
        checked.push(ProductRow {
            row: row.number,
            plan,
            existing: existing.map(|p| p.id),
        });
    }
    // A new product's GTIN may belong to another producer's product.
    let wanted: Vec<String> = new_gtins.iter().map(|(_, g)| g.clone()).collect();
    let taken = app.store.taken_gtins(&wanted).await?;
    for (i, g) in new_gtins {
        if taken.contains(&g) {
            check.refuse(
                kind,
                checked[i].row,
                "gtin",
                "GTIN này đã thuộc một sản phẩm khác trong truyxuat",
            );
        }
    }
    Ok(checked)
}

fn check_lots(
    check: &mut Checker,
    rows: &[Row],
    product_rows: &[Row],
    products: &[ProductRow],
    stored_products: &[Product],
    stored_lots: &[Lot],
) -> Vec<Option<LotRow>> {
    let kind = Kind::Lots;
    // A lot names its product by name or GTIN: first the file's products, then the stored.
    let mut names: HashMap<String, ProductRef> = HashMap::new();
    for p in stored_products {
        names.insert(name_key(&p.data.name), ProductRef::Stored(p.id));
        if let Some(g) = p.data.gtin {
            names.insert(g.as_gtin14(), ProductRef::Stored(p.id));
        }
    }
    for (i, (row, p)) in product_rows.iter().zip(products).enumerate() {
        let reference = match p.existing {
            Some(id) => ProductRef::Stored(id),
            None => ProductRef::Row(i),
        };
        names.insert(name_key(row.get("name")), reference);
        if let Ok(g) = crate::domain::gtin::Gtin::parse(row.get("gtin")) {
            names.insert(g.as_gtin14(), reference);
        }
    }
    let stored: HashMap<(i64, &str), &Lot> = stored_lots
        .iter()
        .map(|l| ((l.data.product_id, l.data.code.as_str()), l))
        .collect();
    let mut seen: HashMap<(String, String), u32> = HashMap::new();
    let mut checked = Vec::with_capacity(rows.len());
    for row in rows {
        let typed = row.get("product");
        let reference = crate::domain::gtin::Gtin::parse(typed)
            .ok()
            .map(|g| g.as_gtin14())
            .and_then(|g| names.get(&g).copied())
            .or_else(|| names.get(&name_key(typed)).copied());
        let Some(reference) = reference else {
            let message = if typed.is_empty() {
                "chưa ghi sản phẩm".to_owned()
            } else {
                format!("không có sản phẩm '{typed}' trong tệp hay trong truyxuat")
            };
            check.refuse(kind, row.number, "product", message);
            checked.push(None);
            continue;
        };
        if let ProductRef::Row(i) = reference
            && check.has_errors(Kind::Products, products[i].row)
        {
            let message = format!("sản phẩm ở dòng {} trang Sản phẩm có lỗi", products[i].row);
            check.refuse(kind, row.number, "product", message);
        }
        let quantity = match row.optional("quantity") {
            Some(q) => match q.replace(' ', "").replace(',', ".").parse::<f64>() {
                Ok(q) => Some(q),
                Err(_) => {
                    check.refuse(
                        kind,
                        row.number,
                        "quantity",
                        format!("'{q}' không phải một con số"),
                    );
                    None
                }
            },
            None => None,
        };
        let product_id = match reference {
            ProductRef::Stored(id) => id,
            // Filled in once the product is stored.
            ProductRef::Row(_) => 0,
        };
        let input = LotInput {
            product_id: Some(product_id),
            code: row.get("code").to_owned(),
            produced_on: row.get("produced_on").to_owned(),
            expires_on: row.optional("expires_on"),
            quantity,
            growing_area: row.optional("growing_area"),
            commune: row.optional("commune"),
            province: row.optional("province"),
        };
        let lot = match input.validate() {
            Ok(lot) => lot,
            Err(invalid) => {
                check.invalid(kind, row.number, invalid);
                checked.push(None);
                continue;
            }
        };
        let product_key = match reference {
            ProductRef::Stored(id) => format!("id:{id}"),
            ProductRef::Row(i) => format!("row:{i}"),
        };
        if let Some(first) = seen.insert((product_key, lot.code.clone()), row.number) {
            check.refuse(
                kind,
                row.number,
                "code",
                format!("trùng mã lô với dòng {first}"),
            );
        }
        let existing = match reference {
            ProductRef::Stored(id) => stored.get(&(id, lot.code.as_str())).copied(),
            ProductRef::Row(_) => None,
        };
        let plan = match existing {
            Some(before) if before.data == lot => Plan::Unchanged,
            Some(before) => Plan::Update {
                before: before.clone(),
                after: lot,
            },
            None => Plan::Create(lot),
        };
        checked.push(Some(LotRow {
            product: reference,
            plan,
        }));
    }
    checked
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
    products: Vec<ProductRow>,
    lots: Vec<Option<LotRow>>,
) -> Result<(), Error> {
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
    for action in [
        "product.create",
        "product.update",
        "lot.create",
        "lot.update",
    ] {
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
    tx.append_audits(&entries).await?;
    tx.commit().await?;
    Ok(())
}

/// A producer's products and lots as a workbook of the template's sheets, which imports
/// back without a difference (rows carry their truyxuat id; lots name their product by
/// GTIN where it has one, otherwise by name).
pub async fn export(app: &App, caller: &Caller, producer_id: i64) -> Result<Vec<u8>, Error> {
    crate::app::registry::require_readable(app, caller, producer_id).await?;
    if app.store.organization(producer_id).await?.is_none() {
        return Err(Error::NotFound("producer"));
    }
    let products = app.store.products_of(producer_id).await?;
    let lots = app.store.lots_of_producer(producer_id).await?;
    let product_rows: Vec<Vec<String>> = products
        .iter()
        .map(|p| {
            let d = &p.data;
            vec![
                p.id.to_string(),
                d.name.clone(),
                d.category.clone(),
                d.unit.clone(),
                d.gtin.map(|g| g.as_gtin14()).unwrap_or_default(),
                d.growing_area_code.clone().unwrap_or_default(),
                d.description.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let reference: HashMap<i64, String> = products
        .iter()
        .map(|p| {
            let by = p
                .data
                .gtin
                .map_or_else(|| p.data.name.clone(), |g| g.as_gtin14());
            (p.id, by)
        })
        .collect();
    let lot_rows: Vec<Vec<String>> = lots
        .iter()
        .map(|l| {
            let d = &l.data;
            vec![
                reference.get(&d.product_id).cloned().unwrap_or_default(),
                d.code.clone(),
                d.produced_on.format("%Y-%m-%d").to_string(),
                d.expires_on
                    .map(|e| e.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                d.quantity.map(number).unwrap_or_default(),
                d.growing_area.clone().unwrap_or_default(),
                d.commune.clone().unwrap_or_default(),
                d.province.map(|p| p.name.to_owned()).unwrap_or_default(),
            ]
        })
        .collect();
    crate::sheets::workbook(
        &[(Kind::Products, product_rows), (Kind::Lots, lot_rows)],
        None,
    )
    .map_err(Error::Internal)
}

/// A number as a person would type it: 1200, not 1200.0.
fn number(q: f64) -> String {
    if q.fract() == 0.0 && q.abs() < 1e15 {
        format!("{q:.0}")
    } else {
        q.to_string()
    }
}

/// The refused rows of `file` as a workbook to fix and import again: each row as it was
/// typed, with its errors in a last column.
pub fn error_workbook(file: &SheetFile, outcome: &Outcome) -> Result<Vec<u8>, String> {
    let mut rows = Vec::new();
    let mut messages = Vec::new();
    for kind in Kind::ALL {
        let refused = outcome.refused_rows(kind);
        let cells = refused
            .iter()
            .filter_map(|(n, _)| file.rows(kind).iter().find(|r| r.number == *n))
            .map(crate::sheets::cells_in_order)
            .collect();
        rows.push((kind, cells));
        messages.push((kind, refused.into_iter().map(|(_, m)| m).collect()));
    }
    crate::sheets::workbook(&rows, Some(&messages))
}
