//! The public scan page as a shopper sees it: the verdict first, then the product, its
//! producer, origin and certification chain. Small enough to arrive in one round trip
//! (CSS inlined, no script, system fonts).

use std::sync::LazyLock;

use askama::Template;
use axum::http::HeaderValue;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::app::labels::VerdictKind;
use crate::domain::certification::{CertStatus, Certification};
use crate::domain::lot::Lot;
use crate::domain::organization::Organization;
use crate::domain::product::Product;
use crate::domain::scan::ScanSummary;
use crate::web::i18n::{Lang, ScanTexts, Texts};

/// The page's stylesheet, inlined so that the first response is the whole page.
pub const CSS: &str = include_str!("../../../assets/scan.css");

/// The Content-Security-Policy of the scan page: the inline stylesheet by its hash.
pub fn content_security_policy() -> HeaderValue {
    static POLICY: LazyLock<HeaderValue> = LazyLock::new(|| {
        use base64::Engine;
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
        let policy = format!(
            "default-src 'none'; img-src 'self' https: data:; style-src 'sha256-{hash}'; \
             form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        );
        // Base64 and the fixed text are visible ASCII, always a valid header value.
        HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static("default-src 'none'"))
    });
    POLICY.clone()
}

/// A certificate as the page shows it.
pub struct CertLine {
    /// The certificate's id: events that rest on it point to it on the product's page.
    pub id: i64,
    pub kind: &'static str,
    pub stars: String,
    pub number: String,
    pub issuer: String,
    pub issued_on: String,
    pub valid_until: String,
    pub badge: &'static str,
    pub badge_class: &'static str,
    pub verified: Option<String>,
}

/// Certificates within this many days of their end read as expiring soon.
pub const EXPIRING_DAYS: i64 = 60;

/// A date as Vietnamese readers write it, dd/mm/yyyy (written directly: chrono's `format`
/// parses its pattern on every call, and a page shows half a dozen dates).
pub struct Day(pub NaiveDate);

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.0;
        write!(f, "{:02}/{:02}/{:04}", d.day(), d.month(), d.year())
    }
}

fn date(d: NaiveDate) -> String {
    Day(d).to_string()
}

pub fn when(t: DateTime<Utc>) -> String {
    Day(t.date_naive()).to_string()
}

pub fn cert_line(c: &Certification, today: NaiveDate, s: &ScanTexts) -> CertLine {
    let status = c.status_on(today);
    let (badge, badge_class) = match status {
        CertStatus::Verified if (c.data.valid_until - today).num_days() <= EXPIRING_DAYS => {
            (s.badge_expiring, "expiring")
        }
        CertStatus::Verified => (s.badge_valid, "valid"),
        CertStatus::Submitted => (s.badge_pending, "pending"),
        CertStatus::Rejected => (s.badge_rejected, "rejected"),
        CertStatus::Expired => (s.badge_expired, "expired"),
        CertStatus::Revoked => (s.badge_revoked, "revoked"),
    };
    // The inspector's decision, by name and date (and why, for a refusal).
    let decided = match c.status {
        CertStatus::Verified => Some(s.verified_by),
        CertStatus::Rejected => Some(s.rejected_by),
        CertStatus::Revoked => Some(s.revoked_by),
        _ => None,
    };
    let verified = match (decided, &c.status_changed_by, c.status_changed_at) {
        (Some(decided), Some(by), Some(at)) => {
            let mut line = format!("{decided} {by}, {} {}", s.on, when(at));
            if let Some(reason) = &c.status_reason {
                line.push_str(&format!(": {reason}"));
            }
            Some(line)
        }
        _ => None,
    };
    CertLine {
        id: c.id,
        kind: c.data.kind.label(),
        stars: "★".repeat(usize::try_from(c.data.ocop_stars.unwrap_or(0)).unwrap_or(0)),
        number: c.data.number.clone(),
        issuer: c.issuer_name.clone(),
        issued_on: date(c.data.issued_on),
        valid_until: date(c.data.valid_until),
        badge,
        badge_class,
        verified,
    }
}

#[derive(Template)]
#[template(path = "scan.html")]
pub struct ScanPage {
    pub lang: Lang,
    pub t: &'static Texts,
    pub s: &'static ScanTexts,
    pub css: &'static str,
    pub path: String,
    pub canonical: String,
    /// The product photo's whole address, for link previews.
    pub image: Option<String>,
    /// An uploaded photo's sizes (None for a photo kept elsewhere, shown as it is).
    pub photo: Option<crate::photos::Sizes>,
    pub title: String,
    pub description: String,
    pub verdict_class: &'static str,
    pub banner_title: &'static str,
    pub banner_body: &'static str,
    pub recalled: bool,
    pub recall_reason: Option<String>,
    /// Whom the recall says to contact.
    pub recall_contact: Option<String>,
    pub show_steps: bool,
    pub scans: Option<ScanSummary>,
    pub first_scanned: Option<String>,
    pub copy_warning: bool,
    pub product: Option<Product>,
    pub producer: Option<Organization>,
    pub lot: Option<Lot>,
    /// The lot's journey, earliest step first.
    pub journey: Vec<JourneyLine>,
    pub certs: Vec<CertLine>,
    pub serial: Option<String>,
    pub report_action: Option<String>,
    pub reported: bool,
    pub json_ld: String,
}

impl ScanPage {
    fn day(&self, date: &NaiveDate) -> Day {
        Day(*date)
    }
}

/// One step of a lot's journey as the page shows it.
pub struct JourneyLine {
    pub what: &'static str,
    /// `dd/mm/yyyy` in the time zone the step was recorded in, and its ISO form.
    pub date: String,
    pub iso: String,
    pub place: Option<String>,
    pub province: Option<String>,
    pub quantity: Option<String>,
}

impl JourneyLine {
    pub fn of(step: &crate::domain::epcis::journey::Step, lang: crate::web::i18n::Lang) -> Self {
        JourneyLine {
            what: match lang {
                crate::web::i18n::Lang::Vi => step.kind.label_vi(),
                crate::web::i18n::Lang::En => step.kind.label_en(),
            },
            date: Day(step.at.date_naive()).to_string(),
            iso: step.at.format("%Y-%m-%d").to_string(),
            place: step.place.clone(),
            province: step.province.clone(),
            quantity: step.quantity.clone(),
        }
    }
}

/// The banner of a verdict: (css class, title, body, whether to list what to do).
pub fn banner(
    kind: VerdictKind,
    s: &'static ScanTexts,
) -> (&'static str, &'static str, &'static str, bool) {
    match kind {
        VerdictKind::Genuine => ("ok", s.genuine_title, s.genuine_body, false),
        VerdictKind::NotActivated => ("warn", s.not_activated_title, s.not_activated_body, true),
        VerdictKind::Void => ("bad", s.void_title, s.void_body, true),
        VerdictKind::Recalled => ("bad", s.recalled_title, s.recalled_body, true),
        VerdictKind::NotGenuine => ("bad", s.not_genuine_title, s.not_genuine_body, true),
        VerdictKind::UnknownKey => ("bad", s.unknown_key_title, s.unknown_key_body, true),
        VerdictKind::RevokedKey => ("bad", s.revoked_key_title, s.revoked_key_body, true),
        VerdictKind::Malformed => ("bad", s.malformed_title, s.malformed_body, true),
    }
}

/// schema.org JSON-LD: an `IndividualProduct` for a serialised label (a `Product` for a
/// product page), with its certifications, manufacturer and GS1 Digital Link.
pub fn json_ld(
    product: &Product,
    producer: Option<&Organization>,
    certs: &[Certification],
    digital_link: Option<&str>,
    serial: Option<&str>,
    image: Option<&str>,
) -> String {
    let doc = LdProduct {
        context: "https://schema.org",
        kind: if serial.is_some() {
            "IndividualProduct"
        } else {
            "Product"
        },
        name: &product.data.name,
        category: &product.data.category,
        gtin14: product.data.gtin.map(|g| g.as_gtin14()),
        serial_number: serial,
        digital_link,
        image,
        manufacturer: producer.map(|o| LdOrganization {
            kind: "Organization",
            name: &o.data.name,
            address: Some(LdAddress {
                kind: "PostalAddress",
                street: o.data.address.as_deref(),
                region: o.data.province.name,
                country: "VN",
            }),
        }),
        certifications: certs
            .iter()
            .map(|c| LdCertification {
                kind: "Certification",
                name: c.data.kind.label(),
                identification: &c.data.number,
                issued_by: LdOrganization {
                    kind: "Organization",
                    name: &c.issuer_name,
                    address: None,
                },
                valid_from: c.data.issued_on,
                expires: c.data.valid_until,
                status: c.status.as_str(),
            })
            .collect(),
    };
    script_json(&doc)
}

/// `value` as JSON safe inside an HTML `<script>` element: `<`, `>` and `&` are written as
/// `\u003c`, `\u003e` and `\u0026`, so that no text (`</script>`, `<!--<script`) can end the
/// element or switch the parser into a state that swallows the rest of the page; U+2028
/// and U+2029 are escaped for readers that take the JSON as JavaScript.
pub fn script_json(value: &impl Serialize) -> String {
    // Serializing the page's own shapes cannot fail.
    let json = serde_json::to_string(value).unwrap_or_default();
    // Most pages hold none of them: looked for with memchr's SIMD search (a char-by-char
    // search cost 11,000 instructions a scan page).
    let bytes = json.as_bytes();
    let line_separator = memchr::memmem::find(bytes, "\u{2028}".as_bytes()).is_some()
        || memchr::memmem::find(bytes, "\u{2029}".as_bytes()).is_some();
    if memchr::memchr3(b'<', b'>', b'&', bytes).is_none() && !line_separator {
        return json;
    }
    let special = |c: char| matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}');
    let mut out = String::with_capacity(json.len() + 32);
    let mut copied = 0;
    for (at, c) in json.match_indices(special) {
        out.push_str(&json[copied..at]);
        out.push_str(match c {
            "<" => "\\u003c",
            ">" => "\\u003e",
            "&" => "\\u0026",
            "\u{2028}" => "\\u2028",
            _ => "\\u2029",
        });
        copied = at + c.len();
    }
    out.push_str(&json[copied..]);
    out
}

// schema.org's shapes, as far as the page describes them.

#[derive(Serialize)]
struct LdProduct<'a> {
    #[serde(rename = "@context")]
    context: &'static str,
    #[serde(rename = "@type")]
    kind: &'static str,
    name: &'a str,
    category: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    gtin14: Option<String>,
    #[serde(rename = "serialNumber", skip_serializing_if = "Option::is_none")]
    serial_number: Option<&'a str>,
    #[serde(rename = "hasGS1DigitalLink", skip_serializing_if = "Option::is_none")]
    digital_link: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    manufacturer: Option<LdOrganization<'a>>,
    #[serde(rename = "hasCertification", skip_serializing_if = "Vec::is_empty")]
    certifications: Vec<LdCertification<'a>>,
}

#[derive(Serialize)]
struct LdOrganization<'a> {
    #[serde(rename = "@type")]
    kind: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<LdAddress<'a>>,
}

#[derive(Serialize)]
struct LdAddress<'a> {
    #[serde(rename = "@type")]
    kind: &'static str,
    #[serde(rename = "streetAddress", skip_serializing_if = "Option::is_none")]
    street: Option<&'a str>,
    #[serde(rename = "addressRegion")]
    region: &'a str,
    #[serde(rename = "addressCountry")]
    country: &'static str,
}

#[derive(Serialize)]
struct LdCertification<'a> {
    #[serde(rename = "@type")]
    kind: &'static str,
    name: &'a str,
    #[serde(rename = "certificationIdentification")]
    identification: &'a str,
    #[serde(rename = "issuedBy")]
    issued_by: LdOrganization<'a>,
    #[serde(rename = "validFrom")]
    valid_from: NaiveDate,
    expires: NaiveDate,
    #[serde(rename = "certificationStatus")]
    status: &'a str,
}

#[cfg(test)]
mod tests {
    use super::script_json;

    #[test]
    fn json_in_a_script_element_cannot_end_it() {
        let json = script_json(&"HTX <!--<script> </script> & \u{2028}");
        assert_eq!(
            json,
            "\"HTX \\u003c!--\\u003cscript\\u003e \\u003c/script\\u003e \\u0026 \\u2028\""
        );
        let back: String = serde_json::from_str(&json).unwrap();
        assert_eq!(back, "HTX <!--<script> </script> & \u{2028}");
    }
}
