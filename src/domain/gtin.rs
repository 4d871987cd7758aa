//! GS1 Global Trade Item Numbers: GTIN-8/12/13/14 accepted, stored as GTIN-14.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A GTIN-14 whose mod-10 check digit has been verified.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Gtin([u8; 14]);

/// Why a string is not a GTIN; the message is meant for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GtinError {
    #[error("a GTIN has only digits")]
    NotDigits,
    #[error("a GTIN has 8, 12, 13 or 14 digits, not {0}")]
    Length(usize),
    #[error("the check digit should be {expected}, not {found}")]
    CheckDigit { expected: u8, found: u8 },
}

impl From<GtinError> for super::validation::Refusal {
    fn from(e: GtinError) -> Self {
        use super::validation::Rule;
        let (code, argument) = match &e {
            GtinError::NotDigits => (Rule::GtinDigits, None),
            GtinError::Length(n) => (Rule::GtinLength, Some(n.to_string())),
            GtinError::CheckDigit { expected, .. } => {
                (Rule::GtinCheckDigit, Some(expected.to_string()))
            }
        };
        super::validation::Refusal::new(code, argument, e.to_string())
    }
}

/// The GS1 mod-10 check digit of `digits` (without the check digit), for any GS1 key length.
pub fn check_digit(digits: &[u8]) -> u8 {
    // Weights run 3, 1, 3, ... from the rightmost data digit.
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| u32::from(d) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl Gtin {
    /// Parses a GTIN-8, -12, -13 or -14 (spaces and hyphens ignored) and pads it to 14 digits.
    pub fn parse(input: &str) -> Result<Self, GtinError> {
        let cleaned: Vec<char> = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if !cleaned.iter().all(|c| c.is_ascii_digit()) || cleaned.is_empty() {
            return Err(GtinError::NotDigits);
        }
        let len = cleaned.len();
        if ![8, 12, 13, 14].contains(&len) {
            return Err(GtinError::Length(len));
        }
        let mut digits = [0u8; 14];
        for (slot, c) in digits[14 - len..].iter_mut().zip(&cleaned) {
            *slot = *c as u8 - b'0';
        }
        let expected = check_digit(&digits[..13]);
        if digits[13] != expected {
            return Err(GtinError::CheckDigit {
                expected,
                found: digits[13],
            });
        }
        Ok(Gtin(digits))
    }

    /// The 14 digits as a string, as AI 01 carries them.
    pub fn as_gtin14(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }
}

impl FromStr for Gtin {
    type Err = GtinError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Gtin::parse(s)
    }
}

impl TryFrom<String> for Gtin {
    type Error = GtinError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Gtin::parse(&s)
    }
}

impl From<Gtin> for String {
    fn from(g: Gtin) -> String {
        g.as_gtin14()
    }
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_gtin14())
    }
}

impl fmt::Debug for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gtin({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_shorter_gtins_to_fourteen_digits() {
        // 8934588012112 is a Vietnamese (893) EAN-13 with a valid check digit.
        assert_eq!(
            Gtin::parse("8934588012112").unwrap().as_gtin14(),
            "08934588012112"
        );
        assert_eq!(
            Gtin::parse("96385074").unwrap().as_gtin14(),
            "00000096385074"
        );
        assert_eq!(
            Gtin::parse("036000291452").unwrap().as_gtin14(),
            "00036000291452"
        );
    }

    #[test]
    fn names_the_expected_check_digit() {
        assert_eq!(
            Gtin::parse("8934588012113"),
            Err(GtinError::CheckDigit {
                expected: 2,
                found: 3
            })
        );
    }

    #[test]
    fn refuses_other_lengths_and_letters() {
        assert_eq!(Gtin::parse("12345"), Err(GtinError::Length(5)));
        assert_eq!(Gtin::parse("89345880121A2"), Err(GtinError::NotDigits));
        assert_eq!(Gtin::parse(""), Err(GtinError::NotDigits));
    }
}
