//! Label batches: a minted run of labels for one product, stored as a range of one key's
//! label numbers. Per-label facts exist only as exceptions: ranges activated with a lot or
//! voided.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// The state of a label as a scan sees it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    strum::IntoStaticStr,
    strum::EnumString,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum LabelState {
    /// Printed but not yet tied to a lot: not on a product yet.
    Minted,
    /// On a product of a known lot.
    Activated,
    /// Withdrawn (misprinted, lost, destroyed).
    Void,
    /// Its lot was recalled.
    Recalled,
}

impl LabelState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Which proof a label carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The serial alone: verified online.
    Compact,
    /// The serial and an Ed25519 signature: verifiable offline.
    Offline,
}

/// Which proof the labels of a batch carry, as stored.
pub fn profile_name(p: Profile) -> &'static str {
    match p {
        Profile::Compact => "compact",
        Profile::Offline => "offline",
    }
}

/// Reads a profile name typed by a person or stored.
pub fn parse_profile(s: &str) -> Result<Profile, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "compact" => Ok(Profile::Compact),
        "offline" => Ok(Profile::Offline),
        other => Err(format!(
            "'{other}' is not a label profile: use compact or offline"
        )),
    }
}

/// A batch to mint: which product, which key, how many labels.
#[derive(Debug, Clone)]
pub struct NewBatch {
    pub product_id: i64,
    /// The lot printed in the labels (and activated at once), if any.
    pub lot_id: Option<i64>,
    pub kid: String,
    pub key_slot: u8,
    pub count: u32,
    pub profile: Profile,
}

/// A stored batch.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LabelBatch {
    pub id: i64,
    pub product_id: i64,
    pub lot_id: Option<i64>,
    pub kid: String,
    pub key_slot: u8,
    /// The key's label number of index 0.
    pub first_number: u32,
    pub count: u32,
    /// `compact` or `offline`.
    #[serde(serialize_with = "serialize_profile")]
    #[schema(value_type = String)]
    pub profile: Profile,
    /// The state of labels that no exception range covers.
    pub state: LabelState,
    pub created_at: DateTime<Utc>,
}

fn serialize_profile<S: serde::Serializer>(p: &Profile, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(profile_name(*p))
}

impl LabelBatch {
    /// The index in this batch of the key's label `number`, if the batch holds it.
    pub fn index_of(&self, number: u32) -> Option<u32> {
        number
            .checked_sub(self.first_number)
            .filter(|i| *i < self.count)
    }

    /// The whole batch as a range of indexes.
    pub fn all(&self) -> IndexRange {
        IndexRange {
            first: 0,
            end: self.count,
        }
    }
}

/// Indexes `[first, end)` of a batch; written `A..B` (B excluded) or `A..=B`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct IndexRange {
    pub first: u32,
    pub end: u32,
}

impl IndexRange {
    pub fn len(&self) -> u32 {
        self.end - self.first
    }

    pub fn contains(&self, index: u32) -> bool {
        (self.first..self.end).contains(&index)
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.first
    }

    /// Refuses a range that reaches past a batch of `count` labels.
    pub fn within(self, count: u32) -> Result<IndexRange, String> {
        if self.end > count {
            Err(format!(
                "range {self} is outside the batch, whose labels are 0..{count}"
            ))
        } else {
            Ok(self)
        }
    }
}

impl fmt::Display for IndexRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.first, self.end)
    }
}

impl FromStr for IndexRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a range: write A..B (B excluded) or A..=B");
        let (a, b, inclusive) = match s.split_once("..=") {
            Some((a, b)) => (a, b, true),
            None => {
                let (a, b) = s.split_once("..").ok_or_else(bad)?;
                (a, b, false)
            }
        };
        let first: u32 = a.trim().parse().map_err(|_| bad())?;
        let last: u32 = b.trim().parse().map_err(|_| bad())?;
        let end = if inclusive {
            last.checked_add(1).ok_or_else(bad)?
        } else {
            last
        };
        if end <= first {
            return Err(format!("range '{s}' is empty"));
        }
        Ok(IndexRange { first, end })
    }
}

/// An exception to a batch's state for a range of its labels.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RangeChange {
    pub range: IndexRange,
    /// `Activated` (with a lot) or `Void`.
    pub state: LabelState,
    pub lot_id: Option<i64>,
}

/// Refuses a change of `what` (the input `field`) while labels of `batches` print it: every
/// printed label would then read as not genuine.
pub fn refuse_printed_change(
    batches: &[i64],
    field: &str,
    what: &str,
) -> Result<(), crate::domain::validation::Invalid> {
    if batches.is_empty() {
        return Ok(());
    }
    let list = batches
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let message = format!(
        "{what} cannot change: labels of batch{} {list} carry it, and every one of them \
         would then read as not genuine",
        if batches.len() > 1 { "es" } else { "" }
    );
    use crate::domain::validation::{Invalid, Refusal, Rule};
    Err(Invalid::by(
        field,
        Refusal::new(Rule::PrintedOnLabels, Some(list), message),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_read_like_rust_and_stay_inside_the_batch() {
        assert_eq!("0..10".parse(), Ok(IndexRange { first: 0, end: 10 }));
        assert_eq!("5..=9".parse(), Ok(IndexRange { first: 5, end: 10 }));
        assert!("9..5".parse::<IndexRange>().is_err());
        assert!("a..b".parse::<IndexRange>().is_err());
        let r: IndexRange = "990..1001".parse().unwrap();
        assert!(r.within(1000).unwrap_err().contains("0..1000"));
    }
}
