//! Field-level validation errors, collected so that a person sees every mistake at once.

use std::fmt;

use serde::Serialize;

/// One refused field: which one, and why: a rule (with its argument) that each edge puts
/// into words in its reader's language, and the same in English words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: Rule,
    /// The rule's argument (a length, a character's code point), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argument: Option<String>,
    pub message: String,
}

/// Why a field was refused, for the edges to word. Every refusal a cooperative or an
/// inspector can meet in the console has its own code; `invalid` is left for what only an
/// operator or an integration meets (bundle keys, signing keys, idempotency keys), worded
/// by the domain in English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Invalid,
    /// Empty where a value is needed.
    Required,
    /// Longer than its argument in characters.
    TooLong,
    /// Holds a control, bidi or line-break character (its code point is the argument).
    ForbiddenCharacter,
    /// Nothing chosen in a list.
    Choose,
    /// Not a date (the text is the argument).
    NotADate,
    /// Not one of a list's entries (the text is the argument).
    NotInList,
    /// Not a time of day (the text is the argument).
    NotATime,
    /// Later than now.
    InFuture,
    /// Not a number (the text is the argument).
    NotANumber,
    /// Below zero.
    Negative,
    /// Outside the range its argument gives, as "1–366".
    OutOfRange,
    /// An OCOP rating without 3 to 5 stars.
    OcopStars,
    /// Stars on a certificate other than OCOP.
    StarsOnlyForOcop,
    /// A certificate valid until no later than it was issued.
    NotAfterIssue,
    /// A certificate valid for longer than its kind allows (the months are the argument).
    LongestValidity,
    /// A lot expiring before it was made.
    BeforeProduction,
    /// A GTIN with something else than digits.
    GtinDigits,
    /// A GTIN of a length other than 8, 12, 13 or 14 (the length is the argument).
    GtinLength,
    /// A GTIN whose check digit is wrong (the right one is the argument).
    GtinCheckDigit,
    /// A lot code with a character outside GS1's set (the character is the argument).
    LotCodeCharacter,
    /// Not an SHA-256 (64 hex digits).
    NotSha256,
    /// No stored document has this SHA-256.
    NoSuchDocument,
    /// Not an e-mail address.
    Email,
    /// Not a phone number (a login that is neither).
    Phone,
    /// A password shorter than its argument.
    PasswordTooShort,
    /// A password equal to the login.
    PasswordIsLogin,
    /// A photo address neither http(s) nor a path on this site.
    PhotoAddress,
    /// Another record already has this value (which one the field tells).
    Taken,
    /// No record is named so (what was named is the argument).
    NotFound,
    /// An organization that is not a producer where one is needed.
    NotAProducer,
    /// An organization that is not an authority where one is needed.
    NotAnAuthority,
    /// A product of another producer.
    OtherProducersProduct,
    /// Printed labels carry the value, so it cannot change (their batches are the argument).
    PrintedOnLabels,
    /// A status that cannot follow the present one.
    StatusMove,
    /// The same as an earlier row of the file (its number is the argument).
    DuplicateRow,
    /// Names a row of the products sheet that has errors (its number is the argument).
    ProductRowHasErrors,
    /// More than one record has the name given (the name is the argument).
    Ambiguous,
    /// A HEIC/HEIF photo, which cannot be read yet.
    Heic,
    /// A file that is not a JPEG, PNG or WebP photo, or one that cannot be decoded.
    NotAPhoto,
    /// A document that is not a PDF or a photo, or not of the type it says.
    DocumentType,
}

/// Why a value was refused, before it is put against a field: a rule, its argument, and
/// the rule in English words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: Rule,
    pub argument: Option<String>,
    pub message: String,
}

impl Refusal {
    pub fn new(code: Rule, argument: Option<String>, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            argument,
            message: message.into(),
        }
    }

    /// This refusal of `field`.
    pub fn of(self, field: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            code: self.code,
            argument: self.argument,
            message: self.message,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl FieldError {
    /// A refusal the domain words itself.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            code: Rule::Invalid,
            argument: None,
            message: message.into(),
        }
    }
}

/// A refused input: one or more field errors. Nothing is stored when this is returned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct Invalid {
    pub errors: Vec<FieldError>,
}

impl Invalid {
    /// A refusal of a single field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid {
            errors: vec![FieldError::new(field, message)],
        }
    }

    /// A refusal of a single field by a rule.
    pub fn by(field: impl Into<String>, refusal: Refusal) -> Self {
        Invalid {
            errors: vec![refusal.of(field)],
        }
    }

    /// The same errors with `prefix` put before each field name, as in `products[2].gtin`.
    pub fn within(mut self, prefix: &str) -> Self {
        for e in &mut self.errors {
            e.field = format!("{prefix}.{}", e.field);
        }
        self
    }

    /// The message for `field`, if that field was refused.
    pub fn message_for(&self, field: &str) -> Option<&str> {
        self.error_for(field).map(|e| e.message.as_str())
    }

    /// The (first) refusal of `field`, if it was refused.
    pub fn error_for(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

/// A quantity as typed in a form in Vietnam ("1.200,5", "1.200"), or as a phone's keypad
/// gives it ("1200.5"). (A spreadsheet's cells are read otherwise: a number cell 1.125 is
/// text "1.125" there.)
pub fn parse_quantity(typed: &str) -> Result<f64, Refusal> {
    let not_a_number = || Refusal::new(Rule::NotANumber, Some(typed.into()), "must be a number");
    let q = typed.trim().replace([' ', '\u{a0}'], "");
    // Dots group thousands when a comma marks the decimals, or when every group after the
    // first has three digits ("1.200", "12.500.000"); otherwise a dot is the decimal point.
    let groups: Vec<&str> = q.split('.').collect();
    let grouped = groups.len() > 1
        && !groups[0].is_empty()
        && groups[0] != "0"
        && groups[1..].iter().all(|g| g.len() == 3);
    let q = if q.contains(',') {
        q.replace('.', "").replace(',', ".")
    } else if grouped {
        q.replace('.', "")
    } else {
        q
    };
    let n: f64 = q.parse().map_err(|_| not_a_number())?;
    if n.is_finite() {
        Ok(n)
    } else {
        Err(not_a_number())
    }
}

/// Collects field errors while an input is checked field by field.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// Records a refusal of `field`.
    pub fn refuse(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Records a refusal of `field` by a shared rule, with its English words.
    pub fn refuse_by(
        &mut self,
        field: &str,
        code: Rule,
        argument: Option<String>,
        message: impl Into<String>,
    ) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            code,
            argument,
            message: message.into(),
        });
    }

    /// Records `refusal` against `field`.
    pub fn refuse_with(&mut self, field: &str, refusal: Refusal) {
        self.errors.push(refusal.of(field));
    }

    /// The value of a check that words its refusal by a rule, or `None` with the refusal
    /// recorded against `field`.
    pub fn check_by<T>(&mut self, field: &str, result: Result<T, Refusal>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(refusal) => {
                self.refuse_with(field, refusal);
                None
            }
        }
    }

    /// Nothing chosen for `field` (a list of producers, products, authorities).
    pub fn choose(&mut self, field: &str, message: impl Into<String>) {
        self.refuse_by(field, Rule::Choose, None, message);
    }

    /// A date typed as 2026-03-31 or 31/03/2026.
    pub fn date(&mut self, field: &str, value: &str) -> Option<chrono::NaiveDate> {
        match super::lot::parse_date(value) {
            Ok(date) => Some(date),
            Err(message) => {
                self.refuse_by(
                    field,
                    Rule::NotADate,
                    Some(value.trim().to_owned()),
                    message,
                );
                None
            }
        }
    }

    fn too_long(&mut self, field: &str, max: usize) {
        let message = format!("must be at most {max} characters");
        self.refuse_by(field, Rule::TooLong, Some(max.to_string()), message);
    }

    /// The value of a parse, or `None` with the error recorded against `field`.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.refuse(field, e.to_string());
                None
            }
        }
    }

    /// A required one-line text field, cleaned (NFC, white space collapsed); refused when
    /// empty, longer than `max` characters, or holding a control, bidi or line-break
    /// character.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        self.checked(field, Some(value), max, false, false)
            .unwrap_or_default()
    }

    /// An optional one-line text field: empty means absent.
    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        self.checked(field, value, max, true, false)
    }

    /// A required multi-line text field (a report): line breaks and tabs are kept.
    pub fn multiline_text(&mut self, field: &str, value: &str, max: usize) -> String {
        self.checked(field, Some(value), max, false, true)
            .unwrap_or_default()
    }

    /// An optional multi-line text field (a description, a scope): empty means absent.
    pub fn optional_multiline_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        self.checked(field, value, max, true, true)
    }

    fn checked(
        &mut self,
        field: &str,
        value: Option<&str>,
        max: usize,
        optional: bool,
        multiline: bool,
    ) -> Option<String> {
        let value = value.unwrap_or_default();
        self.allowed_chars(field, value, max, multiline)?;
        let cleaned = if multiline {
            super::text::clean_multiline(value)
        } else {
            super::text::clean(value)
        };
        self.sized(field, cleaned, max, optional)
    }

    /// Refuses a text holding a character no field may hold, or so long that reading it
    /// through is already too much (checked on the bytes before any normalisation).
    fn allowed_chars(
        &mut self,
        field: &str,
        value: &str,
        max: usize,
        multiline: bool,
    ) -> Option<()> {
        // NFC can at most triple a text's length; a text 4 bytes a character over the limit
        // is refused before it is normalised.
        if value.len() > max.saturating_mul(4).saturating_mul(3) {
            self.too_long(field, max);
            return None;
        }
        match super::text::forbidden_char(value, multiline) {
            Some(c) => {
                let code_point = format!("U+{:04X}", c as u32);
                let message = super::text::forbidden_message(c);
                self.refuse_by(field, Rule::ForbiddenCharacter, Some(code_point), message);
                None
            }
            None => Some(()),
        }
    }

    fn sized(
        &mut self,
        field: &str,
        cleaned: String,
        max: usize,
        optional: bool,
    ) -> Option<String> {
        if cleaned.is_empty() {
            if !optional {
                self.refuse_by(field, Rule::Required, None, "must not be empty");
            }
            return None;
        }
        if cleaned.chars().count() > max {
            self.too_long(field, max);
        }
        Some(cleaned)
    }

    /// Ends the check: the errors if there were any.
    pub fn finish(self) -> Result<(), Invalid> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Invalid {
                errors: self.errors,
            })
        }
    }
}

/// Treats an empty or blank optional string as absent.
pub fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_read_as_vietnamese_and_phone_keypads_write_them() {
        assert_eq!(parse_quantity("1.200,5"), Ok(1200.5));
        assert_eq!(parse_quantity("1200.5"), Ok(1200.5));
        assert_eq!(parse_quantity("1.200"), Ok(1200.0));
        assert_eq!(parse_quantity("12.500.000"), Ok(12_500_000.0));
        assert_eq!(parse_quantity("1.5"), Ok(1.5));
        assert_eq!(parse_quantity("0.250"), Ok(0.25));
        assert_eq!(parse_quantity(" 3 000 "), Ok(3000.0));
        assert!(parse_quantity("nhiều").is_err());
        assert!(parse_quantity("NaN").is_err());
    }
}
