//! QR matrices: a URI to a square of dark and light modules, with the 4-module quiet zone
//! left to the renderers.
//!
//! Encoding uses `fast_qr`: on this machine it encodes a label URI in a few microseconds,
//! where the `qrcode` crate takes about half a millisecond (`make bench` prints both), and
//! at a million labels that is the difference between seconds and minutes. A real decoder
//! (rqrr, zbarimg) reads what it draws in `tests/print.rs` and `make bench`.

use std::fmt;

/// Modules of light margin around every symbol, as ISO/IEC 18004 requires.
pub const QUIET_ZONE: usize = 4;

/// Error correction: M recovers about 15 % of the symbol, Q about 25 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EcLevel {
    #[default]
    M,
    Q,
}

impl std::str::FromStr for EcLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "M" => Ok(EcLevel::M),
            "Q" => Ok(EcLevel::Q),
            _ => Err(format!("error correction '{s}' is not M or Q")),
        }
    }
}

impl fmt::Display for EcLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EcLevel::M => "M",
            EcLevel::Q => "Q",
        })
    }
}

/// A QR symbol without its quiet zone: `size` x `size` modules, row by row, true = dark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    size: usize,
    dark: Vec<bool>,
}

impl QrMatrix {
    /// Encodes `data` (alphanumeric mode when it is all QR alphanumeric, as short-form URIs are).
    pub fn encode(data: &str, ec: EcLevel) -> Result<QrMatrix, String> {
        let ecl = match ec {
            EcLevel::M => fast_qr::ECL::M,
            EcLevel::Q => fast_qr::ECL::Q,
        };
        let code = fast_qr::QRBuilder::new(data.as_bytes())
            .ecl(ecl)
            .build()
            .map_err(|e| format!("cannot encode {data} as a QR code: {e:?}"))?;
        let size = code.size;
        let dark = code.data[..size * size].iter().map(|m| m.value()).collect();
        Ok(QrMatrix { size, dark })
    }

    /// The same symbol through the `qrcode` crate, kept to measure against (`make bench`).
    pub fn encode_with_qrcode_crate(data: &str, ec: EcLevel) -> Result<QrMatrix, String> {
        let level = match ec {
            EcLevel::M => qrcode::EcLevel::M,
            EcLevel::Q => qrcode::EcLevel::Q,
        };
        let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), level)
            .map_err(|e| format!("cannot encode {data} as a QR code: {e}"))?;
        Ok(QrMatrix {
            size: code.width(),
            dark: code
                .to_colors()
                .iter()
                .map(|c| *c == qrcode::Color::Dark)
                .collect(),
        })
    }

    /// Modules on a side, without the quiet zone.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Modules on a side with the quiet zone on both sides.
    pub fn side_with_quiet_zone(&self) -> usize {
        self.size + 2 * QUIET_ZONE
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.size + x]
    }

    /// One row as runs `(first, length)` of dark modules.
    pub fn dark_runs(&self, y: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let row = &self.dark[y * self.size..(y + 1) * self.size];
        let mut x = 0;
        std::iter::from_fn(move || {
            while x < row.len() && !row[x] {
                x += 1;
            }
            if x >= row.len() {
                return None;
            }
            let start = x;
            while x < row.len() && row[x] {
                x += 1;
            }
            Some((start, x - start))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_encoders_give_a_symbol_of_the_expected_version() {
        let uri = "HTTPS://TRUYXUAT.EXAMPLE.VN/T/0F9QGPN36EE7DAMVR5C5";
        let fast = QrMatrix::encode(uri, EcLevel::M).unwrap();
        let reference = QrMatrix::encode_with_qrcode_crate(uri, EcLevel::M).unwrap();
        // 50 alphanumeric characters at M: version 3, 29 modules.
        assert_eq!(fast.size(), 29);
        assert_eq!(reference.size(), 29);
        assert_eq!(fast.side_with_quiet_zone(), 37);
        let runs: usize = (0..fast.size())
            .flat_map(|y| fast.dark_runs(y))
            .map(|r| r.1)
            .sum();
        let dark = (0..29 * 29)
            .filter(|i| fast.is_dark(i % 29, i / 29))
            .count();
        assert_eq!(runs, dark);
    }
}
