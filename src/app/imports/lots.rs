//! The lots sheet: each row checked and matched with a stored lot by its product and code.

use std::collections::HashMap;

use super::{Checker, LotRow, Plan, ProductNames, ProductRef, ProductRow, sheet_number};
use crate::domain::lot::{Lot, LotInput};
use crate::domain::validation::Rule;
use crate::sheets::{Kind, Row};

pub(super) fn check_lots(
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
        let key = (product_key, lot.code.clone());
        check.first_of(&mut seen, key, (kind, row.number), "code", "lot code");
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
