//! The products sheet: each row checked and matched with a stored product (by its
//! truyxuat id, GTIN or name), and the names by which the other sheets' rows name products.

use std::collections::HashMap;

use super::{Checker, Plan, ProductRef, ProductRow, name_key};
use crate::app::{App, Error};
use crate::domain::batch::refuse_printed_change;
use crate::domain::product::{Product, ProductInput};
use crate::domain::validation::Rule;
use crate::sheets::{Kind, Row};

pub(super) async fn check_products(
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
        let by_id_match = check
            .stored_by_id(row, at, &by_id, "product")
            .ok()
            .flatten();
        let gtin = product.as_ref().and_then(|p| p.gtin.map(|g| g.as_gtin14()));
        let name = name_key(row.get("name"));
        if let Some(g) = &gtin {
            check.first_of(&mut seen_gtin, g.clone(), at, "gtin", "GTIN");
        } else if !name.is_empty() {
            check.first_of(&mut seen_name, name.clone(), at, "name", "name");
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
pub(super) struct ProductNames(HashMap<String, ProductRef>);

impl ProductNames {
    pub(super) fn new(rows: &[Row], checked: &[ProductRow], stored: &[Product]) -> ProductNames {
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
    pub(super) fn of(
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
