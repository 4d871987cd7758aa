//! Many registry entities at once, linked by keys local to the bundle: an import file or the
//! demo data. A bundle is checked whole before anything is stored, and stored whole or not
//! at all.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::certification::{CertificationInput, NewCertification};
use super::lot::{LotInput, NewLot};
use super::organization::{NewOrganization, OrganizationInput};
use super::product::{NewProduct, ProductInput};
use super::validation::{FieldError, Invalid, Validator};

/// A checked bundle, ready to store. Ids inside the entities are ignored: links are the keys.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RegistryBundle {
    /// (key, organization).
    pub organizations: Vec<(String, NewOrganization)>,
    /// (key, producer key, product).
    pub products: Vec<(String, String, NewProduct)>,
    pub certifications: Vec<BundleCertification>,
    /// (product key, lot).
    pub lots: Vec<(String, NewLot)>,
}

/// A bundle's links resolved to positions in its own lists, every rule that needs no
/// database checked: what an import knows before it opens its transaction, so that the
/// transaction itself only writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleLinks {
    /// For each product, its producer's position in `organizations`.
    pub product_producer: Vec<usize>,
    /// For each certificate: holder, issuer (positions in `organizations`), product
    /// (position in `products`).
    pub certification: Vec<(usize, usize, Option<usize>)>,
    /// For each lot, its product's position in `products`.
    pub lot_product: Vec<usize>,
}

/// A certificate in a bundle, with its links given by bundle keys.
#[derive(Debug, Clone, Serialize)]
pub struct BundleCertification {
    pub holder: String,
    pub product: Option<String>,
    pub issuer: String,
    pub cert: NewCertification,
    /// Set when the certificate was already verified, and by whom.
    pub verified_by: Option<String>,
}

/// What an import stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub organizations: usize,
    pub products: usize,
    pub certifications: usize,
    pub lots: usize,
}

/// A bundle as written in an import file (JSON).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleInput {
    #[serde(default)]
    pub organizations: Vec<KeyedOrganization>,
    #[serde(default)]
    pub products: Vec<KeyedProduct>,
    #[serde(default)]
    pub certifications: Vec<LinkedCertification>,
    #[serde(default)]
    pub lots: Vec<LinkedLot>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct KeyedOrganization {
    pub key: String,
    #[serde(flatten)]
    pub organization: OrganizationInput,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct KeyedProduct {
    pub key: String,
    pub producer: String,
    #[serde(flatten)]
    pub product: ProductInput,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct LinkedCertification {
    pub holder: String,
    #[serde(default)]
    pub product: Option<String>,
    pub issuer: String,
    #[serde(default)]
    pub verified_by: Option<String>,
    #[serde(flatten)]
    pub certification: CertificationInput,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct LinkedLot {
    pub product: String,
    #[serde(flatten)]
    pub lot: LotInput,
}

impl RegistryBundle {
    /// Resolves every key to a position and checks what the bundle alone decides: keys
    /// defined once, producers and issuers of the right kind, a certificate's product
    /// belonging to its holder, no GTIN, certificate number (per issuer) or lot code (per
    /// product) twice. Errors name their place, as in `products[2].producer`.
    pub fn resolve(&self) -> Result<BundleLinks, Invalid> {
        let mut errors = Vec::new();
        let mut refuse =
            |field: String, message: String| errors.push(FieldError::new(field, message));
        let orgs = positions(
            self.organizations.iter().map(|(k, _)| k),
            "organizations",
            &mut refuse,
        );
        let products = positions(
            self.products.iter().map(|(k, _, _)| k),
            "products",
            &mut refuse,
        );
        let find = |keys: &HashMap<&str, usize>, key: &str| {
            keys.get(key)
                .copied()
                .ok_or_else(|| format!("'{key}' is not a key defined in this import"))
        };
        let kind_of = |i: usize| self.organizations[i].1.kind;
        let mut links = BundleLinks {
            product_producer: Vec::with_capacity(self.products.len()),
            certification: Vec::with_capacity(self.certifications.len()),
            lot_product: Vec::with_capacity(self.lots.len()),
        };
        let mut gtins = HashSet::new();
        for (i, (_, producer, product)) in self.products.iter().enumerate() {
            match find(&orgs, producer) {
                Ok(o) if kind_of(o).is_producer() => links.product_producer.push(o),
                Ok(_) => refuse(
                    format!("products[{i}].producer"),
                    format!("'{producer}' is not a producer"),
                ),
                Err(m) => refuse(format!("products[{i}].producer"), m),
            }
            if let Some(gtin) = product.gtin {
                if !gtins.insert(gtin) {
                    refuse(
                        format!("products[{i}].gtin"),
                        "another product of this import has this GTIN".into(),
                    );
                }
            }
        }
        let mut numbers = HashSet::new();
        for (i, c) in self.certifications.iter().enumerate() {
            let at = |field: &str| format!("certifications[{i}].{field}");
            let holder = match find(&orgs, &c.holder) {
                Ok(o) if kind_of(o).is_producer() => Some(o),
                Ok(_) => {
                    refuse(at("holder"), format!("'{}' is not a producer", c.holder));
                    None
                }
                Err(m) => {
                    refuse(at("holder"), m);
                    None
                }
            };
            let issuer = match find(&orgs, &c.issuer) {
                Ok(o) if !kind_of(o).is_producer() => Some(o),
                Ok(_) => {
                    refuse(at("issuer"), format!("'{}' is not an authority", c.issuer));
                    None
                }
                Err(m) => {
                    refuse(at("issuer"), m);
                    None
                }
            };
            let product = match &c.product {
                Some(key) => match find(&products, key) {
                    Ok(p) => Some(Some(p)),
                    Err(m) => {
                        refuse(at("product"), m);
                        None
                    }
                },
                None => Some(None),
            };
            if let Some(Some(p)) = product {
                if self.products[p].1 != c.holder {
                    refuse(
                        at("product"),
                        "the product belongs to another producer".into(),
                    );
                }
            }
            if let Some(issuer) = issuer {
                if !numbers.insert((issuer, c.cert.number.as_str())) {
                    refuse(
                        at("number"),
                        "this issuer already has a certificate with this number".into(),
                    );
                }
            }
            if let (Some(holder), Some(issuer), Some(product)) = (holder, issuer, product) {
                links.certification.push((holder, issuer, product));
            }
        }
        let mut codes = HashSet::new();
        for (i, (product, lot)) in self.lots.iter().enumerate() {
            match find(&products, product) {
                Ok(p) => {
                    if !codes.insert((p, lot.code.as_str())) {
                        refuse(
                            format!("lots[{i}].code"),
                            "this product already has a lot with this code".into(),
                        );
                    }
                    links.lot_product.push(p);
                }
                Err(m) => refuse(format!("lots[{i}].product"), m),
            }
        }
        if errors.is_empty() {
            Ok(links)
        } else {
            Err(Invalid { errors })
        }
    }
}

/// Each key's position in its list; a key given twice is refused.
fn positions<'a>(
    keys: impl Iterator<Item = &'a String>,
    list: &str,
    refuse: &mut impl FnMut(String, String),
) -> HashMap<&'a str, usize> {
    let mut found = HashMap::new();
    for (i, key) in keys.enumerate() {
        if found.insert(key.as_str(), i).is_some() {
            refuse(
                format!("{list}[{i}].key"),
                format!("'{key}' is used for two entries"),
            );
        }
    }
    found
}

impl BundleInput {
    /// Checks every entity; errors name their place, as in `products[2].gtin`.
    pub fn validate(&self) -> Result<RegistryBundle, Invalid> {
        let mut errors = Vec::new();
        let mut bundle = RegistryBundle::default();
        let mut keep = |result: Result<(), Invalid>, at: String| {
            if let Err(e) = result {
                errors.extend(e.within(&at).errors);
            }
        };
        for (i, o) in self.organizations.iter().enumerate() {
            keep(
                o.organization
                    .validate()
                    .map(|v| bundle.organizations.push((o.key.clone(), v))),
                format!("organizations[{i}]"),
            );
        }
        for (i, p) in self.products.iter().enumerate() {
            // The producer is linked by key; the id is filled in when stored.
            let input = ProductInput {
                producer_id: Some(0),
                ..p.product.clone()
            };
            keep(
                input
                    .validate()
                    .map(|v| bundle.products.push((p.key.clone(), p.producer.clone(), v))),
                format!("products[{i}]"),
            );
        }
        for (i, c) in self.certifications.iter().enumerate() {
            let input = CertificationInput {
                holder_id: Some(0),
                issuer_id: Some(0),
                product_id: None,
                ..c.certification.clone()
            };
            let mut v = Validator::default();
            let verified_by = v.optional_text("verified_by", c.verified_by.as_deref(), 200);
            let checked = v.finish().and_then(|()| input.validate());
            keep(
                checked.map(|cert| {
                    bundle.certifications.push(BundleCertification {
                        holder: c.holder.clone(),
                        product: c.product.clone(),
                        issuer: c.issuer.clone(),
                        cert,
                        verified_by,
                    })
                }),
                format!("certifications[{i}]"),
            );
        }
        for (i, l) in self.lots.iter().enumerate() {
            let input = LotInput {
                product_id: Some(0),
                ..l.lot.clone()
            };
            keep(
                input
                    .validate()
                    .map(|v| bundle.lots.push((l.product.clone(), v))),
                format!("lots[{i}]"),
            );
        }
        // Keys link the entities of a bundle and are echoed in its errors: plain text only.
        let keys = (self.organizations.iter().enumerate())
            .map(|(i, o)| (format!("organizations[{i}].key"), &o.key))
            .chain(
                (self.products.iter().enumerate())
                    .map(|(i, p)| (format!("products[{i}].key"), &p.key)),
            );
        for (field, key) in keys {
            if let Some(c) = super::text::forbidden_char(key, false) {
                errors.push(FieldError::new(field, super::text::forbidden_message(c)));
            }
        }
        if !errors.is_empty() {
            return Err(Invalid { errors });
        }
        bundle.resolve()?;
        Ok(bundle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(json: serde_json::Value) -> Result<RegistryBundle, Invalid> {
        serde_json::from_value::<BundleInput>(json)
            .unwrap()
            .validate()
    }

    fn fields(e: Invalid) -> Vec<String> {
        e.errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn links_resolve_to_positions_before_anything_is_stored() {
        let ok = bundle(serde_json::json!({
            "organizations": [
                {"key": "htx", "kind": "cooperative", "name": "HTX", "province": "Lâm Đồng"},
                {"key": "so", "kind": "department", "name": "Sở", "province": "Lâm Đồng"}
            ],
            "products": [{"key": "p", "producer": "htx", "name": "Chè", "category": "Chè", "unit": "hộp"}],
            "certifications": [{"holder": "htx", "product": "p", "issuer": "so", "kind": "vietgap",
                                "number": "VG-1", "issued_on": "2025-07-01", "valid_until": "2027-06-30"}],
            "lots": [{"product": "p", "code": "L1", "produced_on": "2026-10-01"}]
        }))
        .unwrap();
        let links = ok.resolve().unwrap();
        assert_eq!(links.product_producer, vec![0]);
        assert_eq!(links.certification, vec![(0, 1, Some(0))]);
        assert_eq!(links.lot_product, vec![0]);
    }

    #[test]
    fn what_the_bundle_alone_decides_is_refused_by_place() {
        let e = bundle(serde_json::json!({
            "organizations": [
                {"key": "htx", "kind": "cooperative", "name": "HTX", "province": "Lâm Đồng"},
                {"key": "htx2", "kind": "cooperative", "name": "HTX 2", "province": "Lâm Đồng"},
                {"key": "so", "kind": "department", "name": "Sở", "province": "Lâm Đồng"},
                {"key": "so", "kind": "department", "name": "Sở bis", "province": "Lâm Đồng"}
            ],
            "products": [
                {"key": "p", "producer": "so", "name": "Chè", "category": "Chè", "unit": "hộp", "gtin": "8934588012112"},
                {"key": "q", "producer": "htx2", "name": "Gạo", "category": "Gạo", "unit": "túi", "gtin": "8934588012112"}
            ],
            "certifications": [
                {"holder": "htx", "product": "q", "issuer": "htx2", "kind": "vietgap",
                 "number": "VG-1", "issued_on": "2025-07-01", "valid_until": "2027-06-30"}
            ],
            "lots": [
                {"product": "q", "code": "L1", "produced_on": "2026-10-01"},
                {"product": "q", "code": "L1", "produced_on": "2026-10-02"}
            ]
        }))
        .unwrap_err();
        assert_eq!(
            fields(e),
            vec![
                "organizations[3].key",
                "products[0].producer",
                "products[1].gtin",
                "certifications[0].issuer",
                "certifications[0].product",
                "lots[1].code",
            ]
        );
    }
}
