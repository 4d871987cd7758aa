//! Plain types and rules of the domain. No I/O: everything here is unit-tested directly.

pub mod audit;
pub mod batch;
pub mod bundle;
pub mod certification;
pub mod document;
pub mod epcis;
pub mod gs1;
pub mod gtin;
pub mod job;
pub mod lot;
pub mod organization;
pub mod people;
pub mod product;
pub mod province;
pub mod recall;
pub mod scan;
pub mod secrets;
pub mod text;
pub mod tlog;
pub mod validation;

use serde::{Deserialize, Deserializer};

/// Reads an id or count given as a number, as a string of digits (HTML forms), or as a blank
/// (an unchosen select) which means absent. Anything else is refused by serde.
pub(crate) fn int_or_blank<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(i64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Number(n)) => Ok(Some(n)),
        Some(Raw::Text(s)) if s.trim().is_empty() => Ok(None),
        Some(Raw::Text(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("'{s}' is not an id"))),
    }
}
