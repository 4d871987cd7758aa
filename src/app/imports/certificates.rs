//! The certificates sheet: each row checked, its issuer found among the authorities, and
//! matched with a stored certificate by issuer and number.

use std::collections::HashMap;

use super::{CertificateRow, Checker, Plan, ProductNames, ProductRef, ProductRow, name_key};
use crate::app::{App, Error};
use crate::domain::certification::{Certification, CertificationInput};
use crate::domain::organization::Organization;
use crate::domain::validation::Rule;
use crate::sheets::{Kind, Row};

/// What a certificate row is checked against.
pub(super) struct Known<'a> {
    pub(super) names: &'a ProductNames,
    pub(super) products: &'a [ProductRow],
    /// The producer's stored certificates.
    pub(super) stored: &'a [Certification],
    /// The authorities that may issue one.
    pub(super) issuers: &'a [Organization],
}

pub(super) fn check_certificates(
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
        let key = (issuer, cert.number.clone());
        check.first_of(&mut seen, key, at, "number", "issuer and number");
        let existing = match check.stored_by_id(row, at, &by_id, "certificate") {
            Ok(Some(c)) => Some(c),
            Ok(None) => by_number.get(&(issuer, cert.number.as_str())).copied(),
            Err(()) => {
                checked.push(None);
                continue;
            }
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
pub(super) async fn taken_numbers(
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
