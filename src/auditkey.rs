//! The key that signs the audit log's checkpoints: a C2SP signed-note Ed25519 key kept in
//! the key folder as `audit.key` (its private form, mode 0600), apart from the label keys.
//! It is made the first time it is needed; its name is the log's origin, fixed then.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use signed_note::{Note, Signer as _, StandardSigner, StandardVerifier, VerifierList};

/// The file of the audit key in the key folder.
pub const FILE: &str = "audit.key";

/// The audit key, able to sign checkpoints.
#[derive(Clone)]
pub struct AuditKey {
    signer: StandardSigner,
    /// The public half as a C2SP verifier key (`name+id+base64`), as published.
    pub vkey: String,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKey")
            .field("vkey", &self.vkey)
            .finish()
    }
}

impl AuditKey {
    /// A new key named `origin`.
    pub fn generate(origin: &str) -> anyhow::Result<(AuditKey, String)> {
        if !signed_note::is_key_name_valid(origin) {
            bail!("'{origin}' cannot name an audit key (no spaces or '+')");
        }
        let (skey, vkey) = signed_note::generate_key(&mut rand::rngs::OsRng, origin);
        let signer = StandardSigner::new(&skey).context("the new audit key")?;
        Ok((AuditKey { signer, vkey }, skey))
    }

    /// The key of its private form (`PRIVATE+KEY+name+id+base64`).
    pub fn parse(skey: &str) -> anyhow::Result<AuditKey> {
        let signer = StandardSigner::new(skey.trim())
            .map_err(|e| anyhow::anyhow!("the audit key is not valid: {e}"))?;
        let vkey = verifier_key(skey.trim())?;
        Ok(AuditKey { signer, vkey })
    }

    /// The log's origin: the key's name, the first line of every checkpoint.
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// `text` signed, as a C2SP signed note.
    pub fn sign(&self, text: &str) -> anyhow::Result<String> {
        let mut note = Note::new(text.as_bytes(), &[]).context("a checkpoint's text")?;
        note.add_sigs(&[&self.signer])
            .context("signing a checkpoint")?;
        String::from_utf8(note.to_bytes()).context("a signed checkpoint")
    }

    /// The text of `note` when this key signed it; None otherwise.
    pub fn open(&self, note: &[u8]) -> Option<String> {
        open(&self.vkey, note)
    }
}

/// The text of `note` when the key of `vkey` signed it; None otherwise (not a note, not
/// signed by that key, or a signature that fails).
pub fn open(vkey: &str, note: &[u8]) -> Option<String> {
    let verifier = StandardVerifier::new(vkey).ok()?;
    let note = Note::from_bytes(note).ok()?;
    note.verify(&VerifierList::new(vec![Box::new(verifier)]))
        .ok()?;
    String::from_utf8(note.text().to_vec()).ok()
}

/// The verifier key of a private key string.
fn verifier_key(skey: &str) -> anyhow::Result<String> {
    use base64::Engine;
    let parts: Vec<&str> = skey.splitn(5, '+').collect();
    let [_, _, name, _, key] = parts.as_slice() else {
        bail!("the audit key is not valid");
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key)
        .context("the audit key is not valid")?;
    let seed: [u8; 32] = bytes
        .get(1..)
        .and_then(|s| s.try_into().ok())
        .context("the audit key is not an Ed25519 key")?;
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    Ok(signed_note::new_ed25519_verifier_key(
        name,
        &signing.verifying_key(),
    ))
}

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// The audit key of the key folder `dir`, made (named `origin`) when there is none. A key
/// file readable by group or others is refused, as a label key's is.
pub fn load_or_create(dir: &Path, origin: &str) -> anyhow::Result<AuditKey> {
    let file = path(dir);
    match fs::metadata(&file) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                bail!(
                    "audit key file {} has permissions {mode:04o}; it must be readable by its owner only (chmod 600)",
                    file.display()
                );
            }
            let text = fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            AuditKey::parse(&text).with_context(|| format!("in {}", file.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (key, skey) = AuditKey::generate(origin)?;
            fs::create_dir_all(dir).with_context(|| format!("cannot make {}", dir.display()))?;
            // Written under a temporary name and renamed, so that a crash leaves no half key;
            // a key made meanwhile by another process is kept (the rename would replace it,
            // so the new one is linked only when none is there).
            let temporary = dir.join(format!(".{FILE}.{}", std::process::id()));
            let mut out = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temporary)
                .with_context(|| format!("cannot write {}", temporary.display()))?;
            out.write_all(format!("{skey}\n").as_bytes())?;
            out.sync_all()?;
            drop(out);
            let linked = fs::hard_link(&temporary, &file);
            let _ = fs::remove_file(&temporary);
            match linked {
                Ok(()) => Ok(key),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    load_or_create(dir, origin)
                }
                Err(e) => Err(e).with_context(|| format!("cannot write {}", file.display())),
            }
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", file.display())),
    }
}

/// The origin of the log served at `base_url`: its host (and path) with `/audit`.
pub fn origin_of(base_url: &str) -> String {
    let host = base_url
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    format!("{host}/audit")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_key_is_kept_private_and_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let key = load_or_create(dir.path(), "localhost:8080/audit").unwrap();
        let mode = fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = load_or_create(dir.path(), "another/audit").unwrap();
        assert_eq!(again.vkey, key.vkey);
        assert_eq!(again.origin(), "localhost:8080/audit");
        let note = key
            .sign("localhost:8080/audit\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")
            .unwrap();
        assert!(open(&key.vkey, note.as_bytes()).is_some());
        let forged = note.replace("\n0\n", "\n1\n");
        assert!(open(&key.vkey, forged.as_bytes()).is_none());

        fs::set_permissions(dir.path().join(FILE), fs::Permissions::from_mode(0o644)).unwrap();
        let refused = load_or_create(dir.path(), "x/audit").unwrap_err();
        assert!(refused.to_string().contains("chmod 600"), "{refused}");
    }

    #[test]
    fn the_origin_is_the_host_and_path_of_the_base_url() {
        assert_eq!(
            origin_of("https://truyxuat.lamdong.gov.vn/"),
            "truyxuat.lamdong.gov.vn/audit"
        );
        assert_eq!(origin_of("http://127.0.0.1:8080"), "127.0.0.1:8080/audit");
    }
}
