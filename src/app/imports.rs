//! A cooperative's spreadsheet (products, lots and certificates) imported into its records:
//! every row checked by the same rules as a form, matched with what is stored (by the
//! truyxuat id of an exported file, by GTIN, or by name; a lot by its product and code; a
//! certificate by its issuer and number), then created, updated or left as it is; the lot
//! diary's events are captured (`events`). All or nothing unless the valid rows alone are
//! asked for; a dry run stores nothing. Importing the same file twice changes nothing the
//! second time.

mod events;

use std::collections::HashMap;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::app::{App, Caller, Error, json, organization_target};
use crate::domain::audit::AuditEntry;
use crate::domain::audit::EntityRef;
use crate::domain::batch::refuse_printed_change;
use crate::domain::certification::{Certification, CertificationInput, NewCertification};
use crate::domain::lot::{Lot, LotInput, NewLot};
use crate::domain::organization::Organization;
use crate::domain::product::{NewProduct, Product, ProductInput};
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
        let at = (kind, row.number);
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
                    let message = format!("this producer has no product {id}");
                    check.refuse(at, "id", Rule::NotFound, Some(id), message);
                    None
                }
            },
            None => None,
        };
        let gtin = product.as_ref().and_then(|p| p.gtin.map(|g| g.as_gtin14()));
        let name = name_key(row.get("name"));
        if let Some(g) = &gtin {
            if let Some(first) = seen_gtin.insert(g.clone(), row.number) {
                let message = format!("the same GTIN as row {first}");
                check.refuse(
                    at,
                    "gtin",
                    Rule::DuplicateRow,
                    Some(first.to_string()),
                    message,
                );
            }
        } else if !name.is_empty() {
            if let Some(first) = seen_name.insert(name.clone(), row.number) {
                let message = format!("the same name as row {first}");
                check.refuse(
                    at,
                    "name",
                    Rule::DuplicateRow,
                    Some(first.to_string()),
                    message,
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
            let message = "another product already has this GTIN";
            check.refuse((kind, checked[i].row), "gtin", Rule::Taken, None, message);
        }
    }
    Ok(checked)
}

/// The products a row may name, by name or GTIN: the file's own, then the stored.
struct ProductNames(HashMap<String, ProductRef>);

impl ProductNames {
    fn new(rows: &[Row], checked: &[ProductRow], stored: &[Product]) -> ProductNames {
        let mut names: HashMap<String, ProductRef> = HashMap::new();
        for p in stored {
            names.insert(name_key(&p.data.name), ProductRef::Stored(p.id));
            if let Some(g) = p.data.gtin {
                names.insert(g.as_gtin14(), ProductRef::Stored(p.id));
            }
        }
        for (i, (row, p)) in rows.iter().zip(checked).enumerate() {
            let reference = match p.existing {
                Some(id) => ProductRef::Stored(id),
                None => ProductRef::Row(i),
            };
            names.insert(name_key(row.get("name")), reference);
            if let Ok(g) = crate::domain::gtin::Gtin::parse(row.get("gtin")) {
                names.insert(g.as_gtin14(), reference);
            }
        }
        ProductNames(names)
    }

    /// The product `row` names in its `product` column, refusing the row when there is
    /// none such or it is a product row with errors. `Ok(None)` for a blank cell.
    fn of(
        &self,
        check: &mut Checker,
        row: &Row,
        products: &[ProductRow],
    ) -> Result<Option<ProductRef>, ()> {
        let typed = row.get("product");
        if typed.is_empty() {
            return Ok(None);
        }
        let reference = crate::domain::gtin::Gtin::parse(typed)
            .ok()
            .and_then(|g| self.0.get(&g.as_gtin14()).copied())
            .or_else(|| self.0.get(&name_key(typed)).copied());
        let at = (row.kind, row.number);
        let Some(reference) = reference else {
            let message = format!("no product '{typed}' in the file or in truyxuat");
            check.refuse(
                at,
                "product",
                Rule::NotFound,
                Some(typed.to_owned()),
                message,
            );
            return Err(());
        };
        if let ProductRef::Row(i) = reference
            && check.has_errors(Kind::Products, products[i].row)
        {
            let first = products[i].row;
            let message = format!("the product of row {first} of the products sheet has errors");
            let argument = Some(first.to_string());
            check.refuse(at, "product", Rule::ProductRowHasErrors, argument, message);
        }
        Ok(Some(reference))
    }
}

fn check_lots(
    check: &mut Checker,
    rows: &[Row],
    names: &ProductNames,
    products: &[ProductRow],
    stored_lots: &[Lot],
) -> Vec<Option<LotRow>> {
    let kind = Kind::Lots;
    let stored: HashMap<(i64, &str), &Lot> = stored_lots
        .iter()
        .map(|l| ((l.data.product_id, l.data.code.as_str()), l))
        .collect();
    let mut seen: HashMap<(String, String), u32> = HashMap::new();
    let mut checked = Vec::with_capacity(rows.len());
    for row in rows {
        let reference = match names.of(check, row, products) {
            Ok(Some(reference)) => reference,
            Ok(None) => {
                let message = "must not be empty";
                check.refuse((kind, row.number), "product", Rule::Required, None, message);
                checked.push(None);
                continue;
            }
            Err(()) => {
                checked.push(None);
                continue;
            }
        };
        let quantity = match row.optional("quantity") {
            Some(q) => match sheet_number(&q) {
                Some(q) => Some(q),
                None => {
                    let message = format!("'{q}' is not a number");
                    check.refuse(
                        (kind, row.number),
                        "quantity",
                        Rule::NotANumber,
                        Some(q),
                        message,
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
            let message = format!("the same lot code as row {first}");
            let argument = Some(first.to_string());
            check.refuse(
                (kind, row.number),
                "code",
                Rule::DuplicateRow,
                argument,
                message,
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

/// What a certificate row is checked against.
struct Known<'a> {
    names: &'a ProductNames,
    products: &'a [ProductRow],
    /// The producer's stored certificates.
    stored: &'a [Certification],
    /// The authorities that may issue one.
    issuers: &'a [Organization],
}

fn check_certificates(
    check: &mut Checker,
    producer_id: i64,
    rows: &[Row],
    known: &Known,
) -> Vec<Option<CertificateRow>> {
    let kind = Kind::Certificates;
    let mut issuers: HashMap<String, Vec<&Organization>> = HashMap::new();
    for o in known.issuers {
        issuers.entry(name_key(&o.data.name)).or_default().push(o);
    }
    let by_id: HashMap<i64, &Certification> = known.stored.iter().map(|c| (c.id, c)).collect();
    let by_number: HashMap<(i64, &str), &Certification> = known
        .stored
        .iter()
        .map(|c| ((c.data.issuer_id, c.data.number.as_str()), c))
        .collect();
    let mut seen: HashMap<(i64, String), u32> = HashMap::new();
    let mut checked = Vec::with_capacity(rows.len());
    for row in rows {
        let Ok(product) = known.names.of(check, row, known.products) else {
            checked.push(None);
            continue;
        };
        let at = (kind, row.number);
        let typed_issuer = row.get("issuer");
        let named = Some(typed_issuer.to_owned());
        let issuer = match issuers.get(&name_key(typed_issuer)).map(Vec::as_slice) {
            Some([one]) => Some(one.id),
            Some(_) => {
                let message = format!("more than one authority is named '{typed_issuer}'");
                check.refuse(at, "issuer", Rule::Ambiguous, named, message);
                None
            }
            None if typed_issuer.is_empty() => None,
            None => {
                let message = format!("no authority '{typed_issuer}' in truyxuat");
                check.refuse(at, "issuer", Rule::NotFound, named, message);
                None
            }
        };
        let stars = match row.optional("ocop_stars") {
            Some(typed) => match typed.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    let message = format!("'{typed}' is not a number of stars");
                    check.refuse(at, "ocop_stars", Rule::NotANumber, Some(typed), message);
                    None
                }
            },
            None => None,
        };
        let input = CertificationInput {
            holder_id: Some(producer_id),
            product_id: product.map(|p| match p {
                ProductRef::Stored(id) => id,
                // Filled in once the product is stored.
                ProductRef::Row(_) => 0,
            }),
            // A blank issuer is the rules' to refuse; an unknown one was refused above.
            issuer_id: (!typed_issuer.is_empty()).then(|| issuer.unwrap_or_default()),
            kind: row.get("kind").to_owned(),
            ocop_stars: stars,
            number: row.get("number").to_owned(),
            scope: row.optional("scope"),
            issued_on: row.get("issued_on").to_owned(),
            valid_until: row.get("valid_until").to_owned(),
            evidence_sha256: None,
        };
        let mut cert = match input.validate() {
            Ok(cert) => cert,
            Err(invalid) => {
                check.invalid(kind, row.number, invalid);
                checked.push(None);
                continue;
            }
        };
        let Some(issuer) = issuer else {
            checked.push(None);
            continue;
        };
        if let Some(first) = seen.insert((issuer, cert.number.clone()), row.number) {
            let message = format!("the same issuer and number as row {first}");
            let argument = Some(first.to_string());
            check.refuse(at, "number", Rule::DuplicateRow, argument, message);
        }
        let existing = match row.optional("id") {
            Some(id) => match id.parse::<i64>().ok().and_then(|id| by_id.get(&id)) {
                Some(c) => Some(*c),
                None => {
                    let message = format!("this producer has no certificate {id}");
                    check.refuse(at, "id", Rule::NotFound, Some(id), message);
                    checked.push(None);
                    continue;
                }
            },
            None => by_number.get(&(issuer, cert.number.as_str())).copied(),
        };
        let plan = match existing {
            Some(before) => {
                // A spreadsheet carries no evidence: the certificate keeps its own.
                cert.evidence_sha256 = before.data.evidence_sha256.clone();
                // A product of this file has no id yet (0): never equal to the stored.
                if cert == before.data {
                    Plan::Unchanged
                } else {
                    Plan::Update {
                        before: before.clone(),
                        after: cert,
                    }
                }
            }
            None => Plan::Create(cert),
        };
        checked.push(Some(CertificateRow { product, plan }));
    }
    checked
}

/// Refuses the new certificates whose issuer and number another producer's certificate
/// already has (the number is unique for its issuer across truyxuat).
async fn taken_numbers(
    app: &App,
    check: &mut Checker,
    rows: &[Row],
    checked: &[Option<CertificateRow>],
) -> Result<(), Error> {
    for (row, cert) in rows.iter().zip(checked) {
        if let Some(CertificateRow {
            plan: Plan::Create(new),
            ..
        }) = cert
            && app
                .store
                .certification_by_number(new.issuer_id, &new.number)
                .await?
                .is_some()
        {
            let message = "this issuer already has a certificate with this number";
            let at = (Kind::Certificates, row.number);
            check.refuse(at, "number", Rule::Taken, None, message);
        }
    }
    Ok(())
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

/// The template to fill in, its issuer column offering every authority in truyxuat.
pub async fn template(app: &App) -> Result<Vec<u8>, Error> {
    let issuers = issuer_names(app).await?;
    crate::sheets::template(&issuers).map_err(Error::Internal)
}

async fn issuer_names(app: &App) -> Result<Vec<String>, Error> {
    let authorities = app.store.authorities().await?;
    Ok(authorities.into_iter().map(|o| o.data.name).collect())
}

/// A producer's products, lots and certificates as a workbook of the template's sheets,
/// which imports back without a difference (rows carry their truyxuat id; lots and
/// certificates name their product by GTIN where it has one, otherwise by name).
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
    let certificate_rows: Vec<Vec<String>> = app
        .store
        .certifications_of(producer_id)
        .await?
        .into_iter()
        .map(|c| {
            let d = c.data;
            vec![
                c.id.to_string(),
                d.kind.label().to_owned(),
                d.number,
                c.issuer_name,
                d.product_id
                    .and_then(|p| reference.get(&p).cloned())
                    .unwrap_or_default(),
                d.ocop_stars.map(|s| s.to_string()).unwrap_or_default(),
                d.issued_on.format("%Y-%m-%d").to_string(),
                d.valid_until.format("%Y-%m-%d").to_string(),
                d.scope.unwrap_or_default(),
            ]
        })
        .collect();
    let sheets = [
        (Kind::Products, product_rows),
        (Kind::Lots, lot_rows),
        (Kind::Certificates, certificate_rows),
    ];
    let issuers = issuer_names(app).await?;
    crate::sheets::workbook(&sheets, None, &issuers).map_err(Error::Internal)
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
pub async fn error_workbook(
    app: &App,
    file: &SheetFile,
    outcome: &Outcome,
    word: &(dyn Fn(&FieldError) -> String + Sync),
) -> Result<Vec<u8>, Error> {
    let mut rows = Vec::new();
    let mut messages = Vec::new();
    for kind in Kind::ALL {
        let refused = outcome.refused_rows(kind, word);
        let cells = refused
            .iter()
            .filter_map(|(n, _)| file.rows(kind).iter().find(|r| r.number == *n))
            .map(crate::sheets::cells_in_order)
            .collect();
        rows.push((kind, cells));
        messages.push((kind, refused.into_iter().map(|(_, m)| m).collect()));
    }
    let issuers = issuer_names(app).await?;
    crate::sheets::workbook(&rows, Some(&messages), &issuers).map_err(Error::Internal)
}
