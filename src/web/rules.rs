//! Validation refusals in the reader's language: the domain gives a rule and its argument,
//! the pages put it into words. Refusals the domain words itself stay in its English.

use std::borrow::Cow;

use super::i18n::Lang;
use crate::domain::validation::{FieldError, Rule};

/// What to show beside a refused field.
pub fn words(lang: Lang, error: &FieldError) -> Cow<'_, str> {
    let argument = error.argument.as_deref().unwrap_or_default();
    match (lang, error.code) {
        (Lang::En, _) | (_, Rule::Invalid) => Cow::Borrowed(&error.message),
        (Lang::Vi, Rule::Required) => "Không được để trống".into(),
        (Lang::Vi, Rule::TooLong) => format!("Tối đa {argument} ký tự").into(),
        (Lang::Vi, Rule::ForbiddenCharacter) => format!(
            "Có ký tự điều khiển hoặc ký tự đổi chiều văn bản ({argument}); \
             hãy gõ lại bằng văn bản thường"
        )
        .into(),
        (Lang::Vi, Rule::Choose) => "Hãy chọn một mục trong danh sách".into(),
        (Lang::Vi, Rule::NotADate) => {
            format!("'{argument}' không phải là ngày (gõ 2026-03-31 hoặc 31/03/2026)").into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validation::Validator;

    fn refusal(check: impl FnOnce(&mut Validator)) -> FieldError {
        let mut v = Validator::default();
        check(&mut v);
        v.finish().unwrap_err().errors.remove(0)
    }

    #[test]
    fn shared_rules_read_in_vietnamese_and_english() {
        let empty = refusal(|v| {
            v.text("name", "  ", 10);
        });
        assert_eq!(words(Lang::Vi, &empty), "Không được để trống");
        assert_eq!(words(Lang::En, &empty), "must not be empty");
        let long = refusal(|v| {
            v.text("name", "Chè Thái Nguyên", 5);
        });
        assert_eq!(words(Lang::Vi, &long), "Tối đa 5 ký tự");
        let bidi = refusal(|v| {
            v.text("number", "VG\u{202E}123", 50);
        });
        assert!(words(Lang::Vi, &bidi).contains("(U+202E)"));
        let date = refusal(|v| {
            v.date("issued_on", "31-31-2026");
        });
        assert!(words(Lang::Vi, &date).starts_with("'31-31-2026' không phải là ngày"));
        let own = refusal(|v| v.refuse("ocop_stars", "an OCOP rating has 3 to 5 stars"));
        assert_eq!(words(Lang::Vi, &own), "an OCOP rating has 3 to 5 stars");
    }
}
