//! Recalls: an authority's (or a producer's) decision that the lots it covers must leave the
//! shelves, with what GS1's Product Recall standard records: a reason code and text, a risk
//! class, a contact. Its lots' labels read as recalled until the recall is closed; the
//! recall itself is kept.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::validation::{Invalid, Rule, Validator};

/// Why a recall is made, as GS1's `productRecallReasonCode` names it (the codes that matter
/// for food; the text says the rest).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum RecallReason {
    MicrobialContamination,
    ChemicalContamination,
    ForeignMatter,
    AllergyHazard,
    IncorrectLabelling,
    QualityDefect,
    PackagingDefect,
    RegulatoryNonCompliance,
    Other,
}

impl RecallReason {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn all() -> Vec<RecallReason> {
        use strum::IntoEnumIterator;
        RecallReason::iter().collect()
    }
}

/// A recall as typed in the inspector's form or an API body.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RecallInput {
    /// The lots the recall covers (at least one).
    #[serde(default)]
    pub lot_ids: Vec<i64>,
    /// One of GS1's reason codes, e.g. `MICROBIAL_CONTAMINATION`.
    pub reason_code: String,
    /// What was found, in words a shopper reads on the label's page (one line).
    pub reason: String,
    /// 1 (a serious risk to health) to 3 (unlikely to harm), as GS1's
    /// `incidentRiskLevelCode` CLASS_1..CLASS_3.
    #[serde(default, deserialize_with = "super::int_or_blank")]
    pub risk_class: Option<i64>,
    /// Whom shops and shoppers call about it: a name, a phone, an e-mail.
    pub contact: String,
}

/// A checked recall, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NewRecall {
    pub lot_ids: Vec<i64>,
    pub reason_code: RecallReason,
    pub reason: String,
    pub risk_class: i64,
    pub contact: String,
}

/// A stored recall.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Recall {
    pub id: i64,
    #[serde(flatten)]
    pub data: NewRecall,
    pub opened_at: DateTime<Utc>,
    /// When it was closed (its lots' labels no longer read as recalled), and why.
    pub closed_at: Option<DateTime<Utc>>,
    pub close_note: Option<String>,
}

impl Recall {
    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

impl RecallInput {
    /// Checks every field; on success the recall is ready to store.
    pub fn validate(&self) -> Result<NewRecall, Invalid> {
        let mut v = Validator::default();
        let mut lot_ids = self.lot_ids.clone();
        lot_ids.sort_unstable();
        lot_ids.dedup();
        if lot_ids.is_empty() {
            v.choose("lot_ids", "choose the lots the recall covers");
        }
        let reason_code = match self.reason_code.trim() {
            "" => {
                v.choose("reason_code", "choose a reason");
                None
            }
            code => v.check_by(
                "reason_code",
                code.parse::<RecallReason>().map_err(|_| {
                    super::validation::Refusal::new(
                        Rule::NotInList,
                        Some(code.to_owned()),
                        format!("'{code}' is not one of GS1's recall reason codes"),
                    )
                }),
            ),
        };
        let reason = v.text("reason", &self.reason, 500);
        match self.risk_class {
            None => v.choose("risk_class", "choose a risk class"),
            Some(1..=3) => {}
            Some(_) => v.refuse_by(
                "risk_class",
                Rule::OutOfRange,
                Some("1–3".into()),
                "must be 1, 2 or 3",
            ),
        }
        let contact = v.text("contact", &self.contact, 300);
        v.finish()?;
        Ok(NewRecall {
            lot_ids,
            reason_code: reason_code.unwrap_or(RecallReason::Other),
            reason,
            risk_class: self.risk_class.unwrap_or(2),
            contact,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> RecallInput {
        RecallInput {
            lot_ids: vec![3, 1, 3],
            reason_code: "MICROBIAL_CONTAMINATION".into(),
            reason: "Salmonella found in a sample".into(),
            risk_class: Some(1),
            contact: "Chi cục QLCL, 0276 3822 000".into(),
        }
    }

    #[test]
    fn a_recall_keeps_each_lot_once() {
        let r = input().validate().unwrap();
        assert_eq!(r.lot_ids, vec![1, 3]);
        assert_eq!(r.reason_code, RecallReason::MicrobialContamination);
    }

    #[test]
    fn a_recall_needs_lots_a_known_reason_a_class_of_one_to_three_and_a_contact() {
        let bad = RecallInput {
            lot_ids: vec![],
            reason_code: "BAD_LUCK".into(),
            reason: " ".into(),
            risk_class: Some(4),
            contact: String::new(),
        };
        let e = bad.validate().unwrap_err();
        for field in ["lot_ids", "reason_code", "reason", "risk_class", "contact"] {
            assert!(e.message_for(field).is_some(), "{field}: {e}");
        }
        assert_eq!(e.error_for("reason_code").unwrap().code, Rule::NotInList);
        assert_eq!(e.error_for("risk_class").unwrap().code, Rule::OutOfRange);
    }
}
