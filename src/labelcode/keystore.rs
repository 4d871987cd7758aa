//! The key directory (`TRUYXUAT_KEY_DIR`): the only I/O of the labels module.
//!
//! Layout: `manifest.json` holds the public metadata of every key generation (kid, slot,
//! status, dates); `{kid}.key` holds that generation's seed as 64 hex digits and a newline,
//! mode 0600. Files are written to a temporary name and renamed into place, so a crash
//! never leaves half a key. A key file readable by group or others is refused.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::keys::{KeyError, KeyGeneration, KeySeed, KeyStatus, Keyring};

/// Name of the manifest file in the key directory.
pub const MANIFEST: &str = "manifest.json";

/// Why the key directory could not be read or written; messages name the path.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    #[error("key dir {path} is not readable")]
    NotReadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key dir {path} is not writable")]
    NotWritable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "key file {path} has permissions {mode:04o}; it must be readable by its owner only (chmod 600)"
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error("key manifest {path} is not valid: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("key file {path} is not valid")]
    KeyFile { path: PathBuf, source: KeyError },
    #[error("key file {path} holds key {found}, but the manifest expects {expected}")]
    KidMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("the keys in {path} do not form a valid keyring")]
    Keyring { path: PathBuf, source: KeyError },
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    keys: Vec<ManifestEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ManifestEntry {
    kid: String,
    slot: u8,
    status: KeyStatus,
    created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revoked_at: Option<DateTime<Utc>>,
}

fn key_path(dir: &Path, kid: &str) -> PathBuf {
    dir.join(format!("{kid}.key"))
}

/// Parses a key given in an environment variable (64 hex digits or base64url) into a
/// keyring of that one active key in slot 0, created at `created_at`.
pub fn keyring_from_env(value: &str, created_at: DateTime<Utc>) -> Result<Keyring, KeyError> {
    Ok(Keyring::single(KeySeed::parse(value)?, created_at))
}

/// Loads the keyring from `dir`. A directory without a manifest is an empty keyring.
pub fn load(dir: &Path) -> Result<Keyring, KeystoreError> {
    let not_readable = |path: &Path, source| KeystoreError::NotReadable {
        path: path.to_owned(),
        source,
    };
    match fs::read_dir(dir) {
        Ok(_) => {}
        // No folder yet is no key yet: `truyxuat keys new` creates both.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Keyring::new()),
        Err(e) => return Err(not_readable(dir, e)),
    }
    let manifest_path = dir.join(MANIFEST);
    let text = match fs::read_to_string(&manifest_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Keyring::new()),
        Err(e) => return Err(not_readable(&manifest_path, e)),
    };
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| KeystoreError::Manifest {
        path: manifest_path.clone(),
        reason: e.to_string(),
    })?;
    let mut generations = Vec::with_capacity(manifest.keys.len());
    for entry in manifest.keys {
        let path = key_path(dir, &entry.kid);
        let meta = fs::metadata(&path).map_err(|e| not_readable(&path, e))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeystoreError::Permissions { path, mode });
        }
        let text = fs::read_to_string(&path).map_err(|e| not_readable(&path, e))?;
        let seed = KeySeed::parse(&text).map_err(|source| KeystoreError::KeyFile {
            path: path.clone(),
            source,
        })?;
        let key = KeyGeneration::new(seed, entry.slot, entry.created_at)
            .map_err(|source| KeystoreError::KeyFile {
                path: path.clone(),
                source,
            })?
            .with_state(entry.status, entry.retired_at, entry.revoked_at);
        if key.kid() != entry.kid {
            return Err(KeystoreError::KidMismatch {
                path,
                expected: entry.kid,
                found: key.kid().to_owned(),
            });
        }
        generations.push(key);
    }
    Keyring::from_generations(generations).map_err(|source| KeystoreError::Keyring {
        path: dir.to_owned(),
        source,
    })
}

/// Writes `contents` to `path` through a temporary file created with `mode`, then renames.
fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> Result<(), KeystoreError> {
    let not_writable = |source| KeystoreError::NotWritable {
        path: path.to_owned(),
        source,
    };
    let tmp = path.with_extension("tmp");
    // A stale temporary file may have other permissions; `mode` applies only on creation.
    let _ = fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(not_writable)?;
    file.write_all(contents).map_err(not_writable)?;
    file.sync_all().map_err(not_writable)?;
    fs::rename(&tmp, path).map_err(not_writable)
}

/// Saves the keyring to `dir` (created, mode 0700, if missing): a key file for each
/// generation that has none, then the manifest.
pub fn save(dir: &Path, keyring: &Keyring) -> Result<(), KeystoreError> {
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| KeystoreError::NotWritable {
                path: dir.to_owned(),
                source,
            })?;
    }
    for key in keyring.keys() {
        let path = key_path(dir, key.kid());
        if !path.exists() {
            let contents = format!("{}\n", key.seed().to_hex());
            write_atomically(&path, contents.as_bytes(), 0o600)?;
        }
    }
    let manifest = Manifest {
        keys: keyring
            .keys()
            .iter()
            .map(|k| ManifestEntry {
                kid: k.kid().to_owned(),
                slot: k.slot(),
                status: k.status(),
                created_at: k.created_at(),
                retired_at: k.retired_at(),
                revoked_at: k.revoked_at(),
            })
            .collect(),
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| KeystoreError::Manifest {
        path: dir.join(MANIFEST),
        reason: e.to_string(),
    })?;
    write_atomically(&dir.join(MANIFEST), &json, 0o600)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 7, day, 0, 0, 0).unwrap()
    }

    #[test]
    fn saves_and_loads_a_rotated_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let mut ring = Keyring::single(KeySeed::from_bytes([1; 32]), at(1));
        ring.rotate(KeySeed::from_bytes([2; 32]), at(2)).unwrap();
        let first = ring.keys()[0].kid().to_owned();
        ring.revoke(&first, at(3)).unwrap();
        save(&keys, &ring).unwrap();

        let key_file = key_path(&keys, &first);
        assert_eq!(
            fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let loaded = load(&keys).unwrap();
        assert_eq!(loaded.public_keys(), ring.public_keys());
        assert_eq!(loaded.active().unwrap().kid(), ring.active().unwrap().kid());
        let line = fs::read_to_string(&key_file).unwrap();
        assert!(
            !fs::read_to_string(keys.join(MANIFEST))
                .unwrap()
                .contains(line.trim())
        );

        fs::set_permissions(&key_file, fs::Permissions::from_mode(0o644)).unwrap();
        let err = load(&keys).unwrap_err().to_string();
        assert!(err.contains("permissions 0644"), "{err}");
    }

    #[test]
    fn a_missing_dir_is_no_keys_yet_and_env_keys_are_read() {
        // `truyxuat keys new` creates the folder; until then there is simply no key.
        let ring = load(Path::new("/nonexistent/truyxuat-keys")).unwrap();
        assert!(ring.keys().is_empty());
        let ring = keyring_from_env(&"ab".repeat(32), at(1)).unwrap();
        assert_eq!(ring.active().unwrap().slot(), 0);
        assert!(keyring_from_env("not a key", at(1)).is_err());
    }
}
