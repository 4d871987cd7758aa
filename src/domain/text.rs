//! Vietnamese text: NFC normalisation for storage, and a folded form for search that
//! ignores diacritics and case ("gao nang thom" finds "Gạo Nàng Thơm").

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The NFC form of `s` with surrounding white space trimmed and inner runs collapsed, as
/// names are stored: the same name typed on two keyboards becomes the same bytes.
pub fn clean(s: &str) -> String {
    let nfc: String = s.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lower case, without diacritics, đ as d: the form the search index holds.
pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The folded words of a search query, at most `max` of them.
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
    }
}
