//! Label serials: 20 characters of Crockford-style base32 carrying 100 bits.
//!
//! Bit layout (most significant first): 5-bit key slot, then the 95-bit keyed permutation
//! of (31-bit label number ‖ 64 zero check bits). The first character is therefore the
//! key slot in clear. See `docs/labels.md`.

use std::fmt;

/// The 32 symbols, value 0 to 31: digits and upper-case letters without I, L, O and U.
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in a serial.
pub const SERIAL_LEN: usize = 20;

/// Bits carried by a serial.
pub const SERIAL_BITS: u32 = 100;

/// A well-formed serial in canonical (upper-case) form. Well-formed is not genuine:
/// only [`crate::labelcode::verify`] says whether a keyring minted it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial([u8; SERIAL_LEN]);

/// Why a string is not a well-formed serial.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SerialError {
    #[error("a serial has {SERIAL_LEN} characters, not {0}")]
    Length(usize),
    #[error("a serial has only digits and the letters A to Z except U, not '{0}'")]
    Character(char),
}

/// The value of one base32 character; lower case is accepted, and so are I and L (read as
/// 1) and O (read as 0), the letters people confuse with digits.
pub fn decode_char(c: u8) -> Option<u8> {
    let c = c.to_ascii_uppercase();
    let c = match c {
        b'I' | b'L' => b'1',
        b'O' => b'0',
        other => other,
    };
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u8)
}

impl Serial {
    /// The serial encoding the low 100 bits of `bits`.
    pub fn from_bits(bits: u128) -> Serial {
        let mut out = [0u8; SERIAL_LEN];
        for (i, slot) in out.iter_mut().enumerate() {
            let shift = 5 * (SERIAL_LEN - 1 - i);
            *slot = ALPHABET[((bits >> shift) & 31) as usize];
        }
        Serial(out)
    }

    /// The 100 bits this serial encodes.
    pub fn to_bits(&self) -> u128 {
        self.0.iter().fold(0u128, |acc, &c| {
            (acc << 5) | u128::from(decode_char(c).unwrap_or(0))
        })
    }

    /// Parses a serial, case-insensitively, mapping I/L to 1 and O to 0.
    pub fn parse(s: &str) -> Result<Serial, SerialError> {
        let n = s.chars().count();
        if n != SERIAL_LEN {
            return Err(SerialError::Length(n));
        }
        let mut bits = 0u128;
        for ch in s.chars() {
            let v = u8::try_from(ch)
                .ok()
                .and_then(decode_char)
                .ok_or(SerialError::Character(ch))?;
            bits = (bits << 5) | u128::from(v);
        }
        Ok(Serial::from_bits(bits))
    }

    /// The key slot (0 to 31), the value of the first character.
    pub fn slot(&self) -> u8 {
        decode_char(self.0[0]).unwrap_or(0)
    }

    /// The canonical upper-case text.
    pub fn as_str(&self) -> &str {
        // Every byte comes from ALPHABET, which is ASCII.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({})", self.as_str())
    }
}

impl std::str::FromStr for Serial {
    type Err = SerialError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Serial::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_bits_and_reads_sloppy_input() {
        let bits = (1u128 << 100) - 12345;
        let s = Serial::from_bits(bits);
        assert_eq!(s.to_bits(), bits);
        assert_eq!(s.as_str().len(), 20);
        assert_eq!(Serial::parse(&s.as_str().to_lowercase()).unwrap(), s);
        let zero = Serial::from_bits(0);
        assert_eq!(zero.as_str(), "00000000000000000000");
        assert_eq!(Serial::parse("oOOOOOOOOOOOOOOOOOOO").unwrap(), zero);
        assert_eq!(
            Serial::parse("IlIIIIIIIIIIIIIIIIII").unwrap().as_str(),
            "11111111111111111111"
        );
        assert_eq!(Serial::parse("Z0000000000000000000").unwrap().slot(), 31);
    }

    #[test]
    fn refuses_other_lengths_and_characters() {
        assert_eq!(Serial::parse("ABC"), Err(SerialError::Length(3)));
        assert_eq!(
            Serial::parse("U0000000000000000000"),
            Err(SerialError::Character('U'))
        );
        assert_eq!(
            Serial::parse("ạ0000000000000000000"),
            Err(SerialError::Character('ạ'))
        );
    }
}
