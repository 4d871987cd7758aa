//! Text for a terminal: stored names are shown as typed, but a control character (ESC, CSI,
//! BEL...) or a bidi override in them could repaint the operator's terminal or reverse what
//! it shows, so such characters are printed as `\u{…}` escapes instead.

use std::borrow::Cow;

use crate::domain::text::is_bidi_control;

fn unsafe_char(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `text` with every control, bidi and line-separator character written as `\u{XXXX}`.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:04X}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `safe` for a multi-line message: its line breaks are kept.
pub fn safe_lines(text: &str) -> String {
    text.split('\n').map(safe).collect::<Vec<_>>().join("\n")
}

/// JSON made by serde_json for a terminal: serde escapes C0 controls inside strings, but not
/// DEL, C1 controls or bidi characters; those are escaped here as `\uXXXX` (they can only
/// stand inside strings, so the JSON stays the same value).
pub fn safe_json(json: String) -> String {
    let outside_c0 = |c: char| unsafe_char(c) && u32::from(c) >= 0x20;
    if !json.chars().any(outside_c0) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if outside_c0(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_output_holds_no_control_character() {
        assert_eq!(safe("Chè Ô Long 🍵"), "Chè Ô Long 🍵");
        assert_eq!(
            safe("Evil\x1b[2J\u{9b}1m\u{202E}X"),
            "Evil\\u{001B}[2J\\u{009B}1m\\u{202E}X"
        );
        assert_eq!(safe_lines("a\nb\x07"), "a\nb\\u{0007}");
        let json =
            serde_json::to_string_pretty(&serde_json::json!({"n": "a\x1b\u{9b}\u{202e}"})).unwrap();
        let safe = safe_json(json);
        assert!(!safe.chars().any(|c| c.is_control() && c != '\n'), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["n"], "a\x1b\u{9b}\u{202e}");
    }
}
