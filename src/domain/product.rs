//! Products: what a producer sells.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::gtin::Gtin;
use super::validation::{Invalid, Rule, Validator, present};

/// A product as typed in a form, a JSON body or an import file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ProductInput {
    #[serde(default, deserialize_with = "super::int_or_blank")]
    pub producer_id: Option<i64>,
    pub name: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub photo_url: Option<String>,
    #[serde(default)]
    pub gtin: Option<String>,
    #[serde(default)]
    pub growing_area_code: Option<String>,
}

/// A checked product, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NewProduct {
    pub producer_id: i64,
    pub name: String,
    pub category: String,
    pub unit: String,
    pub description: Option<String>,
    pub photo_url: Option<String>,
    /// GTIN-14, digits only.
    #[schema(value_type = Option<String>)]
    pub gtin: Option<Gtin>,
    pub growing_area_code: Option<String>,
}

/// A stored product, with its producer's name for lists.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Product {
    pub id: i64,
    #[serde(flatten)]
    pub data: NewProduct,
    pub producer_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProductInput {
    /// Checks every field; on success the product is ready to store.
    pub fn validate(&self) -> Result<NewProduct, Invalid> {
        let mut v = Validator::default();
        if self.producer_id.is_none() {
            v.choose("producer_id", "choose the producer");
        }
        let name = v.text("name", &self.name, 200);
        let category = v.text("category", &self.category, 100);
        let unit = v.text("unit", &self.unit, 30);
        let description =
            v.optional_multiline_text("description", self.description.as_deref(), 5000);
        let photo_url = v.optional_text("photo_url", self.photo_url.as_deref(), 500);
        if let Some(url) = &photo_url {
            if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/'))
            {
                v.refuse_by(
                    "photo_url",
                    Rule::PhotoAddress,
                    None,
                    "must be an http(s) address or a path on this site",
                );
            }
        }
        let gtin = present(&self.gtin)
            .and_then(|g| v.check_by("gtin", Gtin::parse(g).map_err(Into::into)));
        let growing_area_code =
            v.optional_text("growing_area_code", self.growing_area_code.as_deref(), 40);
        v.finish()?;
        Ok(NewProduct {
            producer_id: self.producer_id.unwrap_or_default(),
            name,
            category,
            unit,
            description,
            photo_url,
            gtin,
            growing_area_code,
        })
    }
}
