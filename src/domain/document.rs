//! Evidence documents (a certificate's scan or PDF): which formats are taken, judged by
//! their content, not by the type a client declares.

use super::validation::{Refusal, Rule};

/// The media types an evidence document may have: inert formats only, since a stored HTML
/// or SVG file would run script on this site.
pub const DOCUMENT_TYPES: [&str; 4] = ["application/pdf", "image/jpeg", "image/png", "image/webp"];

/// Whether `s` can name a document: a SHA-256 as 64 hex digits.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The media type of `content` by its first bytes (its "magic number"), if it is one of
/// [`DOCUMENT_TYPES`].
pub fn sniff(content: &[u8]) -> Option<&'static str> {
    if content.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if content.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if content.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if content.len() >= 12 && &content[..4] == b"RIFF" && &content[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Checks that `content` is a document of the `declared` type; the refusal says why.
pub fn check(declared: &str, content: &[u8]) -> Result<&'static str, Refusal> {
    let refused = |message: String| Refusal::new(Rule::DocumentType, None, message);
    let Some(declared) = DOCUMENT_TYPES.iter().find(|t| **t == declared) else {
        return Err(refused(format!(
            "must be one of {}",
            DOCUMENT_TYPES.join(", ")
        )));
    };
    match sniff(content) {
        Some(found) if found == *declared => Ok(declared),
        Some(found) => Err(refused(format!("the file is {found}, not {declared}"))),
        None => Err(refused(format!(
            "the file is not {declared}: its content is none of {}",
            DOCUMENT_TYPES.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_must_be_what_the_type_says() {
        assert_eq!(
            check("application/pdf", b"%PDF-1.7 scan"),
            Ok("application/pdf")
        );
        assert_eq!(
            check("image/png", b"\x89PNG\r\n\x1a\n...."),
            Ok("image/png")
        );
        assert_eq!(
            check("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0]),
            Ok("image/jpeg")
        );
        assert_eq!(
            check("image/webp", b"RIFF\0\0\0\0WEBPVP8 "),
            Ok("image/webp")
        );
        assert!(check("image/png", b"<html><script>alert(1)</script>").is_err());
        assert!(
            check("image/png", b"%PDF-1.7")
                .unwrap_err()
                .message
                .contains("application/pdf")
        );
        assert!(check("text/html", b"<html>").is_err());
    }
}
