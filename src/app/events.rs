//! EPCIS events as a service: a cooperative, a shop or an operator captures the events of
//! lots (harvest, processing, packing, shipping, receiving); partners and inspectors read
//! them back. A capture is one change: all its events or none, each with its audit entry.

use std::collections::HashSet;

use super::permissions::Target;
use super::{App, Caller, Error};
use crate::domain::audit::{AuditEntry, EntityRef};
use crate::domain::epcis::event::{ReadEvent, StoredEvent};
use crate::domain::validation::{Invalid, Refusal, Rule};
use crate::store::{EventQuery, StoreError};

/// The most events one capture takes; a larger document is refused as a whole (413).
pub const CAPTURE_LIMIT: usize = 10_000;

/// The organization a capture is recorded for, and what the caller needs there: the one
/// the caller acts for in a producer (a token's, or a person's first), or, for an operator,
/// none.
async fn capturing_for(app: &App, caller: &Caller) -> Result<(Option<i64>, Target), Error> {
    let organization = caller
        .actor
        .grants()
        .into_iter()
        .filter(|g| g.role.of_producer())
        .find_map(|g| g.organization);
    let target = match organization {
        Some(id) => match app.store.organization(id).await? {
            Some(org) => Target::of(&org),
            None => Target::everything(),
        },
        None => Target::everything(),
    };
    Ok((organization, target))
}

fn conflict(pointer: &str, message: String) -> Error {
    let refusal = Refusal::new(Rule::Taken, None, message);
    StoreError::Conflict(Invalid::by(pointer, refusal)).into()
}

/// Captures `events` (read from one document, `pointers` naming each in it): all or none.
/// The same event twice, in this document or after an earlier capture, is a conflict naming
/// it; an error declaration of an event is not a duplicate.
pub async fn capture(
    app: &App,
    caller: &Caller,
    events: &[ReadEvent],
    pointers: &[String],
) -> Result<Vec<String>, Error> {
    if events.is_empty() {
        return Err(super::error::refuse(
            "/epcisBody/eventList",
            "the document holds no event",
        ));
    }
    let (organization, target) = capturing_for(app, caller).await?;
    caller.require("event.capture", &target)?;
    let mut seen = HashSet::new();
    for (event, pointer) in events.iter().zip(pointers) {
        if !event.error_declaration && !seen.insert(event.hash_id.as_str()) {
            return Err(conflict(
                pointer,
                format!("the document holds event {} twice", event.hash_id),
            ));
        }
    }
    let new: Vec<_> = events.iter().map(|e| e.to_new(organization)).collect();
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let captured: Vec<String> = seen.iter().map(|h| (*h).to_owned()).collect();
    if let Some(first) = tx.captured_events(&captured).await?.first() {
        let at = events
            .iter()
            .zip(pointers)
            .find(|(e, _)| &e.hash_id == first)
            .map_or("", |(_, p)| p.as_str());
        return Err(conflict(at, format!("event {first} was captured already")));
    }
    let ids = tx.insert_events(&new, now).await?;
    let entries: Vec<AuditEntry> = events
        .iter()
        .zip(&ids)
        .map(|(e, id)| {
            let after = serde_json::json!({ "id": id, "hash_id": e.hash_id, "event": e.body });
            AuditEntry::new(
                now,
                caller.actor.record(),
                if e.error_declaration {
                    "event.declare_error"
                } else {
                    "event.capture"
                },
                EntityRef::new("event", e.hash_id.clone()),
                None,
                Some(after),
                caller.request_id.clone(),
            )
        })
        .collect();
    tx.append_audits(&entries).await?;
    tx.commit().await?;
    Ok(events.iter().map(|e| e.hash_id.clone()).collect())
}

/// Events matching `query`, for any caller signed in: traceability data is shared along
/// the chain.
pub async fn find(app: &App, query: &EventQuery) -> Result<Vec<StoredEvent>, Error> {
    Ok(app.store.events(query).await?)
}

/// The event named `hash_id` and its error declarations.
pub async fn by_id(app: &App, hash_id: &str) -> Result<Vec<StoredEvent>, Error> {
    let found = app.store.events_by_hash(hash_id).await?;
    if found.is_empty() {
        Err(Error::NotFound("event"))
    } else {
        Ok(found)
    }
}
