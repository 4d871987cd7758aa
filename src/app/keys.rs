//! Label signing keys live in the key folder, never in the database; their changes (a new
//! key, a rotation, a revocation) are recorded in the audit log all the same, with the
//! key's public half.

use super::permissions::Target;
use super::{App, Caller, Error, audit, json};
use crate::domain::audit::EntityRef;
use crate::labelcode::PublicKeyEntry;

/// Records a change of the key folder already made: `action` is `key.create`,
/// `key.rotate` or `key.revoke`, `key` the changed key as keys.json publishes it.
pub async fn record(
    app: &App,
    caller: &Caller,
    action: &str,
    key: &PublicKeyEntry,
) -> Result<(), Error> {
    caller.require(action, &Target::everything())?;
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let entity = EntityRef::new("key", key.kid.clone());
    audit(
        &mut *tx,
        caller,
        now,
        action,
        entity,
        None,
        Some(json(key)?),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
