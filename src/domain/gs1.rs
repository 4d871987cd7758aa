//! GS1 Digital Link URIs with a GTIN (AI 01) primary key.
//!
//! The subset truyxuat reads and writes (GS1 Digital Link URI Syntax 1.4):
//!
//! ```text
//! http(s)://HOST[/any/prefix]/01/{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}][/][?query][#fragment]
//! ```
//!
//! - the GTIN is checked (mod-10); GTIN-8/12/13 are padded to GTIN-14;
//! - key qualifiers 22, 10, 21 are optional but must come in that order, at most once each;
//! - their values use the GS1 AI encodable character set 82, at most 20 characters;
//! - the query string holds data attributes: AI 17 (expiry, YYMMDD) is read as a date, any
//!   other numeric AI (8030, 3103, ...) is kept as a raw string in order; non-numeric
//!   parameters (`linkType`, ...) are kept as "other" parameters;
//! - the scheme may be `https`, `HTTPS`, `http` or `HTTP` (mixed case is refused, as the GS1
//!   Barcode Syntax Engine does); the host is kept as given;
//! - a trailing slash after the path is accepted (the Syntax Engine refuses it; truyxuat is
//!   lenient because people type these URIs by hand).
//!
//! Other primary keys (SSCC 00, GLN 414, ...) are recognised and refused with
//! [`DigitalLinkError::UnsupportedPrimaryKey`] rather than misread.

use std::fmt;

use crate::domain::gtin::{Gtin, GtinError};

/// Longest value of AI 10, 21 and 22 (GS1 General Specifications: X..20).
pub const MAX_QUALIFIER_LEN: usize = 20;

/// Longest value of any AI (GS1 General Specifications: no AI exceeds 90 characters).
const MAX_AI_VALUE_LEN: usize = 90;

/// A parsed GS1 Digital Link URI with a GTIN primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitalLink {
    /// Scheme, host and any path prefix, without a trailing slash, e.g. `https://example.com/p`.
    pub stem: String,
    /// AI 01.
    pub gtin: Gtin,
    /// AI 22, consumer product variant.
    pub cpv: Option<String>,
    /// AI 10, batch or lot number.
    pub lot: Option<String>,
    /// AI 21, serial number.
    pub serial: Option<String>,
    /// AI 17, expiry date as the six digits YYMMDD (DD may be 00, meaning end of month).
    pub expiry: Option<String>,
    /// Other numeric AIs from the query string (e.g. `8030`, `3103`), in the order received.
    pub attributes: Vec<(String, String)>,
    /// Non-numeric query parameters (e.g. `linkType`), decoded, in the order received.
    pub other_params: Vec<(String, String)>,
}

/// Why a string is not a GS1 Digital Link URI truyxuat can read; the message is for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigitalLinkError {
    #[error("a GS1 Digital Link starts with https:// or http://")]
    Scheme,
    #[error("the scheme must be all lower case or all upper case, not '{0}'")]
    MixedCaseScheme(String),
    #[error("the URI has no host name")]
    MissingHost,
    #[error("the host name has a character that is not allowed there: '{0}'")]
    BadHostCharacter(char),
    #[error("no GS1 primary key (such as /01/ and a GTIN) was found in the path")]
    NoPrimaryKey,
    #[error("unsupported primary key: AI {ai} ({name}); truyxuat reads only AI 01 (GTIN)")]
    UnsupportedPrimaryKey { ai: String, name: &'static str },
    #[error("AI 01 (GTIN) must be 8, 12, 13 or 14 digits, not '{0}'")]
    GtinFormat(String),
    #[error("GTIN check digit should be {expected}, not {found}")]
    GtinCheckDigit { expected: u8, found: u8 },
    #[error("AI {ai} ({name}) has no value")]
    EmptyValue { ai: String, name: &'static str },
    #[error("AI {ai} ({name}) has a character outside the GS1 character set: '{ch}'")]
    BadCharacter {
        ai: String,
        name: &'static str,
        ch: char,
    },
    #[error("AI {ai} ({name}) has a percent-encoding that is not valid UTF-8 text")]
    BadPercentEncoding { ai: String, name: &'static str },
    #[error("AI {ai} ({name}) is at most {max} characters, not {len}")]
    TooLong {
        ai: String,
        name: &'static str,
        max: usize,
        len: usize,
    },
    #[error("AI {later} must come after AI {earlier}")]
    OutOfOrder {
        later: &'static str,
        earlier: &'static str,
    },
    #[error("AI {0} appears more than once")]
    Duplicate(String),
    #[error("AI {0} is not a key qualifier of AI 01 that truyxuat reads (only 22, 10 and 21)")]
    UnsupportedQualifier(String),
    #[error("'{0}' is not a GS1 Application Identifier")]
    UnknownAi(String),
    #[error("AI {0} belongs in the path, not in the query string")]
    PathAiInQuery(String),
    #[error("AI 17 (expiry) must be a date written YYMMDD, not '{0}'")]
    BadDate(String),
}

/// GS1 primary keys usable in a Digital Link path, with a short name for error messages.
const PRIMARY_KEYS: &[(&str, &str)] = &[
    ("00", "SSCC"),
    ("01", "GTIN"),
    ("253", "GDTI"),
    ("255", "GCN"),
    ("401", "GINC"),
    ("402", "GSIN"),
    ("414", "GLN"),
    ("417", "party GLN"),
    ("8003", "GRAI"),
    ("8004", "GIAI"),
    ("8006", "ITIP"),
    ("8010", "CPID"),
    ("8013", "GMN"),
    ("8017", "GSRN provider"),
    ("8018", "GSRN recipient"),
];

/// Length of every AI starting with a two-digit prefix (0 = no such AI). From the GS1
/// General Specifications, as tabulated in gs1/gs1-syntax-engine `src/c-lib/ai.c`.
fn ai_length_by_prefix(prefix: u8) -> usize {
    match prefix {
        0..=2 | 10..=13 | 15..=17 | 20..=22 | 30 | 37 | 90..=99 => 2,
        23..=25 | 40..=42 | 71 => 3,
        31..=36 | 39 | 43 | 70 | 72 | 80..=82 => 4,
        _ => 0,
    }
}

/// True if `s` has the shape of a GS1 AI: digits, as many as its prefix requires.
fn is_known_ai(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2
        && b.iter().all(u8::is_ascii_digit)
        && ai_length_by_prefix((b[0] - b'0') * 10 + (b[1] - b'0')) == b.len()
}

fn ai_name(ai: &str) -> &'static str {
    match ai {
        "01" => "GTIN",
        "10" => "lot",
        "17" => "expiry",
        "21" => "serial",
        "22" => "CPV",
        "8030" => "signature",
        _ => "attribute",
    }
}

/// True for the 82 characters of the GS1 AI encodable character set 82.
pub fn is_cset82(c: char) -> bool {
    matches!(c, '!' | '"' | '%'..='?' | 'A'..='Z' | '_' | 'a'..='z')
}

/// Checks a value of a cset-82 AI: non-empty, allowed characters, at most `max` characters.
fn check_cset82(ai: &str, value: &str, max: usize) -> Result<(), DigitalLinkError> {
    let name = ai_name(ai);
    if value.is_empty() {
        return Err(DigitalLinkError::EmptyValue {
            ai: ai.to_owned(),
            name,
        });
    }
    if let Some(ch) = value.chars().find(|c| !is_cset82(*c)) {
        return Err(DigitalLinkError::BadCharacter {
            ai: ai.to_owned(),
            name,
            ch,
        });
    }
    let len = value.chars().count();
    if len > max {
        return Err(DigitalLinkError::TooLong {
            ai: ai.to_owned(),
            name,
            max,
            len,
        });
    }
    Ok(())
}

/// Checks a value for AI 10, 21 or 22 (cset 82, 1 to 20 characters).
pub fn check_qualifier(ai: &str, value: &str) -> Result<(), DigitalLinkError> {
    check_cset82(ai, value, MAX_QUALIFIER_LEN)
}

fn check_yymmdd(value: &str) -> Result<(), DigitalLinkError> {
    let b = value.as_bytes();
    let ok = b.len() == 6 && b.iter().all(u8::is_ascii_digit) && {
        let month = (b[2] - b'0') * 10 + (b[3] - b'0');
        let day = (b[4] - b'0') * 10 + (b[5] - b'0');
        (1..=12).contains(&month) && day <= 31
    };
    if ok {
        Ok(())
    } else {
        Err(DigitalLinkError::BadDate(value.to_owned()))
    }
}

/// Decodes `%XX` escapes (and, in a query, `+` as a space) into UTF-8 text.
/// Returns `None` for invalid UTF-8 or an encoded NUL. A `%` not followed by two hex
/// digits is kept as it is, as the GS1 Barcode Syntax Engine does.
pub fn percent_decode(raw: &str, query: bool) -> Option<String> {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex_val(b[i + 1]), hex_val(b[i + 2])) {
                let byte = h * 16 + l;
                if byte == 0 {
                    return None;
                }
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(if query && c == b'+' { b' ' } else { c });
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Appends `value` percent-encoded: RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`)
/// are kept, every other byte becomes `%XX` (upper-case hex).
pub fn percent_encode_into(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &c in value.as_bytes() {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(c));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(c >> 4)]));
            out.push(char::from(HEX[usize::from(c & 0x0F)]));
        }
    }
}

/// Splits `scheme://host` off a URI; returns (scheme with `://`, host, rest from the first
/// `/`, `?` or `#`).
pub(crate) fn split_scheme_host(uri: &str) -> Result<(&str, &str, &str), DigitalLinkError> {
    let scheme_len = if let Some(pos) = uri.find("://") {
        let scheme = &uri[..pos];
        if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
            return Err(DigitalLinkError::Scheme);
        }
        let lower = scheme.bytes().all(|c| c.is_ascii_lowercase());
        let upper = scheme.bytes().all(|c| c.is_ascii_uppercase());
        if !lower && !upper {
            return Err(DigitalLinkError::MixedCaseScheme(scheme.to_owned()));
        }
        pos + 3
    } else {
        return Err(DigitalLinkError::Scheme);
    };
    let after = &uri[scheme_len..];
    let host_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let host = &after[..host_end];
    if host.is_empty() {
        return Err(DigitalLinkError::MissingHost);
    }
    if let Some(ch) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '[' | ']')))
    {
        return Err(DigitalLinkError::BadHostCharacter(ch));
    }
    Ok((&uri[..scheme_len], host, &after[host_end..]))
}

/// Splits a path (starting with `/`) into segments, dropping one trailing empty segment.
pub(crate) fn path_segments(path: &str) -> Vec<&str> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').collect()
    }
}

fn parse_gtin(raw: &str) -> Result<Gtin, DigitalLinkError> {
    if raw.is_empty() || !raw.bytes().all(|c| c.is_ascii_digit()) {
        return Err(DigitalLinkError::GtinFormat(raw.to_owned()));
    }
    Gtin::parse(raw).map_err(|e| match e {
        GtinError::CheckDigit { expected, found } => {
            DigitalLinkError::GtinCheckDigit { expected, found }
        }
        GtinError::NotDigits | GtinError::Length(_) => DigitalLinkError::GtinFormat(raw.to_owned()),
    })
}

fn decode_value(ai: &str, raw: &str, query: bool) -> Result<String, DigitalLinkError> {
    percent_decode(raw, query).ok_or_else(|| DigitalLinkError::BadPercentEncoding {
        ai: ai.to_owned(),
        name: ai_name(ai),
    })
}

/// Order rank of the key qualifiers of AI 01.
fn qualifier_rank(ai: &str) -> Option<(usize, &'static str)> {
    match ai {
        "22" => Some((0, "22")),
        "10" => Some((1, "10")),
        "21" => Some((2, "21")),
        _ => None,
    }
}

impl DigitalLink {
    /// A Digital Link for `gtin` under `stem` with no qualifiers or attributes.
    pub fn new(stem: impl Into<String>, gtin: Gtin) -> Self {
        DigitalLink {
            stem: stem.into(),
            gtin,
            cpv: None,
            lot: None,
            serial: None,
            expiry: None,
            attributes: Vec::new(),
            other_params: Vec::new(),
        }
    }

    /// Parses a GS1 Digital Link URI (see the module documentation for what is accepted).
    pub fn parse(uri: &str) -> Result<Self, DigitalLinkError> {
        let uri = uri.split('#').next().unwrap_or(uri);
        let (scheme, host, rest) = split_scheme_host(uri)?;
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let segs = path_segments(path);
        let n = segs.len();
        // The primary key is the rightmost primary-key AI followed only by AI/value pairs.
        let pk = (0..n)
            .rev()
            .filter(|i| (n - i) % 2 == 0)
            .find(|&i| PRIMARY_KEYS.iter().any(|(ai, _)| *ai == segs[i]))
            .ok_or(DigitalLinkError::NoPrimaryKey)?;
        if segs[pk] != "01" {
            let (ai, name) = PRIMARY_KEYS
                .iter()
                .find(|(ai, _)| *ai == segs[pk])
                .copied()
                .unwrap_or(("?", "unknown"));
            return Err(DigitalLinkError::UnsupportedPrimaryKey {
                ai: ai.to_owned(),
                name,
            });
        }
        let mut stem = String::with_capacity(scheme.len() + host.len() + 16);
        stem.push_str(scheme);
        stem.push_str(host);
        for seg in &segs[..pk] {
            stem.push('/');
            stem.push_str(seg);
        }
        let gtin_raw = decode_value("01", segs[pk + 1], false)?;
        let mut link = DigitalLink::new(stem, parse_gtin(&gtin_raw)?);

        let mut last: Option<(usize, &'static str)> = None;
        for pair in segs[pk + 2..].chunks(2) {
            let (ai, raw) = (pair[0], pair.get(1).copied().unwrap_or(""));
            let Some((rank, ai_static)) = qualifier_rank(ai) else {
                return Err(if is_known_ai(ai) {
                    DigitalLinkError::UnsupportedQualifier(ai.to_owned())
                } else {
                    DigitalLinkError::UnknownAi(ai.to_owned())
                });
            };
            if let Some((last_rank, last_ai)) = last {
                if rank == last_rank {
                    return Err(DigitalLinkError::Duplicate(ai.to_owned()));
                }
                if rank < last_rank {
                    return Err(DigitalLinkError::OutOfOrder {
                        later: last_ai,
                        earlier: ai_static,
                    });
                }
            }
            last = Some((rank, ai_static));
            let value = decode_value(ai, raw, false)?;
            check_qualifier(ai, &value)?;
            match rank {
                0 => link.cpv = Some(value),
                1 => link.lot = Some(value),
                _ => link.serial = Some(value),
            }
        }
        if let Some(query) = query {
            link.parse_query(query)?;
        }
        Ok(link)
    }

    fn parse_query(&mut self, query: &str) -> Result<(), DigitalLinkError> {
        for param in query.split('&').filter(|p| !p.is_empty()) {
            let (name, raw) = param.split_once('=').unwrap_or((param, ""));
            if !name.bytes().all(|c| c.is_ascii_digit()) || name.is_empty() {
                let name = percent_decode(name, true).unwrap_or_else(|| name.to_owned());
                let value = percent_decode(raw, true).unwrap_or_else(|| raw.to_owned());
                self.other_params.push((name, value));
                continue;
            }
            if !is_known_ai(name) {
                return Err(DigitalLinkError::UnknownAi(name.to_owned()));
            }
            if matches!(name, "01" | "10" | "21" | "22") {
                return Err(DigitalLinkError::PathAiInQuery(name.to_owned()));
            }
            let duplicate = self.attributes.iter().any(|(ai, _)| ai == name)
                || (name == "17" && self.expiry.is_some());
            if duplicate {
                return Err(DigitalLinkError::Duplicate(name.to_owned()));
            }
            let value = decode_value(name, raw, true)?;
            check_cset82(name, &value, MAX_AI_VALUE_LEN)?;
            if name == "17" {
                check_yymmdd(&value)?;
                self.expiry = Some(value);
            } else {
                self.attributes.push((name.to_owned(), value));
            }
        }
        Ok(())
    }

    /// The value of a numeric query attribute such as `"8030"`.
    pub fn attribute(&self, ai: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == ai)
            .map(|(_, v)| v.as_str())
    }

    /// Appends the URI to `out`: path qualifiers in the order 22, 10, 21, then the query
    /// string with AI 17 first, the other AIs in order, then the other parameters.
    pub fn write_uri(&self, out: &mut String) {
        out.push_str(&self.stem);
        out.push_str("/01/");
        out.push_str(&self.gtin.as_gtin14());
        for (ai, value) in [("22", &self.cpv), ("10", &self.lot), ("21", &self.serial)] {
            if let Some(value) = value {
                out.push('/');
                out.push_str(ai);
                out.push('/');
                percent_encode_into(value, out);
            }
        }
        let expiry = self.expiry.iter().map(|v| ("17", v.as_str()));
        let attrs = self
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let others = self
            .other_params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()));
        let mut sep = '?';
        for (name, value) in expiry.chain(attrs).chain(others) {
            out.push(sep);
            sep = '&';
            percent_encode_into(name, out);
            if !value.is_empty() {
                out.push('=');
                percent_encode_into(value, out);
            }
        }
    }

    /// The URI as a string.
    pub fn to_uri(&self) -> String {
        let mut out = String::with_capacity(self.stem.len() + 80);
        self.write_uri(&mut out);
        out
    }
}

impl fmt::Display for DigitalLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_uri())
    }
}

impl std::str::FromStr for DigitalLink {
    type Err = DigitalLinkError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DigitalLink::parse(s)
    }
}

#[cfg(test)]
#[path = "gs1_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "gs1_conformance_tests.rs"]
mod conformance_tests;
