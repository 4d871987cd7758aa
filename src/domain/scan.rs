//! Scans and problem reports: what a shopper's phone leaves behind.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::validation::{Invalid, Validator};

/// One scan of a label whose proof held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewScan {
    pub batch_id: i64,
    pub label_index: u32,
    /// The verdict the scan got (genuine, not activated, void, recalled).
    pub verdict: &'static str,
    /// The coarse kind of client, from [`client_kind`].
    pub client: &'static str,
    pub scanned_at: DateTime<Utc>,
}

/// How much a batch's labels have been scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default, utoipa::ToSchema)]
pub struct BatchScans {
    /// Labels of the batch scanned at least once.
    pub labels: i64,
    /// Scans of all its labels.
    pub scans: i64,
}

/// How often a label has been scanned, and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct ScanSummary {
    pub count: i64,
    pub first_at: Option<DateTime<Utc>>,
}

/// From this many scans on, a label's page warns that it may have been copied: a genuine
/// label is scanned by its buyer a few times, a photocopied one by many.
pub const COPY_WARNING_SCANS: i64 = 20;

impl ScanSummary {
    pub fn suggests_copy(&self) -> bool {
        self.count >= COPY_WARNING_SCANS
    }
}

/// The coarse kind of client a user agent names, and its in-app browser if any: enough to
/// see patterns, never enough to identify a person.
pub fn client_kind(user_agent: &str) -> &'static str {
    let ua = user_agent.to_ascii_lowercase();
    let zalo = ua.contains("zalo");
    let facebook = ua.contains("fban") || ua.contains("fbav");
    if ua.contains("bot") || ua.contains("crawler") || ua.contains("spider") {
        "bot"
    } else if ua.contains("android") {
        match (zalo, facebook) {
            (true, _) => "android-zalo",
            (_, true) => "android-facebook",
            _ => "android",
        }
    } else if ua.contains("iphone") || ua.contains("ipad") {
        match (zalo, facebook) {
            (true, _) => "ios-zalo",
            (_, true) => "ios-facebook",
            _ => "ios",
        }
    } else if ua.contains("windows") || ua.contains("macintosh") || ua.contains("linux") {
        "desktop"
    } else {
        "other"
    }
}

/// A problem a shopper reports from a label's page.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportInput {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub contact: Option<String>,
}

/// A checked report, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    pub batch_id: Option<i64>,
    pub label_index: Option<u32>,
    pub product_id: Option<i64>,
    pub message: String,
    pub contact: Option<String>,
}

/// Where an inspector's handling of a report stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    serde::Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ReportState {
    New,
    Read,
    Handled,
}

impl ReportState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A stored problem report, as the producer and inspectors read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub id: i64,
    pub batch_id: Option<i64>,
    pub label_index: Option<u32>,
    pub product_id: Option<i64>,
    pub message: String,
    pub contact: Option<String>,
    pub created_at: DateTime<Utc>,
    pub state: ReportState,
    /// The person handling it.
    pub assigned_to: Option<i64>,
    /// What the inspector noted on handling it.
    pub handling_note: Option<String>,
}

impl ReportInput {
    pub fn validate(
        &self,
        batch_id: Option<i64>,
        label_index: Option<u32>,
        product_id: Option<i64>,
    ) -> Result<NewReport, Invalid> {
        let mut v = Validator::default();
        let message = v.multiline_text("message", &self.message, 2000);
        let contact = v.optional_text("contact", self.contact.as_deref(), 200);
        v.finish()?;
        Ok(NewReport {
            batch_id,
            label_index,
            product_id,
            message,
            contact,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_coarse() {
        let zalo = "Mozilla/5.0 (Linux; Android 10; SM-A105F) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36 Zalo android/12100";
        assert_eq!(client_kind(zalo), "android-zalo");
        assert_eq!(
            client_kind("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"),
            "ios"
        );
        assert_eq!(client_kind("Googlebot/2.1"), "bot");
        assert_eq!(client_kind(""), "other");
    }
}

/// A label worth an inspector's look (a list, not a verdict): scanned far more often than
/// the other labels of its batch (a genuine code copied onto fakes), or scanned after its
/// lot was recalled or its range voided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuspiciousLabel {
    pub batch_id: i64,
    pub label_index: u32,
    pub product_id: i64,
    /// Its scans (of that verdict, for a recalled or void label).
    pub scans: i64,
    /// How often the batch's other scanned labels were scanned, on average.
    pub typical: Option<f64>,
    /// `recalled` or `void`, for a label scanned after either.
    pub verdict: Option<String>,
    pub last_at: DateTime<Utc>,
}
