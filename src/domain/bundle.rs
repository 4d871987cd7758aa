//! Many registry entities at once, linked by keys local to the bundle: an import file or the
//! demo data. A bundle is checked whole before anything is stored, and stored whole or not
//! at all.

use serde::{Deserialize, Serialize};

use super::certification::{CertificationInput, NewCertification};
use super::lot::{LotInput, NewLot};
use super::organization::{NewOrganization, OrganizationInput};
use super::product::{NewProduct, ProductInput};
use super::validation::{FieldError, Invalid, Validator};

/// A checked bundle, ready to store. Ids inside the entities are ignored: links are the keys.
#[derive(Debug, Clone, Default)]
pub struct RegistryBundle {
    /// (key, organization).
    pub organizations: Vec<(String, NewOrganization)>,
    /// (key, producer key, product).
    pub products: Vec<(String, String, NewProduct)>,
    pub certifications: Vec<BundleCertification>,
    /// (product key, lot).
    pub lots: Vec<(String, NewLot)>,
}

/// A certificate in a bundle, with its links given by bundle keys.
#[derive(Debug, Clone)]
pub struct BundleCertification {
    pub holder: String,
    pub product: Option<String>,
    pub issuer: String,
    pub cert: NewCertification,
    /// Set when the certificate was already verified, and by whom.
    pub verified_by: Option<String>,
}

/// What an import stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub organizations: usize,
    pub products: usize,
    pub certifications: usize,
    pub lots: usize,
}

/// A bundle as written in an import file (JSON).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
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

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct KeyedOrganization {
    pub key: String,
    #[serde(flatten)]
    pub organization: OrganizationInput,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct KeyedProduct {
    pub key: String,
    pub producer: String,
    #[serde(flatten)]
    pub product: ProductInput,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
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

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct LinkedLot {
    pub product: String,
    #[serde(flatten)]
    pub lot: LotInput,
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
                errors.push(FieldError {
                    field,
                    message: super::text::forbidden_message(c),
                });
            }
        }
        if errors.is_empty() {
            Ok(bundle)
        } else {
            Err(Invalid { errors })
        }
    }
}
