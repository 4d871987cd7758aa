//! Label URIs: the GS1 form `BASE/01/{gtin14}[/10/{lot}]/21/{serial}[?8030={sig}]` and the
//! short form `BASE/T/{SERIAL}[/{sig}]`, where `sig` is 86 base64url characters.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::serial::{Serial, SerialError};
use crate::domain::gs1::{self, DigitalLink, DigitalLinkError};
use crate::domain::gtin::Gtin;

/// An Ed25519 signature (64 bytes); written as 86 base64url characters without padding.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl Signature {
    /// Parses 86 base64url characters.
    pub fn parse(text: &str) -> Result<Self, LabelUriError> {
        if text.len() != 86 {
            return Err(LabelUriError::Signature);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| LabelUriError::Signature)?;
        bytes
            .try_into()
            .map(Signature)
            .map_err(|_| LabelUriError::Signature)
    }

    /// Appends the 86 base64url characters to `out`.
    pub fn write_base64url(&self, out: &mut String) {
        URL_SAFE_NO_PAD.encode_string(self.0, out);
    }

    /// The 86 base64url characters.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", self.to_base64url())
    }
}

/// Why a URI is not a truyxuat label URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelUriError {
    #[error("{0}")]
    DigitalLink(#[from] DigitalLinkError),
    #[error("the serial is not valid: {0}")]
    Serial(#[from] SerialError),
    #[error("the URI has no serial: a label URI ends in /21/{{serial}} or /T/{{serial}}")]
    NoSerial,
    #[error("AI 22 (CPV) is not used on truyxuat labels")]
    CpvNotUsed,
    #[error("the signature is not 86 base64url characters (64 bytes)")]
    Signature,
    #[error("a lot can only be written in a GS1 URI, which needs a GTIN")]
    LotWithoutGtin,
    #[error("the base URL must be http(s)://host[/prefix] with no query: {0}")]
    BaseUrl(String),
}

/// Which URI form a label uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelForm {
    /// `BASE/01/{gtin14}[/10/{lot}]/21/{serial}`
    Gs1,
    /// `BASE/T/{SERIAL}`
    Short,
}

/// The service's base URL for label URIs, e.g. `https://truyxuat.example.vn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelBase {
    gs1_stem: String,
    short_stem: String,
}

impl LabelBase {
    /// Parses `http(s)://host[/prefix]`, trailing slash optional. The GS1 form keeps it as
    /// given (scheme and host lower-cased); the short form upper-cases scheme and host so
    /// that the whole URI fits the QR alphanumeric mode (a path prefix keeps its case).
    pub fn parse(url: &str) -> Result<Self, LabelUriError> {
        let bad = || LabelUriError::BaseUrl(url.to_owned());
        let (scheme, host, rest) = gs1::split_scheme_host(url).map_err(|_| bad())?;
        if rest.contains(['?', '#']) {
            return Err(bad());
        }
        let prefix = rest.trim_end_matches('/');
        let scheme = scheme.to_ascii_lowercase();
        let host = host.to_ascii_lowercase();
        Ok(LabelBase {
            gs1_stem: format!("{scheme}{host}{prefix}"),
            short_stem: format!(
                "{}{}{prefix}",
                scheme.to_ascii_uppercase(),
                host.to_ascii_uppercase()
            ),
        })
    }

    /// The stem of GS1-form URIs, e.g. `https://truyxuat.example.vn`.
    pub fn gs1_stem(&self) -> &str {
        &self.gs1_stem
    }

    /// The stem of short-form URIs, e.g. `HTTPS://TRUYXUAT.EXAMPLE.VN`.
    pub fn short_stem(&self) -> &str {
        &self.short_stem
    }
}

/// The parts of a label URI, as read (not yet verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelUri {
    /// GS1 or short form.
    pub form: LabelForm,
    /// Scheme, host and path prefix as they appear in the URI.
    pub stem: String,
    /// AI 01 (GS1 form only).
    pub gtin: Option<Gtin>,
    /// AI 10 (GS1 form only).
    pub lot: Option<String>,
    /// The serial, canonical.
    pub serial: Serial,
    /// The offline signature, if the URI carries one.
    pub signature: Option<Signature>,
}

impl LabelUri {
    /// Parses either form. Scheme and host may be in any case the GS1 parser accepts; the
    /// `T` segment and the serial may be in any case; the signature is case-sensitive.
    /// Query attributes other than AI 8030 (e.g. AI 17, `linkType`) are ignored: they are
    /// not covered by any proof.
    pub fn parse(uri: &str) -> Result<Self, LabelUriError> {
        match DigitalLink::parse(uri) {
            Ok(link) => Self::from_digital_link(link),
            Err(DigitalLinkError::NoPrimaryKey) => Self::parse_short(uri),
            Err(e) => Err(e.into()),
        }
    }

    fn from_digital_link(link: DigitalLink) -> Result<Self, LabelUriError> {
        if link.cpv.is_some() {
            return Err(LabelUriError::CpvNotUsed);
        }
        let serial = Serial::parse(link.serial.as_deref().ok_or(LabelUriError::NoSerial)?)?;
        let signature = link.attribute("8030").map(Signature::parse).transpose()?;
        Ok(LabelUri {
            form: LabelForm::Gs1,
            stem: link.stem,
            gtin: Some(link.gtin),
            lot: link.lot,
            serial,
            signature,
        })
    }

    fn parse_short(uri: &str) -> Result<Self, LabelUriError> {
        let uri = uri.split('#').next().unwrap_or(uri);
        let (scheme, host, rest) = gs1::split_scheme_host(uri)?;
        let path = rest.split('?').next().unwrap_or(rest);
        let segs = gs1::path_segments(path);
        let n = segs.len();
        let is_t = |i: usize| segs.get(i).is_some_and(|s| s.eq_ignore_ascii_case("t"));
        let (t, signature) = if n >= 2 && is_t(n - 2) {
            (n - 2, None)
        } else if n >= 3 && is_t(n - 3) {
            (n - 3, Some(Signature::parse(segs[n - 1])?))
        } else {
            return Err(LabelUriError::NoSerial);
        };
        let mut stem = format!("{scheme}{host}");
        for seg in &segs[..t] {
            stem.push('/');
            stem.push_str(seg);
        }
        Ok(LabelUri {
            form: LabelForm::Short,
            stem,
            gtin: None,
            lot: None,
            serial: Serial::parse(segs[t + 1])?,
            signature,
        })
    }
}

/// Appends a label URI to `out`: the GS1 form when `gtin14` is given, else the short form.
/// `gtin14` must be the 14 digits of a checked GTIN and `lot` a checked AI 10 value (see
/// [`label_uri`] for the checking variant); this is the allocation-free path for minting.
pub fn write_label_uri(
    base: &LabelBase,
    gtin14: Option<&str>,
    lot: Option<&str>,
    serial: &Serial,
    signature: Option<&Signature>,
    out: &mut String,
) {
    match gtin14 {
        Some(gtin14) => {
            out.push_str(&base.gs1_stem);
            out.push_str("/01/");
            out.push_str(gtin14);
            if let Some(lot) = lot {
                out.push_str("/10/");
                gs1::percent_encode_into(lot, out);
            }
            out.push_str("/21/");
            out.push_str(serial.as_str());
            if let Some(sig) = signature {
                out.push_str("?8030=");
                sig.write_base64url(out);
            }
        }
        None => {
            out.push_str(&base.short_stem);
            out.push_str("/T/");
            out.push_str(serial.as_str());
            if let Some(sig) = signature {
                out.push('/');
                sig.write_base64url(out);
            }
        }
    }
}

/// The label URI for these parts, checking that a lot is a valid AI 10 value and only
/// comes with a GTIN.
pub fn label_uri(
    base: &LabelBase,
    gtin: Option<&Gtin>,
    lot: Option<&str>,
    serial: &Serial,
    signature: Option<&Signature>,
) -> Result<String, LabelUriError> {
    if let Some(lot) = lot {
        if gtin.is_none() {
            return Err(LabelUriError::LotWithoutGtin);
        }
        gs1::check_qualifier("10", lot)?;
    }
    let gtin14 = gtin.map(Gtin::as_gtin14);
    let mut out = String::with_capacity(base.gs1_stem.len() + 160);
    write_label_uri(base, gtin14.as_deref(), lot, serial, signature, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serial() -> Serial {
        Serial::parse("3ABCDEFGHJKMNPQRSTVW").unwrap()
    }

    #[test]
    fn builds_and_reads_both_forms() {
        let base = LabelBase::parse("https://TruyXuat.example.vn/").unwrap();
        let gtin = Gtin::parse("8934588012112").unwrap();
        let sig = Signature([7u8; 64]);

        let short = label_uri(&base, None, None, &serial(), None).unwrap();
        assert_eq!(short, "HTTPS://TRUYXUAT.EXAMPLE.VN/T/3ABCDEFGHJKMNPQRSTVW");
        let parsed = LabelUri::parse(&short.to_lowercase()).unwrap();
        assert_eq!((parsed.form, parsed.serial), (LabelForm::Short, serial()));

        let gs1 = label_uri(&base, Some(&gtin), Some("L 1"), &serial(), Some(&sig));
        assert!(gs1.is_err(), "a space is not a valid lot character");
        let gs1 = label_uri(&base, Some(&gtin), Some("L/1"), &serial(), Some(&sig)).unwrap();
        assert_eq!(
            gs1,
            format!(
                "https://truyxuat.example.vn/01/08934588012112/10/L%2F1/21/3ABCDEFGHJKMNPQRSTVW?8030={}",
                sig.to_base64url()
            )
        );
        let parsed = LabelUri::parse(&gs1).unwrap();
        assert_eq!(parsed.gtin, Some(gtin));
        assert_eq!(parsed.lot.as_deref(), Some("L/1"));
        assert_eq!(parsed.signature, Some(sig));

        let short_signed = label_uri(&base, None, None, &serial(), Some(&sig)).unwrap();
        assert_eq!(LabelUri::parse(&short_signed).unwrap().signature, Some(sig));
    }

    #[test]
    fn refuses_what_is_not_a_label() {
        assert_eq!(
            LabelUri::parse("https://a/01/08934588012112"),
            Err(LabelUriError::NoSerial)
        );
        assert_eq!(
            LabelUri::parse("https://a/x/y"),
            Err(LabelUriError::NoSerial)
        );
        assert_eq!(
            LabelUri::parse("https://a/T/3ABCDEFGHJKMNPQRSTVW/short"),
            Err(LabelUriError::Signature)
        );
        assert!(matches!(
            LabelUri::parse("https://a/T/ABC"),
            Err(LabelUriError::Serial(SerialError::Length(3)))
        ));
        assert_eq!(
            label_uri(
                &LabelBase::parse("https://a").unwrap(),
                None,
                Some("L1"),
                &serial(),
                None
            ),
            Err(LabelUriError::LotWithoutGtin)
        );
    }
}
