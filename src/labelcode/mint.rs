//! Minting: serials and URIs for ranges of label numbers, cheaply enough to print a
//! million labels (no allocation per label when the caller reuses its buffer).

use super::code::LABEL_NUMBERS;
use super::keys::{KeyGeneration, KeyStatus};
use super::serial::Serial;
use super::uri::{LabelBase, Signature, write_label_uri};
use super::verify::write_signed_bytes;
use crate::domain::batch::Profile;
use crate::domain::gs1::{self, DigitalLinkError};
use crate::domain::gtin::Gtin;

/// Why labels cannot be minted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MintError {
    #[error("key {kid} is {status:?}: it cannot print labels")]
    KeyNotActive { kid: String, status: KeyStatus },
    #[error("label number {0} is out of range (0 to 2147483647)")]
    NumberOutOfRange(u64),
    #[error("the lot is not valid: {0}")]
    Lot(#[from] DigitalLinkError),
    #[error("a lot can only be printed on a product with a GTIN")]
    LotWithoutGtin,
}

/// The serial of label `number` under `key` (any status: this also re-derives serials of
/// old batches for reprinting and tests).
pub fn serial_for(key: &KeyGeneration, number: u32) -> Result<Serial, MintError> {
    if u64::from(number) >= LABEL_NUMBERS {
        return Err(MintError::NumberOutOfRange(number.into()));
    }
    Ok(key.code().seal(key.slot(), number))
}

/// Checks that `[first, first + count)` is within the label number space.
pub fn check_range(first: u32, count: u32) -> Result<(), MintError> {
    let end = u64::from(first) + u64::from(count);
    if end > LABEL_NUMBERS {
        return Err(MintError::NumberOutOfRange(end - 1));
    }
    Ok(())
}

/// Everything needed to print the labels of one batch.
#[derive(Debug, Clone)]
pub struct Minter<'k> {
    key: &'k KeyGeneration,
    base: LabelBase,
    gtin14: Option<String>,
    lot: Option<String>,
    profile: Profile,
    message: Vec<u8>,
}

impl<'k> Minter<'k> {
    /// A minter for labels of `gtin` (or none: short form) and `lot` (GS1 form only), in
    /// `profile`, signed by `key`, which must be active.
    pub fn new(
        key: &'k KeyGeneration,
        base: LabelBase,
        gtin: Option<&Gtin>,
        lot: Option<&str>,
        profile: Profile,
    ) -> Result<Self, MintError> {
        if key.status() != KeyStatus::Active {
            return Err(MintError::KeyNotActive {
                kid: key.kid().to_owned(),
                status: key.status(),
            });
        }
        Self::build(key, base, gtin, lot, profile)
    }

    /// A minter that prints again the labels of an existing batch, whose serials its key
    /// already decided: any status but revoked (whose labels would not verify).
    pub fn for_reprint(
        key: &'k KeyGeneration,
        base: LabelBase,
        gtin: Option<&Gtin>,
        lot: Option<&str>,
        profile: Profile,
    ) -> Result<Self, MintError> {
        if key.status() == KeyStatus::Revoked {
            return Err(MintError::KeyNotActive {
                kid: key.kid().to_owned(),
                status: key.status(),
            });
        }
        Self::build(key, base, gtin, lot, profile)
    }

    fn build(
        key: &'k KeyGeneration,
        base: LabelBase,
        gtin: Option<&Gtin>,
        lot: Option<&str>,
        profile: Profile,
    ) -> Result<Self, MintError> {
        if let Some(lot) = lot {
            if gtin.is_none() {
                return Err(MintError::LotWithoutGtin);
            }
            gs1::check_qualifier("10", lot)?;
        }
        Ok(Minter {
            key,
            base,
            gtin14: gtin.map(Gtin::as_gtin14),
            lot: lot.map(str::to_owned),
            profile,
            message: Vec::with_capacity(128),
        })
    }

    /// The serial of label `number`.
    pub fn serial(&self, number: u32) -> Result<Serial, MintError> {
        serial_for(self.key, number)
    }

    /// The offline signature of `serial` for this batch's GTIN and lot.
    pub fn sign(&mut self, serial: &Serial) -> Signature {
        self.message.clear();
        write_signed_bytes(
            self.key.kid(),
            self.gtin14.as_deref(),
            self.lot.as_deref(),
            serial,
            &mut self.message,
        );
        Signature(self.key.sign(&self.message))
    }

    /// Clears `out` and writes the URI of label `number` into it; returns its serial.
    pub fn write_uri(&mut self, number: u32, out: &mut String) -> Result<Serial, MintError> {
        let serial = self.serial(number)?;
        let signature = match self.profile {
            Profile::Offline => Some(self.sign(&serial)),
            Profile::Compact => None,
        };
        out.clear();
        write_label_uri(
            &self.base,
            self.gtin14.as_deref(),
            self.lot.as_deref(),
            &serial,
            signature.as_ref(),
            out,
        );
        Ok(serial)
    }

    /// Calls `each(number, serial, uri)` for every label of `[first, first + count)`,
    /// reusing one buffer; stops at the first error `each` returns.
    pub fn for_each_uri<E: From<MintError>>(
        &mut self,
        first: u32,
        count: u32,
        mut each: impl FnMut(u32, &Serial, &str) -> Result<(), E>,
    ) -> Result<(), E> {
        check_range(first, count)?;
        let mut buf = String::with_capacity(self.base.gs1_stem().len() + 160);
        for number in first..first + count {
            let serial = self.write_uri(number, &mut buf)?;
            each(number, &serial, &buf)?;
        }
        Ok(())
    }
}

/// The serials of `[first, first + count)` under `key`, lazily.
pub fn serials(
    key: &KeyGeneration,
    first: u32,
    count: u32,
) -> Result<impl Iterator<Item = (u32, Serial)> + '_, MintError> {
    check_range(first, count)?;
    Ok((first..first + count).map(move |n| (n, key.code().seal(key.slot(), n))))
}
