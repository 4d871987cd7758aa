//! Certifications: claims about a product or producer, issued by an authority.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use strum::{EnumIter, EnumString, IntoStaticStr};

use super::validation::{Invalid, Refusal, Rule, Validator, present};

/// The kinds of certificate a Vietnamese food product commonly carries.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CertKind {
    /// One Commune One Product, 3 to 5 stars, valid 36 months.
    Ocop,
    /// Vietnamese Good Agricultural Practices, valid at most 2 years.
    Vietgap,
    Organic,
    /// Confirmation of a safe-food supply chain.
    SafeFoodChain,
    Haccp,
    Iso22000,
    /// Certificate that an establishment meets food-safety conditions.
    FoodSafetyEstablishment,
}

impl CertKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The longest validity the rules allow, where they set one.
    pub fn max_validity(self) -> Option<Months> {
        match self {
            Self::Ocop => Some(Months::new(36)),
            Self::Vietgap => Some(Months::new(24)),
            _ => None,
        }
    }

    /// The kind a person typed: its name as `label` gives it ("VietGAP") or its code
    /// ("vietgap"), case and surrounding space ignored.
    pub fn from_typed(typed: &str) -> Option<CertKind> {
        use strum::IntoEnumIterator;
        use unicode_normalization::UnicodeNormalization;
        let folded = |s: &str| s.trim().nfc().collect::<String>().to_lowercase();
        let typed = folded(typed);
        typed
            .parse()
            .ok()
            .or_else(|| CertKind::iter().find(|k| folded(k.label()) == typed))
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Ocop => "OCOP",
            Self::Vietgap => "VietGAP",
            Self::Organic => "Hữu cơ / Organic",
            Self::SafeFoodChain => "Chuỗi cung ứng thực phẩm an toàn",
            Self::Haccp => "HACCP",
            Self::Iso22000 => "ISO 22000",
            Self::FoodSafetyEstablishment => "Cơ sở đủ điều kiện ATTP",
        }
    }
}

/// Where a certificate stands. `Expired` is never stored: it is read off the dates.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CertStatus {
    Submitted,
    Verified,
    Rejected,
    Expired,
    Revoked,
}

impl CertStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The status a certificate takes when its holder changes what it says: the decision
    /// was made on what it said before, so a verified or rejected one waits for an
    /// inspector again; a revoked one stays revoked.
    pub fn after_holder_change(self) -> CertStatus {
        match self {
            CertStatus::Verified | CertStatus::Rejected => CertStatus::Submitted,
            other => other,
        }
    }

    /// Whether an inspector may move a certificate from `self` to `to`.
    pub fn can_become(self, to: CertStatus) -> bool {
        use CertStatus::*;
        matches!(
            (self, to),
            (Submitted, Verified)
                | (Submitted, Rejected)
                | (Verified, Revoked)
                | (Rejected, Submitted)
        )
    }
}

/// A certificate as typed in a form, a JSON body or an import file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CertificationInput {
    #[serde(default, deserialize_with = "super::int_or_blank")]
    pub holder_id: Option<i64>,
    #[serde(default, deserialize_with = "super::int_or_blank")]
    pub product_id: Option<i64>,
    #[serde(default, deserialize_with = "super::int_or_blank")]
    pub issuer_id: Option<i64>,
    #[schema(value_type = CertKind)]
    pub kind: String,
    #[serde(default, deserialize_with = "super::int_or_blank")]
    #[schema(minimum = 1, maximum = 5)]
    pub ocop_stars: Option<i64>,
    pub number: String,
    #[serde(default)]
    pub scope: Option<String>,
    #[schema(format = Date)]
    pub issued_on: String,
    #[schema(format = Date)]
    pub valid_until: String,
    #[serde(default)]
    pub evidence_sha256: Option<String>,
}

/// A checked certificate, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NewCertification {
    pub holder_id: i64,
    pub product_id: Option<i64>,
    pub issuer_id: i64,
    pub kind: CertKind,
    pub ocop_stars: Option<i64>,
    pub number: String,
    pub scope: Option<String>,
    pub issued_on: NaiveDate,
    pub valid_until: NaiveDate,
    pub evidence_sha256: Option<String>,
}

/// A stored certificate with its review state.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Certification {
    pub id: i64,
    #[serde(flatten)]
    pub data: NewCertification,
    pub issuer_name: String,
    pub status: CertStatus,
    pub status_changed_by: Option<String>,
    pub status_changed_at: Option<DateTime<Utc>>,
    /// Why an inspector rejected or revoked it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Certification {
    /// The status a shopper or inspector sees on `today`: a verified or pending
    /// certificate past its validity reads as expired.
    pub fn status_on(&self, today: NaiveDate) -> CertStatus {
        match self.status {
            CertStatus::Verified | CertStatus::Submitted if self.data.valid_until < today => {
                CertStatus::Expired
            }
            s => s,
        }
    }
}

/// The certificates of one product as a shopper sees them on `today`. An OCOP rating is
/// re-evaluated by a new decision: the newest verified OCOP certificate already in force
/// stands for the product, and the ones it replaced are no longer shown; a decision issued
/// after `today` is not shown yet (its stars count from its date).
pub fn shown_on(certs: &[Certification], today: NaiveDate) -> Vec<Certification> {
    let standing = |c: &&Certification| {
        c.data.kind == CertKind::Ocop
            && c.data.issued_on <= today
            && c.status_on(today) == CertStatus::Verified
    };
    let newest = certs
        .iter()
        .filter(standing)
        .max_by_key(|c| (c.data.issued_on, c.id))
        .map(|c| c.id);
    certs
        .iter()
        .filter(|c| c.data.kind != CertKind::Ocop || c.data.issued_on <= today)
        .filter(|c| !standing(c) || Some(c.id) == newest)
        .cloned()
        .collect()
}

impl CertificationInput {
    /// Checks every field; on success the certificate is ready to store (as submitted).
    pub fn validate(&self) -> Result<NewCertification, Invalid> {
        let mut v = Validator::default();
        if self.holder_id.is_none() {
            v.choose("holder_id", "choose the producer holding the certificate");
        }
        if self.issuer_id.is_none() {
            v.choose("issuer_id", "choose the issuing authority");
        }
        let kind = if self.kind.trim().is_empty() {
            v.choose("kind", "choose the kind of certificate");
            None
        } else {
            v.check_by(
                "kind",
                CertKind::from_typed(&self.kind).ok_or_else(|| {
                    Refusal::new(
                        Rule::NotInList,
                        Some(self.kind.trim().to_owned()),
                        "must be one of ocop, vietgap, organic, safe_food_chain, haccp, iso22000, food_safety_establishment",
                    )
                }),
            )
        };
        match (kind, self.ocop_stars) {
            (Some(CertKind::Ocop), None) => v.refuse_by(
                "ocop_stars",
                Rule::OcopStars,
                None,
                "an OCOP rating has 3 to 5 stars",
            ),
            (Some(CertKind::Ocop), Some(s)) if !(3..=5).contains(&s) => v.refuse_by(
                "ocop_stars",
                Rule::OcopStars,
                None,
                format!("an OCOP rating has 3 to 5 stars, not {s}"),
            ),
            (Some(k), Some(_)) if k != CertKind::Ocop => v.refuse_by(
                "ocop_stars",
                Rule::StarsOnlyForOcop,
                None,
                "only an OCOP certificate has stars",
            ),
            _ => {}
        }
        let number = v.text("number", &self.number, 100);
        let scope = v.optional_multiline_text("scope", self.scope.as_deref(), 1000);
        let issued_on = v.date("issued_on", &self.issued_on);
        let valid_until = v.date("valid_until", &self.valid_until);
        if let (Some(from), Some(until)) = (issued_on, valid_until) {
            if until <= from {
                v.refuse_by(
                    "valid_until",
                    Rule::NotAfterIssue,
                    None,
                    "must be after the date of issue",
                );
            } else if let Some(max) = kind.and_then(CertKind::max_validity) {
                if from
                    .checked_add_months(max)
                    .is_some_and(|limit| until > limit)
                {
                    v.refuse_by(
                        "valid_until",
                        Rule::LongestValidity,
                        Some(max.as_u32().to_string()),
                        format!(
                            "a {} certificate is valid for at most {} months",
                            kind.map(CertKind::label).unwrap_or_default(),
                            max.as_u32()
                        ),
                    );
                }
            }
        }
        let evidence_sha256 = present(&self.evidence_sha256).map(str::to_ascii_lowercase);
        if let Some(h) = &evidence_sha256 {
            if !super::document::is_sha256(h) {
                v.refuse_by(
                    "evidence_sha256",
                    Rule::NotSha256,
                    None,
                    "must be the 64 hex digits of a stored document's SHA-256",
                );
            }
        }
        v.finish()?;
        Ok(NewCertification {
            holder_id: self.holder_id.unwrap_or_default(),
            product_id: self.product_id,
            issuer_id: self.issuer_id.unwrap_or_default(),
            kind: kind.unwrap_or(CertKind::Ocop),
            ocop_stars: self.ocop_stars,
            number,
            scope,
            issued_on: issued_on.unwrap_or_default(),
            valid_until: valid_until.unwrap_or_default(),
            evidence_sha256,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ocop(stars: Option<i64>, issued: &str, until: &str) -> CertificationInput {
        CertificationInput {
            holder_id: Some(1),
            issuer_id: Some(2),
            kind: "ocop".into(),
            ocop_stars: stars,
            number: "123/QĐ-UBND".into(),
            issued_on: issued.into(),
            valid_until: until.into(),
            ..Default::default()
        }
    }

    fn stored(id: i64, input: CertificationInput, status: CertStatus) -> Certification {
        let at = chrono::DateTime::<chrono::Utc>::default();
        Certification {
            id,
            data: input.validate().unwrap(),
            issuer_name: "Hội đồng OCOP".into(),
            status,
            status_changed_by: None,
            status_changed_at: None,
            status_reason: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_re_evaluation_shows_its_stars_from_its_date_on() {
        let three = stored(
            1,
            ocop(Some(3), "2025-01-15", "2028-01-14"),
            CertStatus::Verified,
        );
        let five = stored(
            2,
            ocop(Some(5), "2026-12-01", "2029-11-30"),
            CertStatus::Verified,
        );
        let pending = stored(
            3,
            ocop(Some(4), "2026-11-01", "2029-10-31"),
            CertStatus::Submitted,
        );
        let all = [three, five, pending];
        let stars = |today: &str| -> Vec<(i64, CertStatus)> {
            let today = NaiveDate::parse_from_str(today, "%Y-%m-%d").unwrap();
            shown_on(&all, today)
                .iter()
                .map(|c| (c.data.ocop_stars.unwrap(), c.status))
                .collect()
        };
        // Before the re-evaluation: the 3 stars (and the pending one, as pending).
        assert_eq!(
            stars("2026-11-30"),
            vec![(3, CertStatus::Verified), (4, CertStatus::Submitted)]
        );
        // From its date: the 5 stars only stand.
        assert_eq!(
            stars("2026-12-01"),
            vec![(5, CertStatus::Verified), (4, CertStatus::Submitted)]
        );
        // Not yet in force at all before the first one's date.
        assert_eq!(stars("2024-12-31"), vec![]);
    }

    #[test]
    fn ocop_needs_three_to_five_stars() {
        assert!(ocop(Some(4), "2025-01-01", "2027-12-31").validate().is_ok());
        let e = ocop(Some(6), "2025-01-01", "2027-12-31")
            .validate()
            .unwrap_err();
        assert!(e.message_for("ocop_stars").unwrap().contains("3 to 5"));
        assert!(ocop(None, "2025-01-01", "2027-12-31").validate().is_err());
    }

    #[test]
    fn validity_must_follow_issue_and_respect_the_kind_limit() {
        let e = ocop(Some(3), "2025-01-01", "2024-12-31")
            .validate()
            .unwrap_err();
        assert!(e.message_for("valid_until").unwrap().contains("after"));
        let e = ocop(Some(3), "2025-01-01", "2028-01-02")
            .validate()
            .unwrap_err();
        assert!(e.message_for("valid_until").unwrap().contains("36 months"));
    }

    #[test]
    fn expired_is_read_off_the_dates() {
        let cert = Certification {
            id: 1,
            data: ocop(Some(3), "2023-01-01", "2025-12-31")
                .validate()
                .unwrap(),
            issuer_name: "Sở NN".into(),
            status: CertStatus::Verified,
            status_changed_by: None,
            status_changed_at: None,
            status_reason: None,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        };
        let day = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(cert.status_on(day("2025-12-31")), CertStatus::Verified);
        assert_eq!(cert.status_on(day("2026-01-01")), CertStatus::Expired);
    }
}
