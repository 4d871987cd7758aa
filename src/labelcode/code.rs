//! The compact code: a keyed permutation of 95 bits (an unbalanced Feistel network with
//! HMAC-SHA256 round functions). Exact construction in `docs/labels.md`.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::serial::Serial;

/// Domain separation prefix of every round-function input.
pub const COMPACT_DOMAIN: &[u8] = b"truyxuat/compact/v1";

/// Feistel rounds; even, so each half is rewritten five times.
pub const ROUNDS: u8 = 10;

const LEFT_BITS: u32 = 47;
const RIGHT_BITS: u32 = 48;
const LEFT_MASK: u64 = (1 << LEFT_BITS) - 1;
const RIGHT_MASK: u64 = (1 << RIGHT_BITS) - 1;
const BLOCK_BITS: u32 = LEFT_BITS + RIGHT_BITS;
const CHECK_BITS: u32 = 64;

/// Largest label number plus one: label numbers are 31-bit.
pub const LABEL_NUMBERS: u64 = 1 << 31;

/// HMAC-SHA256 keyed with `key` (any length up to 64 bytes is used as is; HMAC pads it).
pub(crate) fn hmac_sha256(key: &[u8; 32]) -> Hmac<Sha256> {
    // HMAC zero-pads keys shorter than its 64-byte block; doing so here lets us use the
    // infallible constructor instead of `new_from_slice`.
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    <Hmac<Sha256> as hmac::digest::KeyInit>::new(&block.into())
}

/// The code secret of one key generation, with its HMAC state precomputed.
#[derive(Clone)]
pub(crate) struct CodeKey {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeKey(<redacted>)")
    }
}

impl CodeKey {
    pub(crate) fn new(secret: &[u8; 32]) -> Self {
        CodeKey {
            mac: hmac_sha256(secret),
        }
    }

    /// Round function: the first 8 bytes (big-endian) of
    /// HMAC-SHA256(secret, DOMAIN ‖ round ‖ slot ‖ half as 8 bytes big-endian).
    fn round(&self, slot: u8, round: u8, half: u64) -> u64 {
        let mut mac = self.mac.clone();
        mac.update(COMPACT_DOMAIN);
        mac.update(&[round, slot]);
        mac.update(&half.to_be_bytes());
        let out = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&out[..8]);
        u64::from_be_bytes(first)
    }

    /// Permutes the low 95 bits of `block`.
    pub(crate) fn permute(&self, slot: u8, block: u128) -> u128 {
        let (mut left, mut right) = split(block);
        for r in 0..ROUNDS {
            if r % 2 == 0 {
                right ^= self.round(slot, r, left) & RIGHT_MASK;
            } else {
                left ^= self.round(slot, r, right) & LEFT_MASK;
            }
        }
        join(left, right)
    }

    /// Inverts [`CodeKey::permute`].
    pub(crate) fn unpermute(&self, slot: u8, block: u128) -> u128 {
        let (mut left, mut right) = split(block);
        for r in (0..ROUNDS).rev() {
            if r % 2 == 0 {
                right ^= self.round(slot, r, left) & RIGHT_MASK;
            } else {
                left ^= self.round(slot, r, right) & LEFT_MASK;
            }
        }
        join(left, right)
    }

    /// The serial of `number` (< 2^31) under key `slot` (< 32).
    pub(crate) fn seal(&self, slot: u8, number: u32) -> Serial {
        let plain = u128::from(number) << CHECK_BITS;
        let slot = slot & 31;
        Serial::from_bits((u128::from(slot) << BLOCK_BITS) | self.permute(slot, plain))
    }

    /// The label number inside `serial` if its 64 check bits are zero under this key.
    pub(crate) fn open(&self, serial: &Serial) -> Option<u32> {
        let bits = serial.to_bits();
        let block_mask = (1u128 << BLOCK_BITS) - 1;
        let plain = self.unpermute(serial.slot(), bits & block_mask);
        let check_mask = (1u128 << CHECK_BITS) - 1;
        if plain & check_mask == 0 {
            u32::try_from(plain >> CHECK_BITS).ok()
        } else {
            None
        }
    }
}

fn split(block: u128) -> (u64, u64) {
    (
        (block >> RIGHT_BITS) as u64 & LEFT_MASK,
        block as u64 & RIGHT_MASK,
    )
}

fn join(left: u64, right: u64) -> u128 {
    (u128::from(left) << RIGHT_BITS) | u128::from(right)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_recovers_the_number() {
        let key = CodeKey::new(&[7u8; 32]);
        for number in [0u32, 1, 2, 1000, (1 << 31) - 1] {
            let serial = key.seal(3, number);
            assert_eq!(serial.slot(), 3);
            assert_eq!(key.open(&serial), Some(number));
        }
        let other = CodeKey::new(&[8u8; 32]);
        assert_eq!(other.open(&key.seal(3, 5)), None);
    }

    #[test]
    fn permutation_is_invertible_on_arbitrary_blocks() {
        let key = CodeKey::new(&[1u8; 32]);
        for block in [0u128, 1, (1 << 95) - 1, 0x1234_5678_9abc_def0_1234_5678] {
            let block = block & ((1 << 95) - 1);
            assert_eq!(key.unpermute(9, key.permute(9, block)), block);
        }
    }
}
