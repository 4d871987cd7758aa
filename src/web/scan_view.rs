//! The public scan page as a shopper sees it: the verdict first, then the product, its
//! producer, origin and certification chain. Small enough to arrive in one round trip
//! (CSS inlined, no script, system fonts).

use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::i18n::{Lang, ScanTexts, Texts};
use crate::domain::certification::{CertStatus, Certification};
use crate::domain::lot::Lot;
use crate::domain::organization::Organization;
use crate::domain::product::Product;
use crate::domain::scan::ScanSummary;
use crate::labelling::VerdictKind;

/// The page's stylesheet, inlined so that the first response is the whole page.
pub const CSS: &str = include_str!("../../assets/scan.css");

/// The Content-Security-Policy of the scan page: the inline stylesheet by its hash.
pub fn content_security_policy() -> String {
    use base64::Engine;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
    format!(
        "default-src 'none'; img-src 'self' https: data:; style-src 'sha256-{hash}'; \
         form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
}

/// A certificate as the page shows it.
pub struct CertLine {
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

fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%d/%m/%Y").to_string()
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
    let verified = match (c.status, &c.status_changed_by, c.status_changed_at) {
        (CertStatus::Verified, Some(by), Some(at)) => Some(format!("{by}, {} {}", s.on, when(at))),
        _ => None,
    };
    CertLine {
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
    pub title: String,
    pub description: String,
    pub verdict_class: &'static str,
    pub banner_title: &'static str,
    pub banner_body: &'static str,
    pub recalled: bool,
    pub recall_reason: Option<String>,
    pub show_steps: bool,
    pub scans: Option<ScanSummary>,
    pub first_scanned: Option<String>,
    pub copy_warning: bool,
    pub product: Option<Product>,
    pub producer: Option<Organization>,
    pub lot: Option<Lot>,
    pub certs: Vec<CertLine>,
    pub serial: Option<String>,
    pub report_action: Option<String>,
    pub reported: bool,
    pub json_ld: String,
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
) -> String {
    let mut doc = json!({
        "@context": "https://schema.org",
        "@type": if serial.is_some() { "IndividualProduct" } else { "Product" },
        "name": product.data.name,
        "category": product.data.category,
    });
    if let Some(g) = product.data.gtin {
        doc["gtin14"] = json!(g.as_gtin14());
    }
    if let Some(s) = serial {
        doc["serialNumber"] = json!(s);
    }
    if let Some(link) = digital_link {
        doc["hasGS1DigitalLink"] = json!(link);
    }
    if let Some(photo) = &product.data.photo_url {
        doc["image"] = json!(photo);
    }
    if let Some(o) = producer {
        doc["manufacturer"] = json!({
            "@type": "Organization",
            "name": o.data.name,
            "address": { "@type": "PostalAddress", "streetAddress": o.data.address, "addressRegion": o.data.province.name, "addressCountry": "VN" },
        });
    }
    let certifications: Vec<_> = certs
        .iter()
        .map(|c| {
            json!({
                "@type": "Certification",
                "name": c.data.kind.label(),
                "certificationIdentification": c.data.number,
                "issuedBy": { "@type": "Organization", "name": c.issuer_name },
                "validFrom": c.data.issued_on.to_string(),
                "expires": c.data.valid_until.to_string(),
                "certificationStatus": c.status.as_str(),
            })
        })
        .collect();
    if !certifications.is_empty() {
        doc["hasCertification"] = json!(certifications);
    }
    // "</" inside a script element would end it early.
    doc.to_string().replace("</", "<\\/")
}
