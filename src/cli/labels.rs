//! Label commands: keys, mint, labels, activate, void, recall, verify.

use std::io::{BufWriter, Write};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Subcommand;

use crate::app::{self, App, Caller, labels::MintRequest};
use crate::config::Settings;
use crate::domain::batch::{IndexRange, parse_profile};
use crate::labelcode::{KeySeed, KeyStatus, keystore};
use crate::store::Store;

/// `truyxuat keys ...`
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create the first signing key.
    New,
    /// List keys: id, slot, status (never the private halves).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Create a new signing key; the current one stops signing and keeps verifying.
    Rotate,
    /// Revoke a key: its labels then verify as "revoked key".
    Revoke { kid: String },
}

/// `truyxuat keys ...` on `keyring`, the keys as the settings give them; a change of the
/// key folder is recorded in the audit log through `app`.
pub async fn keys(
    settings: &Settings,
    app: &App,
    mut keyring: crate::labelcode::Keyring,
    command: KeysCommand,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let changes = !matches!(command, KeysCommand::List { .. });
    if changes && settings.signing_key.is_some() {
        bail!("the key comes from TRUYXUAT_SIGNING_KEY; unset it to manage the key folder");
    }
    match command {
        KeysCommand::New | KeysCommand::Rotate => {
            if matches!(command, KeysCommand::New) {
                if let Some(active) = keyring.active() {
                    bail!(
                        "key {} is already active: use `truyxuat keys rotate` to replace it",
                        active.kid()
                    );
                }
            }
            let action = if keyring.keys().is_empty() {
                "key.create"
            } else {
                "key.rotate"
            };
            let seed = KeySeed::generate(&mut rand::rngs::OsRng);
            let kid = keyring.rotate(seed, now)?.kid().to_owned();
            keystore::save(&settings.key_dir, &keyring)?;
            record(app, &keyring, action, &kid).await?;
            println!("{kid}");
            eprintln!(
                "key {kid} is now the signing key ({})",
                settings.key_dir.display()
            );
        }
        KeysCommand::Revoke { kid } => {
            keyring.revoke(&kid, now)?;
            keystore::save(&settings.key_dir, &keyring)?;
            record(app, &keyring, "key.revoke", &kid).await?;
            eprintln!("key {kid} revoked: its labels now verify as \"revoked key\"");
            if keyring.active().is_none() {
                eprintln!("there is no signing key now: run `truyxuat keys rotate` to mint again");
            }
        }
        KeysCommand::List { json } => {
            if json {
                let mut document = keyring.public_keys();
                document.base_urls = vec![settings.base_url()];
                println!("{}", serde_json::to_string_pretty(&document)?);
            } else {
                println!("{:<16}  {:>4}  {:<8}  CREATED", "KID", "SLOT", "STATUS");
                for k in keyring.keys() {
                    let status = match k.status() {
                        KeyStatus::Active => "active",
                        KeyStatus::Retired => "retired",
                        KeyStatus::Revoked => "revoked",
                    };
                    println!(
                        "{:<16}  {:>4}  {:<8}  {}",
                        k.kid(),
                        k.slot(),
                        status,
                        k.created_at().to_rfc3339()
                    );
                }
            }
        }
    }
    Ok(())
}

/// Records a change of the key folder, made already, in the audit log.
async fn record(
    app: &App,
    keyring: &crate::labelcode::Keyring,
    action: &str,
    kid: &str,
) -> anyhow::Result<()> {
    let public = keyring.public_keys();
    let key = public
        .keys
        .iter()
        .find(|k| k.kid == kid)
        .context("the changed key is not in the keyring")?;
    app::keys::record(app, &Caller::cli(), action, key)
        .await
        .with_context(|| {
            format!(
                "the key folder was changed ({action} {kid}) but the audit log could not record it"
            )
        })
}

/// `truyxuat mint`: prints the new batch's id.
pub async fn mint(
    settings: &Settings,
    app: &App,
    product: i64,
    count: u32,
    lot: Option<String>,
    profile: &str,
) -> anyhow::Result<()> {
    let profile = parse_profile(profile).map_err(anyhow::Error::msg)?;
    let keyring = settings.keyring()?;
    let request = MintRequest {
        product_id: product,
        count,
        lot,
        profile,
    };
    let batch =
        app::labels::mint(app, &Caller::cli(), &keyring, &request, settings.max_batch).await?;
    println!("{}", batch.id);
    eprintln!(
        "batch {} minted: {} {} labels of product {} ({})",
        batch.id,
        batch.count,
        crate::domain::batch::profile_name(batch.profile),
        batch.product_id,
        batch.state.as_str()
    );
    Ok(())
}

/// `truyxuat labels`: the URIs of a batch, one a line.
pub async fn list(
    settings: &Settings,
    store: &dyn Store,
    batch: i64,
    range: Option<IndexRange>,
) -> anyhow::Result<()> {
    let keyring = settings.keyring()?;
    let base = settings.label_base()?;
    let printable = app::labels::printable(store, batch).await?;
    let range = range.unwrap_or_else(|| printable.batch.all());
    let mut out = BufWriter::new(std::io::stdout().lock());
    printable.for_each_uri(&keyring, &base, range, |_, _, uri| -> anyhow::Result<()> {
        out.write_all(uri.as_bytes())?;
        out.write_all(b"\n")?;
        Ok(())
    })?;
    out.flush().context("cannot write the labels")?;
    Ok(())
}

/// `truyxuat verify`: the verdict; Ok only for a genuine label.
pub async fn verify(
    settings: &Settings,
    store: &dyn Store,
    uri: &str,
    json: bool,
) -> anyhow::Result<()> {
    let keyring = settings.keyring()?;
    let verdict = app::labels::verify(store, &keyring, uri.trim()).await?;
    // No proof covers the host: a genuine label's URI copied onto another site verifies.
    if crate::labelcode::points_at(uri.trim(), &[settings.base_url()]) == Some(false) {
        let stem = crate::labelcode::LabelUri::parse(uri.trim())
            .map(|label| label.stem)
            .unwrap_or_default();
        eprintln!(
            "warning: this label points at {}, not at this service ({}): it may be a copy \
             on another site",
            super::terminal::safe(&stem),
            settings.base_url()
        );
    }
    if json {
        let json = serde_json::to_string_pretty(&verdict)?;
        println!("{}", super::terminal::safe_json(json));
    } else {
        let mut line = format!("{}: {}", verdict.verdict.as_str(), verdict.reason);
        if let Some(p) = &verdict.product {
            line.push_str(&format!(
                "\nproduct {}: {} ({})",
                p.id, p.data.name, p.producer_name
            ));
        }
        if let (Some(batch), Some(index)) = (verdict.batch_id, verdict.index) {
            line.push_str(&format!("\nbatch {batch}, label {index}"));
        }
        if let Some(lot) = &verdict.lot {
            line.push_str(&format!("\nlot {}", lot.data.code));
        }
        if let Some(kid) = &verdict.kid {
            line.push_str(&format!("\nkey {kid}"));
        }
        println!("{}", super::terminal::safe_lines(&line));
    }
    if verdict.is_genuine() {
        Ok(())
    } else {
        bail!("{}", verdict.verdict.sentence())
    }
}
