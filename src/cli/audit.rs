//! `truyxuat audit …`: the audit log's checks at the command line. `verify` recomputes the
//! log and names the first entry that disagrees (exit 1); `checkpoint` signs one now and
//! prints the latest; `prove` shows that a checkpoint saved earlier is a prefix of today's.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::app::{App, auditlog};
use crate::auditkey::AuditKey;
use crate::config::Settings;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Recompute every leaf from the stored entries and the tree from the leaves, check them
    /// against every signed checkpoint; name the first entry that disagrees (exit 1).
    Verify,
    /// Sign a checkpoint of the log now (when it grew) and print the latest.
    Checkpoint,
    /// Prove that the log only grew since a checkpoint saved earlier (exit 1 if not).
    Prove {
        /// The saved checkpoint (the text of /audit/checkpoint).
        checkpoint: PathBuf,
    },
}

/// The audit key of the key folder (made when there is none).
pub fn key(settings: &Settings) -> anyhow::Result<AuditKey> {
    let origin = crate::auditkey::origin_of(&settings.base_url());
    crate::auditkey::load_or_create(&settings.key_dir, &origin)
}

pub async fn run(app: &App, key: &AuditKey, command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify => verify(app, key).await,
        AuditCommand::Checkpoint => {
            let latest = auditlog::checkpoint(app, key).await?;
            match latest {
                Some(c) => print!("{}", c.note),
                None => println!("the audit log is empty: nothing to sign"),
            }
            Ok(())
        }
        AuditCommand::Prove { checkpoint } => prove(app, key, &checkpoint).await,
    }
}

async fn verify(app: &App, key: &AuditKey) -> anyhow::Result<()> {
    match auditlog::verify(app, &key.vkey).await? {
        Ok(verified) => {
            println!(
                "audit log verified: {} entries, {} signed checkpoints agree",
                verified.entries, verified.checkpoints
            );
            Ok(())
        }
        Err(disagreement) => bail!(
            "the audit log disagrees at entry {}: {}",
            disagreement.entry,
            disagreement.reason
        ),
    }
}

async fn prove(app: &App, key: &AuditKey, path: &Path) -> anyhow::Result<()> {
    let saved = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    // The log signed now, so that the proof reaches its latest entries.
    auditlog::checkpoint(app, key).await?;
    match auditlog::prove(app, &key.vkey, &saved).await? {
        auditlog::ProofOutcome::Consistent { size, latest } => {
            println!(
                "consistent: the tree of {size} entries in {} is a prefix of today's {latest}",
                path.display()
            );
            Ok(())
        }
        auditlog::ProofOutcome::Inconsistent { reason, .. } => {
            bail!("not consistent: {reason}")
        }
        auditlog::ProofOutcome::NotSigned => bail!(
            "{} is not a checkpoint signed by this log's key ({})",
            path.display(),
            key.vkey
        ),
    }
}
