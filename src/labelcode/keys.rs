//! Signing key generations and the keyring.
//!
//! A key generation is one 32-byte secret seed. From it (HMAC-SHA256 keyed by the seed):
//! the Ed25519 signing key seed is `HMAC(seed, "truyxuat/key/v1/ed25519")` and the compact
//! code secret is `HMAC(seed, "truyxuat/key/v1/code")`. Its `kid` is the first 16 hex
//! characters of SHA-256 of the 32-byte Ed25519 public key. Its slot (0 to 31) is the
//! first character of every serial it mints.
//!
//! Slots: a new key takes the lowest slot never used by any key; when all 32 have been
//! used, the lowest slot whose keys are all revoked. A slot held by an active or retired
//! key is never reused, so retired keys keep verifying. Revoked keys stay in the keyring
//! so that their labels get the verdict "revoked key" rather than "not genuine".

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use hmac::Mac as _;
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::code::{CodeKey, hmac_sha256};

/// Number of key slots (a serial's first base32 character).
pub const SLOTS: u8 = 32;

/// A key generation's 32-byte secret seed. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct KeySeed([u8; 32]);

impl fmt::Debug for KeySeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeySeed(<redacted>)")
    }
}

/// Why a key or keyring operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a key seed is 64 hex digits or 43 base64url characters (32 bytes)")]
    SeedFormat,
    #[error("key slot {0} is out of range (0 to 31)")]
    SlotOutOfRange(u8),
    #[error("all 32 key slots are held by active or retired keys; revoke one first")]
    NoFreeSlot,
    #[error("key {0} is already in the keyring")]
    DuplicateKid(String),
    #[error("no key with id {0}")]
    UnknownKid(String),
    #[error("key {0} is already revoked")]
    AlreadyRevoked(String),
    #[error("keys {0} and {1} are both active; a keyring has at most one active key")]
    TwoActive(String, String),
    #[error("keys {0} and {1} share slot {2} and are not revoked")]
    SlotClash(String, String, u8),
}

impl KeySeed {
    /// Wraps 32 secret bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        KeySeed(bytes)
    }

    /// A fresh seed from a cryptographic RNG (randomness is passed in).
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        KeySeed(bytes)
    }

    /// Parses 64 hex digits or 43 base64url characters (no padding); surrounding white
    /// space is ignored. This is the form of key files and of `TRUYXUAT_SIGNING_KEY`.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let bytes = if text.len() == 64 {
            hex::decode(text).map_err(|_| KeyError::SeedFormat)?
        } else {
            URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .map_err(|_| KeyError::SeedFormat)?
        };
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| KeyError::SeedFormat)?;
        Ok(KeySeed(bytes))
    }

    /// The seed as 64 lower-case hex digits (for the key file; handle with care).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Where a key generation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    /// Signs new labels and verifies.
    Active,
    /// Verifies, no longer signs.
    Retired,
    /// Labels it minted get the verdict "revoked key".
    Revoked,
}

/// One key generation: seed-derived keys plus public metadata.
#[derive(Clone)]
pub struct KeyGeneration {
    seed: KeySeed,
    signing: SigningKey,
    code: CodeKey,
    kid: String,
    slot: u8,
    status: KeyStatus,
    created_at: DateTime<Utc>,
    retired_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for KeyGeneration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyGeneration")
            .field("kid", &self.kid)
            .field("slot", &self.slot)
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

fn derive(seed: &KeySeed, label: &[u8]) -> [u8; 32] {
    let mut mac = hmac_sha256(&seed.0);
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// The key id of an Ed25519 public key: first 16 hex digits of SHA-256(public key).
pub fn derive_kid(public_key: &[u8; 32]) -> String {
    let digest = Sha256::digest(public_key);
    hex::encode(&digest[..8])
}

impl KeyGeneration {
    /// An active key generation from `seed` in `slot`, created at `created_at`.
    pub fn new(seed: KeySeed, slot: u8, created_at: DateTime<Utc>) -> Result<Self, KeyError> {
        if slot >= SLOTS {
            return Err(KeyError::SlotOutOfRange(slot));
        }
        let signing = SigningKey::from_bytes(&derive(&seed, b"truyxuat/key/v1/ed25519"));
        let code = CodeKey::new(&derive(&seed, b"truyxuat/key/v1/code"));
        let kid = derive_kid(&signing.verifying_key().to_bytes());
        Ok(KeyGeneration {
            seed,
            signing,
            code,
            kid,
            slot,
            status: KeyStatus::Active,
            created_at,
            retired_at: None,
            revoked_at: None,
        })
    }

    /// Restores a generation with its recorded status and dates (used by the keystore).
    pub fn with_state(
        mut self,
        status: KeyStatus,
        retired_at: Option<DateTime<Utc>>,
        revoked_at: Option<DateTime<Utc>>,
    ) -> Self {
        self.status = status;
        self.retired_at = retired_at;
        self.revoked_at = revoked_at;
        self
    }

    /// Key id (16 hex digits).
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// Slot, 0 to 31.
    pub fn slot(&self) -> u8 {
        self.slot
    }
    /// Active, retired or revoked.
    pub fn status(&self) -> KeyStatus {
        self.status
    }
    /// When the key was created (valid from).
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// When the key stopped signing.
    pub fn retired_at(&self) -> Option<DateTime<Utc>> {
        self.retired_at
    }
    /// When the key was revoked.
    pub fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.revoked_at
    }
    /// The Ed25519 public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }
    /// The secret seed (for the keystore only).
    pub(crate) fn seed(&self) -> &KeySeed {
        &self.seed
    }
    pub(crate) fn code(&self) -> &CodeKey {
        &self.code
    }
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }

    /// This key's entry in `keys.json`.
    pub fn public_entry(&self) -> PublicKeyEntry {
        PublicKeyEntry {
            kid: self.kid.clone(),
            alg: "Ed25519".to_owned(),
            public_key: URL_SAFE_NO_PAD.encode(self.verifying_key().to_bytes()),
            slot: self.slot,
            status: self.status,
            valid_from: self.created_at,
            retired_at: self.retired_at,
            revoked_at: self.revoked_at,
        }
    }
}

/// The document published at `/.well-known/truyxuat/keys.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeysDocument {
    /// The base URLs the keys sign labels for (scheme, host and path prefix): a label that
    /// points elsewhere is a copy, and a verifier warns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub base_urls: Vec<String>,
    /// Every key generation, active, retired and revoked.
    pub keys: Vec<PublicKeyEntry>,
    /// The C2SP verifier key of the audit log's checkpoints (`origin+id+base64`), when the
    /// server has one: the key `truyxuat audit prove` and any tlog client check them with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_log_vkey: Option<String>,
}

/// One public key in `keys.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyEntry {
    /// Key id: first 16 hex digits of SHA-256(public key).
    pub kid: String,
    /// Always `"Ed25519"`.
    pub alg: String,
    /// The 32-byte public key, base64url without padding.
    pub public_key: String,
    /// The serial's first character, as a number 0 to 31.
    pub slot: u8,
    /// `active`, `retired` or `revoked`.
    pub status: KeyStatus,
    /// When the key was created (RFC 3339).
    pub valid_from: DateTime<Utc>,
    /// When the key stopped signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<DateTime<Utc>>,
    /// When the key was revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl PublicKeyEntry {
    /// The 32 public key bytes, if `public_key` decodes to exactly 32 bytes.
    pub fn public_key_bytes(&self) -> Option<[u8; 32]> {
        URL_SAFE_NO_PAD
            .decode(&self.public_key)
            .ok()?
            .try_into()
            .ok()
    }
}

/// All key generations of one truyxuat installation.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    keys: Vec<KeyGeneration>,
}

impl Keyring {
    /// An empty keyring.
    pub fn new() -> Self {
        Keyring::default()
    }

    /// A keyring of one active key in slot 0 (e.g. a key given in an environment variable).
    pub fn single(seed: KeySeed, created_at: DateTime<Utc>) -> Self {
        // Slot 0 is always in range.
        let keys = KeyGeneration::new(seed, 0, created_at)
            .into_iter()
            .collect();
        Keyring { keys }
    }

    /// A keyring of these generations, checking: unique kids, at most one active key, no
    /// two non-revoked keys in one slot.
    pub fn from_generations(keys: Vec<KeyGeneration>) -> Result<Self, KeyError> {
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[..i] {
                if a.kid == b.kid {
                    return Err(KeyError::DuplicateKid(a.kid.clone()));
                }
                if a.status == KeyStatus::Active && b.status == KeyStatus::Active {
                    return Err(KeyError::TwoActive(b.kid.clone(), a.kid.clone()));
                }
                let live = |k: &KeyGeneration| k.status != KeyStatus::Revoked;
                if a.slot == b.slot && live(a) && live(b) {
                    return Err(KeyError::SlotClash(b.kid.clone(), a.kid.clone(), a.slot));
                }
            }
        }
        Ok(Keyring { keys })
    }

    /// Every generation, oldest first.
    pub fn keys(&self) -> &[KeyGeneration] {
        &self.keys
    }

    /// The key that signs new labels, if any.
    pub fn active(&self) -> Option<&KeyGeneration> {
        self.keys.iter().find(|k| k.status == KeyStatus::Active)
    }

    /// The key serials of this slot belong to: the non-revoked one if any, else the most
    /// recently created revoked one.
    pub fn by_slot(&self, slot: u8) -> Option<&KeyGeneration> {
        self.candidates_for_slot(slot).next()
    }

    /// Keys of `slot`, the non-revoked one first, then revoked ones newest first.
    pub(crate) fn candidates_for_slot(&self, slot: u8) -> impl Iterator<Item = &KeyGeneration> {
        let live = self
            .keys
            .iter()
            .filter(move |k| k.slot == slot && k.status != KeyStatus::Revoked);
        let revoked = self
            .keys
            .iter()
            .rev()
            .filter(move |k| k.slot == slot && k.status == KeyStatus::Revoked);
        live.chain(revoked)
    }

    /// The key with this id.
    pub fn by_kid(&self, kid: &str) -> Option<&KeyGeneration> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The slot a new key gets (see the module documentation).
    pub fn next_slot(&self) -> Result<u8, KeyError> {
        let used = |s: u8| self.keys.iter().any(|k| k.slot == s);
        let live = |s: u8| {
            self.keys
                .iter()
                .any(|k| k.slot == s && k.status != KeyStatus::Revoked)
        };
        (0..SLOTS)
            .find(|&s| !used(s))
            .or_else(|| (0..SLOTS).find(|&s| !live(s)))
            .ok_or(KeyError::NoFreeSlot)
    }

    /// Adds a key from `seed` as the active key; the previous active key becomes retired.
    pub fn rotate(
        &mut self,
        seed: KeySeed,
        now: DateTime<Utc>,
    ) -> Result<&KeyGeneration, KeyError> {
        let slot = self.next_slot()?;
        let key = KeyGeneration::new(seed, slot, now)?;
        if self.by_kid(&key.kid).is_some() {
            return Err(KeyError::DuplicateKid(key.kid));
        }
        for old in &mut self.keys {
            if old.status == KeyStatus::Active {
                old.status = KeyStatus::Retired;
                old.retired_at = Some(now);
            }
        }
        self.keys.push(key);
        let last = self.keys.len() - 1;
        Ok(&self.keys[last])
    }

    /// Revokes the key `kid` (active or retired). Revoking the active key leaves the keyring
    /// with no signing key until the next rotation.
    pub fn revoke(&mut self, kid: &str, now: DateTime<Utc>) -> Result<(), KeyError> {
        let key = self
            .keys
            .iter_mut()
            .find(|k| k.kid == kid)
            .ok_or_else(|| KeyError::UnknownKid(kid.to_owned()))?;
        if key.status == KeyStatus::Revoked {
            return Err(KeyError::AlreadyRevoked(kid.to_owned()));
        }
        key.status = KeyStatus::Revoked;
        key.revoked_at = Some(now);
        Ok(())
    }

    /// The public `keys.json` document.
    pub fn public_keys(&self) -> KeysDocument {
        KeysDocument {
            base_urls: Vec::new(),
            keys: self.keys.iter().map(KeyGeneration::public_entry).collect(),
            audit_log_vkey: None,
        }
    }

    /// `keys.json`, pretty-printed.
    pub fn public_keys_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(&self.public_keys())
    }
}
