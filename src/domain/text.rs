//! Vietnamese text: NFC normalisation for storage, the characters no typed text may hold,
//! and a folded form for search that ignores diacritics and case ("gao nang thom" finds
//! "Gạo Nàng Thơm").
//!
//! Every text a person types is hostile until checked: a NUL cannot be stored by
//! PostgreSQL, an escape sequence repaints the terminal of whoever lists the products, a
//! bidi override shows a certificate number reversed, a line separator splits a one-line
//! field. Such characters are refused (`forbidden_char`), never silently kept.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Invisible characters that only make two equal-looking names differ (zero-width space,
/// non-joiner and joiner, word joiner, byte-order mark): dropped from stored text and from
/// search, so that what a person sees is what is stored and found.
pub fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Bidirectional formatting: marks, embeddings, overrides and isolates. Vietnamese never
/// needs them, and they can show `VG-2025-1420` as `VG-2025-0241`.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Line and paragraph breaks other than a plain line feed.
fn is_line_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{2028}' | '\u{2029}')
}

/// The first character of `text` that a field may not hold, if any: C0 and C1 controls
/// (NUL, ESC, CSI...), DEL, bidi controls, and line breaks in a one-line field. Tabs are
/// ordinary white space; a multi-line field also takes line breaks.
pub fn forbidden_char(text: &str, multiline: bool) -> Option<char> {
    text.chars().find(|&c| {
        if c == '\t' || (multiline && is_line_break(c)) {
            return false;
        }
        c.is_control() || is_bidi_control(c) || is_line_break(c)
    })
}

/// A refusal for a field holding `c`, in words for the person who typed it.
pub fn forbidden_message(c: char) -> String {
    let what = if is_line_break(c) {
        "a line break"
    } else if is_bidi_control(c) {
        "a bidirectional formatting character"
    } else {
        "a control character"
    };
    format!(
        "must not contain {what} (U+{:04X}); type it again as plain text",
        c as u32
    )
}

/// The NFC form of `s` with surrounding white space trimmed, inner runs collapsed and
/// zero-width characters dropped, as one-line names are stored: the same name typed on two
/// keyboards becomes the same bytes.
pub fn clean(s: &str) -> String {
    let nfc: String = s.nfc().filter(|c| !is_zero_width(*c)).collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `clean` for a multi-line text (a description, a report): line breaks are kept as `\n`,
/// each line is cleaned, and blank lines at either end are dropped.
pub fn clean_multiline(s: &str) -> String {
    let unified = s
        .replace("\r\n", "\n")
        .replace(['\r', '\u{2028}', '\u{2029}'], "\n");
    let lines: Vec<String> = unified.split('\n').map(clean).collect();
    let first = lines.iter().position(|l| !l.is_empty());
    let last = lines.iter().rposition(|l| !l.is_empty());
    match (first, last) {
        (Some(first), Some(last)) => lines[first..=last].join("\n"),
        _ => String::new(),
    }
}

/// Lower case, without diacritics, đ as d, and without controls or invisible characters:
/// the form the search index holds and searches are made of.
pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| {
            if c.is_control() || is_bidi_control(c) || is_line_break(c) {
                ' '
            } else {
                c
            }
        })
        .filter(|c| !is_zero_width(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The folded words of a search query, at most `max` of them (controls and NUL are
/// stripped, so a search never sends them to the database).
pub fn search_terms(query: &str, max: usize) -> Vec<String> {
    fold(query)
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(max)
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_vietnamese_to_plain_lower_case() {
        assert_eq!(fold("Gạo Nàng Thơm Chợ Đào"), "gao nang thom cho dao");
        assert_eq!(fold("ĐẶC SẢN  Hưng Yên"), "dac san hung yen");
    }

    #[test]
    fn decomposed_input_is_stored_composed() {
        let decomposed = "Ga\u{0323}o"; // "Gạo" typed as a + combining dot below
        assert_eq!(clean(decomposed), "Gạo");
        assert_eq!(clean("  Gạo   Nàng\tThơm "), "Gạo Nàng Thơm");
    }

    #[test]
    fn search_terms_are_folded_words() {
        assert_eq!(search_terms(" Gạo  nàng ", 8), vec!["gao", "nang"]);
        assert_eq!(search_terms("Nul\0byte\u{202E}", 8), vec!["nul", "byte"]);
        assert!(search_terms("\0", 8).is_empty());
    }

    #[test]
    fn controls_bidi_and_line_breaks_are_found() {
        assert_eq!(forbidden_char("Nul\0byte", false), Some('\0'));
        assert_eq!(forbidden_char("Evil\x1b[2J", true), Some('\x1b'));
        assert_eq!(forbidden_char("C1\u{9b}control", false), Some('\u{9b}'));
        assert_eq!(
            forbidden_char("VG-2025-\u{202E}1420", false),
            Some('\u{202E}')
        );
        assert_eq!(forbidden_char("Name\r\nSet-Cookie", false), Some('\r'));
        assert_eq!(forbidden_char("Line\u{2028}Para", false), Some('\u{2028}'));
        assert_eq!(forbidden_char("Dòng 1\n\tDòng 2", true), None);
        assert_eq!(forbidden_char("Cà phê 'Cầu Đất' & <b>", false), None);
        assert_eq!(forbidden_char("Mật ong 🍯🐝", false), None);
    }

    #[test]
    fn zero_width_characters_are_dropped_everywhere() {
        assert_eq!(clean("Ch\u{200b}è O\u{200d}Long"), "Chè OLong");
        assert_eq!(fold("Ch\u{200b}è O\u{200d}Long"), "che olong");
    }

    #[test]
    fn multi_line_text_keeps_its_lines() {
        assert_eq!(
            clean_multiline("\n Dòng 1 \r\n\tDòng  2\u{2028}3\n\n"),
            "Dòng 1\nDòng 2\n3"
        );
        assert_eq!(clean_multiline(" \n \u{a0} "), "");
    }
}
