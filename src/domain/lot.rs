//! Lots: one production batch of a product.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::gs1::is_cset82;
use super::province::{self, Province};
use super::validation::{Invalid, Refusal, Rule, Validator, present};

/// Checks a lot code: 1 to 20 characters of the GS1 AI 10 character set.
pub fn check_lot_code(code: &str) -> Result<(), Refusal> {
    if code.is_empty() {
        return Err(Refusal::new(Rule::Required, None, "must not be empty"));
    }
    if let Some(c) = code.chars().find(|c| !is_cset82(*c)) {
        return Err(Refusal::new(
            Rule::LotCodeCharacter,
            Some(c.to_string()),
            format!(
                "'{c}' is not allowed: use letters without diacritics, digits and - . _ / only"
            ),
        ));
    }
    if code.chars().count() > 20 {
        return Err(Refusal::new(
            Rule::TooLong,
            Some("20".into()),
            "must be at most 20 characters (GS1 AI 10)",
        ));
    }
    Ok(())
}

/// Parses a date as ISO (2026-03-31) or as Vietnamese write it (31/03/2026).
pub fn parse_date(input: &str) -> Result<NaiveDate, String> {
    let s = input.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .map_err(|_| format!("'{s}' is not a date (use 2026-03-31 or 31/03/2026)"))
}

/// A lot as typed in a form, a JSON body or an import file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct LotInput {
    #[serde(default, deserialize_with = "super::int_or_blank")]
    pub product_id: Option<i64>,
    pub code: String,
    #[schema(format = Date)]
    pub produced_on: String,
    #[serde(default)]
    #[schema(format = Date)]
    pub expires_on: Option<String>,
    #[serde(default)]
    pub quantity: Option<f64>,
    #[serde(default)]
    pub growing_area: Option<String>,
    #[serde(default)]
    pub commune: Option<String>,
    #[serde(default)]
    pub province: Option<String>,
}

/// A checked lot, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NewLot {
    pub product_id: i64,
    pub code: String,
    pub produced_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub quantity: Option<f64>,
    pub growing_area: Option<String>,
    pub commune: Option<String>,
    pub province: Option<Province>,
}

/// A stored lot.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Lot {
    pub id: i64,
    #[serde(flatten)]
    pub data: NewLot,
    /// When the lot was recalled; its labels then read as recalled.
    pub recalled_at: Option<DateTime<Utc>>,
    pub recall_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl LotInput {
    /// Checks every field; on success the lot is ready to store.
    pub fn validate(&self) -> Result<NewLot, Invalid> {
        let mut v = Validator::default();
        if self.product_id.is_none() {
            v.choose("product_id", "choose the product");
        }
        let code = self.code.trim().to_owned();
        v.check_by("code", check_lot_code(&code));
        let produced_on = v.date("produced_on", &self.produced_on);
        let expires_on = present(&self.expires_on).and_then(|d| v.date("expires_on", d));
        if let (Some(p), Some(e)) = (produced_on, expires_on) {
            if e < p {
                v.refuse_by(
                    "expires_on",
                    Rule::BeforeProduction,
                    None,
                    "must not be before the production date",
                );
            }
        }
        if let Some(q) = self.quantity {
            if !q.is_finite() || q < 0.0 {
                v.refuse_by("quantity", Rule::Negative, None, "must be zero or more");
            }
        }
        let growing_area = v.optional_text("growing_area", self.growing_area.as_deref(), 200);
        let commune = v.optional_text("commune", self.commune.as_deref(), 100);
        let province =
            present(&self.province).and_then(|p| v.check_by("province", province::parse(p)));
        v.finish()?;
        Ok(NewLot {
            product_id: self.product_id.unwrap_or_default(),
            code,
            produced_on: produced_on.unwrap_or_default(),
            expires_on,
            quantity: self.quantity,
            growing_area,
            commune,
            province,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lot(code: &str, produced: &str, expires: Option<&str>) -> LotInput {
        LotInput {
            product_id: Some(1),
            code: code.into(),
            produced_on: produced.into(),
            expires_on: expires.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn refuses_diacritics_long_codes_and_expiry_before_production() {
        let e = lot("LÔ-01", "2026-01-01", None).validate().unwrap_err();
        assert!(e.message_for("code").unwrap().contains("'Ô'"));
        let e = lot("A123456789012345678901", "2026-01-01", None)
            .validate()
            .unwrap_err();
        assert!(e.message_for("code").unwrap().contains("20"));
        let e = lot("L1", "2026-01-10", Some("2026-01-09"))
            .validate()
            .unwrap_err();
        assert!(e.message_for("expires_on").is_some());
    }

    #[test]
    fn accepts_vietnamese_date_order() {
        let l = lot("HX-2026/01", "31/01/2026", Some("2026-07-31"))
            .validate()
            .unwrap();
        assert_eq!(l.produced_on, NaiveDate::from_ymd_opt(2026, 1, 31).unwrap());
    }
}
