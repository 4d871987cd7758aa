//! Labels: serials, keys, signing and verification. No I/O except [`keystore`].
//!
//! The format is specified in `docs/labels.md`. In short: a serial is 20 base32
//! characters, a key slot then a keyed permutation of the label number with 64 zero check
//! bits ([`Serial`], [`serial_for`]); offline labels add an Ed25519 signature
//! ([`signed_bytes`]); [`verify`] checks a scanned URI with the [`Keyring`] and no database,
//! [`verify_offline`] with only the published [`KeysDocument`].

mod code;
pub mod keys;
pub mod keystore;
pub mod mint;
pub mod serial;
pub mod uri;
pub mod verify;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod vectors;

pub use code::{COMPACT_DOMAIN, LABEL_NUMBERS, ROUNDS};
pub use keys::{
    KeyError, KeyGeneration, KeySeed, KeyStatus, Keyring, KeysDocument, PublicKeyEntry,
};
pub use mint::{MintError, Minter, serial_for, serials};
pub use serial::{Serial, SerialError};
pub use uri::{
    LabelBase, LabelForm, LabelUri, LabelUriError, Signature, label_uri, write_label_uri,
};
pub use verify::{
    NotGenuine, OfflineVerified, Rejection, VerifiedLabel, points_at, signed_bytes, verify,
    verify_offline,
};
