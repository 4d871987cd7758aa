//! Verification of label URIs: online (with the keyring's secrets) and offline (with only
//! the published `keys.json`). Pure functions; no database, no clock.

use ed25519_dalek::{Signature as DalekSignature, VerifyingKey};

use super::keys::{KeyGeneration, KeyStatus, Keyring, KeysDocument};
use super::serial::Serial;
use super::uri::{LabelUri, LabelUriError, Signature};
use crate::domain::batch::Profile;
use crate::domain::gtin::Gtin;

/// Domain separation prefix of the bytes an offline label's signature covers.
pub const OFFLINE_DOMAIN: &[u8] = b"truyxuat/offline/v1\n";

/// A label whose proof holds. Batch states (activated, void, recalled) are the caller's
/// to decide from `(kid, label_number)`; so is checking, for compact labels, that `gtin`
/// and `lot` match the batch (only an offline signature binds them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLabel {
    /// The key generation that minted the label.
    pub kid: String,
    /// Its slot.
    pub slot: u8,
    /// The per-key label number (0 to 2^31 - 1).
    pub label_number: u32,
    /// Whether the URI carried a signature (which then verified).
    pub profile: Profile,
    /// AI 01 from the URI.
    pub gtin: Option<Gtin>,
    /// AI 10 from the URI.
    pub lot: Option<String>,
    /// The canonical serial.
    pub serial: Serial,
}

/// An offline label whose signature holds under a published key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineVerified {
    /// The key that signed.
    pub kid: String,
    /// Its slot.
    pub slot: u8,
    /// AI 01 from the URI (signed).
    pub gtin: Option<Gtin>,
    /// AI 10 from the URI (signed).
    pub lot: Option<String>,
    /// The canonical serial (signed).
    pub serial: Serial,
    /// Whether the URI points at a base URL other than those `keys.json` names: no proof
    /// covers the host, so a genuine label copied onto another site's link still verifies,
    /// and a verifier should say so. False when `keys.json` names none.
    pub points_elsewhere: bool,
}

/// Whether `uri` points at one of `base_urls` (scheme and host in any case, the path prefix
/// as given); None when `uri` is not a label URI. No proof covers the host, so a genuine
/// label whose URI was copied onto another site still verifies: a verifier warns.
pub fn points_at(uri: &str, base_urls: &[String]) -> Option<bool> {
    Some(stem_is_one_of(&LabelUri::parse(uri).ok()?.stem, base_urls))
}

fn stem_is_one_of(stem: &str, base_urls: &[String]) -> bool {
    base_urls.iter().any(|base| {
        super::LabelBase::parse(base).is_ok_and(|b| b.gs1_stem().eq_ignore_ascii_case(stem))
    })
}

/// Which proof failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotGenuine {
    /// The serial does not open under the slot's key(s).
    Code,
    /// The signature does not verify over the label's parts.
    Signature,
}

/// Why a label is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("not a truyxuat label URI: {0}")]
    Malformed(#[from] LabelUriError),
    #[error("this label was not issued by truyxuat")]
    NotGenuine(NotGenuine),
    #[error("this label names key slot {slot}, which no known key uses")]
    UnknownKey { slot: u8 },
    #[error("this label was signed by key {kid}, which has been revoked")]
    RevokedKey { kid: String },
    #[error("this label carries no signature; it can only be checked online")]
    Unsigned,
}

/// Appends the exact bytes an offline signature covers:
/// `"truyxuat/offline/v1\n" kid "\n" gtin14-or-empty "\n" lot-or-empty "\n" serial`
/// (UTF-8, no trailing newline; the serial in canonical upper case).
pub fn write_signed_bytes(
    kid: &str,
    gtin14: Option<&str>,
    lot: Option<&str>,
    serial: &Serial,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(OFFLINE_DOMAIN);
    for part in [kid, gtin14.unwrap_or(""), lot.unwrap_or("")] {
        out.extend_from_slice(part.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(serial.as_str().as_bytes());
}

/// The bytes an offline signature covers (see [`write_signed_bytes`]).
pub fn signed_bytes(kid: &str, gtin: Option<&Gtin>, lot: Option<&str>, serial: &Serial) -> Vec<u8> {
    let gtin14 = gtin.map(Gtin::as_gtin14);
    let mut out = Vec::with_capacity(96);
    write_signed_bytes(kid, gtin14.as_deref(), lot, serial, &mut out);
    out
}

fn signature_holds(public: &VerifyingKey, label: &LabelUri, kid: &str, sig: &Signature) -> bool {
    let message = signed_bytes(
        kid,
        label.gtin.as_ref(),
        label.lot.as_deref(),
        &label.serial,
    );
    public
        .verify_strict(&message, &DalekSignature::from_bytes(&sig.0))
        .is_ok()
}

fn verified(key: &KeyGeneration, number: u32, label: LabelUri) -> VerifiedLabel {
    VerifiedLabel {
        kid: key.kid().to_owned(),
        slot: key.slot(),
        label_number: number,
        profile: if label.signature.is_some() {
            Profile::Offline
        } else {
            Profile::Compact
        },
        gtin: label.gtin,
        lot: label.lot,
        serial: label.serial,
    }
}

/// Verifies a scanned label URI against the keyring: parses it, opens the serial with the
/// key of its slot (a guess passes with probability 2^-64), checks the signature if there
/// is one. No database read.
pub fn verify(uri: &str, keyring: &Keyring) -> Result<VerifiedLabel, Rejection> {
    let label = LabelUri::parse(uri)?;
    let slot = label.serial.slot();
    let mut any_key = false;
    for key in keyring.candidates_for_slot(slot) {
        any_key = true;
        let Some(number) = key.code().open(&label.serial) else {
            continue;
        };
        if key.status() == KeyStatus::Revoked {
            return Err(Rejection::RevokedKey {
                kid: key.kid().to_owned(),
            });
        }
        if let Some(sig) = &label.signature {
            if !signature_holds(&key.verifying_key(), &label, key.kid(), sig) {
                return Err(Rejection::NotGenuine(NotGenuine::Signature));
            }
        }
        return Ok(verified(key, number, label));
    }
    if any_key {
        Err(Rejection::NotGenuine(NotGenuine::Code))
    } else {
        Err(Rejection::UnknownKey { slot })
    }
}

/// Verifies an offline label with only the published keys (no secrets, no network):
/// the signature must hold under a key of the serial's slot. The serial's own code cannot
/// be checked without the secret, so the label number is not recovered here.
pub fn verify_offline(uri: &str, keys: &KeysDocument) -> Result<OfflineVerified, Rejection> {
    let label = LabelUri::parse(uri)?;
    let sig = label.signature.ok_or(Rejection::Unsigned)?;
    let slot = label.serial.slot();
    let mut any_key = false;
    for entry in keys.keys.iter().filter(|k| k.slot == slot) {
        any_key = true;
        let Some(public) = entry
            .public_key_bytes()
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        else {
            continue;
        };
        if !signature_holds(&public, &label, &entry.kid, &sig) {
            continue;
        }
        if entry.status == KeyStatus::Revoked {
            return Err(Rejection::RevokedKey {
                kid: entry.kid.clone(),
            });
        }
        let points_elsewhere =
            !keys.base_urls.is_empty() && !stem_is_one_of(&label.stem, &keys.base_urls);
        return Ok(OfflineVerified {
            kid: entry.kid.clone(),
            slot,
            gtin: label.gtin,
            lot: label.lot,
            serial: label.serial,
            points_elsewhere,
        });
    }
    if any_key {
        Err(Rejection::NotGenuine(NotGenuine::Signature))
    } else {
        Err(Rejection::UnknownKey { slot })
    }
}
