//! The demo registry: cooperatives in several provinces, a dozen products with Vietnamese
//! names (with and without GTIN), OCOP and VietGAP certificates (one expired, one pending)
//! and lots. It is an ordinary import file, so it also shows the import format.

use crate::domain::bundle::{BundleInput, RegistryBundle};

/// The demo data as an import file.
pub const DEMO_JSON: &str = include_str!("../assets/demo.json");

/// The demo data, checked and ready to store.
pub fn bundle() -> anyhow::Result<RegistryBundle> {
    let input: BundleInput = serde_json::from_str(DEMO_JSON)?;
    input
        .validate()
        .map_err(|e| anyhow::anyhow!("demo data is invalid: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_data_is_valid() {
        let bundle = super::bundle().unwrap();
        assert!(bundle.products.len() >= 10);
        assert!(bundle.products.iter().any(|(_, _, p)| p.gtin.is_some()));
        assert!(bundle.products.iter().any(|(_, _, p)| p.gtin.is_none()));
    }
}
