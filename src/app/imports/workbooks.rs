//! The workbooks an import hands out: the template to fill in, a producer's records to edit
//! and import back, and the refused rows to fix.

use std::collections::HashMap;

use super::Outcome;
use crate::app::{App, Caller, Error};
use crate::domain::validation::FieldError;
use crate::sheets::{Kind, SheetFile};

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
