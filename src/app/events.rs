//! EPCIS events as a service: a cooperative, a shop or an operator captures the events of
//! lots (harvest, processing, packing, shipping, receiving); partners and inspectors read
//! them back. A capture is one change: all its events or none, each with its audit entry.

use std::collections::HashSet;

use super::permissions::Target;
use super::{App, Caller, Error};
use crate::domain::audit::{ActorRecord, AuditEntry, EntityRef};
use crate::domain::certification::{CertStatus, Certification};
use crate::domain::epcis::event::{ReadEvent, StoredEvent, read_event};
use crate::domain::epcis::hash::Prefixes;
use crate::domain::epcis::journey::lot_class_id;
use crate::domain::epcis::record::Recording;
use crate::domain::organization::Organization;
use crate::domain::validation::{Invalid, Refusal, Rule};
use crate::store::{EventQuery, StoreError};

/// The organization a capture is recorded for, and what the caller needs there: the one
/// the caller acts for in a producer (a token's, or a person's first), or, for an operator,
/// none.
pub(crate) async fn capturing_for(
    app: &App,
    caller: &Caller,
) -> Result<(Option<i64>, Target), Error> {
    let organization = caller
        .actor
        .grants()
        .into_iter()
        .filter(|g| g.role.of_producer())
        .find_map(|g| g.organization);
    Ok((organization, target_of(app, organization).await?))
}

/// What a permission over the events of `organization` is checked against: the
/// organization, or everything for events of none (captured by an operator).
async fn target_of(app: &App, organization: Option<i64>) -> Result<Target, Error> {
    match organization {
        Some(id) => super::organization_target_now(app, id).await,
        None => Ok(Target::everything()),
    }
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
    let sender = Sender::of(caller);
    store_events(app, &sender, organization, events, pointers, None).await
}

/// Who sent events, as their audit entries record it: the actor and the request.
pub(crate) struct Sender {
    pub actor: ActorRecord,
    pub request_id: Option<String>,
}

impl Sender {
    pub fn of(caller: &Caller) -> Sender {
        Sender {
            actor: caller.actor.record(),
            request_id: caller.request_id.clone(),
        }
    }
}

/// Stores `events` for `organization` in one transaction, each with its audit entry, once
/// the sender may capture there; with `job`, the capture job they come from ends done in
/// the same transaction.
pub(crate) async fn store_events(
    app: &App,
    sender: &Sender,
    organization: Option<i64>,
    events: &[ReadEvent],
    pointers: &[String],
    job: Option<i64>,
) -> Result<Vec<String>, Error> {
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
    let before: HashSet<String> = tx.captured_events(&captured).await?.into_iter().collect();
    // The first such event in the document's order.
    if let Some((first, at)) = events
        .iter()
        .zip(pointers)
        .find(|(e, _)| !e.error_declaration && before.contains(&e.hash_id))
    {
        let message = format!("event {} was captured already", first.hash_id);
        return Err(conflict(at, message));
    }
    let ids = tx.insert_events(&new, now).await?;
    let entries = audit_entries(sender, now, events, &ids);
    tx.append_audits(&entries).await?;
    if let Some(job) = job {
        tx.finish_capture_job(job, ids.len() as i64, now).await?;
    }
    tx.commit().await?;
    Ok(events.iter().map(|e| e.hash_id.clone()).collect())
}

/// Records the event a cooperative typed (the console's form): for the producer of its lot,
/// naming each lot by its class id. Sent twice (a double tap), it is a conflict on `step`.
pub async fn record(app: &App, caller: &Caller, recording: &Recording) -> Result<String, Error> {
    let (producer, product, lot) = lot_class(app, recording.lot_id, "lot_id").await?;
    caller.require("event.capture", &Target::of(&producer))?;
    let mut inputs = Vec::with_capacity(recording.inputs.len());
    for input in &recording.inputs {
        inputs.push(lot_class(app, *input, "inputs").await?.2);
    }
    let held = app.store.certifications_of(producer.id).await?;
    let certificates = certification_info(app, &held, product, recording.at.date_naive());
    let event = recording.to_event(&lot, &inputs, &certificates);
    let read = read_event(&event, &Prefixes::from_context(None), "").map_err(|e| {
        Error::Invalid(Invalid::field(
            "step",
            format!("the event is not EPCIS: {e}"),
        ))
    })?;
    let pointers = ["step".to_owned()];
    let sender = Sender::of(caller);
    let ids = store_events(app, &sender, Some(producer.id), &[read], &pointers, None).await?;
    Ok(ids.into_iter().next().unwrap_or_default())
}

/// Declares an event wrong (a slip of the finger: 12.000 kg for 1.200): an EPCIS error
/// declaration of it, reason `incorrect_data`, by those who may capture for the organization
/// it was recorded for. The event stays, marked so, and leaves the shopper's journey; the
/// right one is recorded anew.
pub async fn declare_wrong(app: &App, caller: &Caller, hash_id: &str) -> Result<(), Error> {
    let found = by_id(app, hash_id).await?;
    if found.iter().any(|e| e.declaration) {
        return Err(conflict(
            "event",
            "this event was declared wrong already".into(),
        ));
    }
    let original = found
        .into_iter()
        .find(|e| !e.declaration)
        .ok_or(Error::NotFound("event"))?;
    caller.require(
        "event.capture",
        &target_of(app, original.organization_id).await?,
    )?;
    let mut body: serde_json::Value =
        serde_json::from_str(&original.body).map_err(|e| Error::Internal(e.to_string()))?;
    let declared_at = app
        .now()
        .with_timezone(&crate::domain::epcis::record::vietnam());
    body["errorDeclaration"] = serde_json::json!({
        "declarationTime": declared_at.to_rfc3339(),
        "reason": "incorrect_data",
    });
    let prefixes = Prefixes::from_context(body.get("@context"));
    let mut read = read_event(&body, &prefixes, "")
        .map_err(|e| Error::Internal(format!("a stored event reads no more: {e}")))?;
    // The id of the event it declares, whatever prefixes its document declared.
    read.hash_id = original.hash_id;
    let sender = Sender::of(caller);
    let pointers = ["event".to_owned()];
    store_events(
        app,
        &sender,
        original.organization_id,
        &[read],
        &pointers,
        None,
    )
    .await?;
    Ok(())
}

/// The addresses of the certificates an event of `product` on `day` rests on: those of its
/// producer, `held`, for the product or the whole producer, in force that day and not
/// refused. A page of truyxuat where it knows its address, otherwise the certificate's URN.
pub(crate) fn certification_info(
    app: &App,
    held: &[Certification],
    product: i64,
    day: chrono::NaiveDate,
) -> Vec<String> {
    held.iter()
        .filter(|c| c.data.product_id.is_none_or(|p| p == product))
        .filter(|c| c.data.issued_on <= day && day <= c.data.valid_until)
        .filter(|c| matches!(c.status, CertStatus::Verified | CertStatus::Submitted))
        .map(|c| match &app.base_url {
            Some(base) => format!("{base}/products/{product}#certificate-{}", c.id),
            None => format!("urn:truyxuat:certificate:{}", c.id),
        })
        .collect()
}

/// The producer of lot `lot_id`, its product's id and the class id events name the lot by;
/// a lot that is not stored is refused against `field`.
pub async fn lot_class(
    app: &App,
    lot_id: i64,
    field: &str,
) -> Result<(Organization, i64, String), Error> {
    let missing = || {
        let refusal = Refusal::new(Rule::NotFound, Some(lot_id.to_string()), "no such lot");
        Error::Invalid(Invalid::by(field, refusal))
    };
    let lot = app.store.lot(lot_id).await?.ok_or_else(missing)?;
    let product = app
        .store
        .product(lot.data.product_id)
        .await?
        .ok_or_else(missing)?;
    let producer = app
        .store
        .organization(product.data.producer_id)
        .await?
        .ok_or_else(missing)?;
    let gtin = product.data.gtin.map(|g| g.as_gtin14());
    let class = lot_class_id(gtin.as_deref(), product.id, &lot.data.code);
    Ok((producer, product.id, class))
}

/// The audit entries of `events`, just stored as rows `ids`: one each, the event as received.
pub(crate) fn audit_entries(
    sender: &Sender,
    now: chrono::DateTime<chrono::Utc>,
    events: &[ReadEvent],
    ids: &[i64],
) -> Vec<AuditEntry> {
    events
        .iter()
        .zip(ids)
        .map(|(e, id)| {
            let after = serde_json::json!({ "id": id, "hash_id": e.hash_id, "event": e.body });
            let action = if e.error_declaration {
                "event.declare_error"
            } else {
                "event.capture"
            };
            AuditEntry::new(
                now,
                sender.actor.clone(),
                action,
                EntityRef::new("event", e.hash_id.clone()),
                None,
                Some(after),
                sender.request_id.clone(),
            )
        })
        .collect()
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

/// The most events a traceback gathers: a chain longer than this is cut, earliest kept.
pub const TRACEBACK_LIMIT: i64 = 1000;

/// Every event of a lot's chain (named by its class id): the events that name it, and back
/// through each transformation that made it to the events of the lots it was made from.
/// Earliest first.
pub async fn traceback(app: &App, class_id: &str) -> Result<Vec<StoredEvent>, Error> {
    use crate::domain::epcis::journey::{inputs, outputs};
    let mut known: HashSet<String> = HashSet::from([class_id.to_owned()]);
    let mut frontier = vec![class_id.to_owned()];
    let mut events: std::collections::BTreeMap<i64, (String, StoredEvent)> = Default::default();
    while !frontier.is_empty() && (events.len() as i64) < TRACEBACK_LIMIT {
        let found = app.store.events_naming(&frontier, TRACEBACK_LIMIT).await?;
        frontier.clear();
        for event in found {
            let body: serde_json::Value = serde_json::from_str(&event.body).unwrap_or_default();
            let made_here = outputs(&body).iter().any(|o| known.contains(o));
            if body["type"] == "TransformationEvent" && made_here {
                for input in inputs(&body) {
                    if known.insert(input.clone()) {
                        frontier.push(input);
                    }
                }
            }
            let at = body["eventTime"].as_str().unwrap_or_default().to_owned();
            events.entry(event.id).or_insert((at, event));
        }
    }
    let mut chain: Vec<(chrono::DateTime<chrono::Utc>, StoredEvent)> = events
        .into_values()
        .map(|(at, e)| {
            let at = chrono::DateTime::parse_from_rfc3339(&at)
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or(e.record_time);
            (at, e)
        })
        .collect();
    chain.sort_by_key(|(at, e)| (*at, e.id));
    chain.truncate(TRACEBACK_LIMIT as usize);
    Ok(chain.into_iter().map(|(_, e)| e).collect())
}

/// The steps a shopper's page shows for a lot of `producer_id`: its chain's events as the
/// producer (or an operator) recorded them, those declared wrong left out; earliest first.
pub async fn journey(
    app: &App,
    class_id: &str,
    producer_id: i64,
) -> Result<Vec<crate::domain::epcis::journey::Step>, Error> {
    let chain = traceback(app, class_id).await?;
    let declared: HashSet<&str> = chain
        .iter()
        .filter(|e| e.declaration)
        .map(|e| e.hash_id.as_str())
        .collect();
    Ok(chain
        .iter()
        .filter(|e| !declared.contains(e.hash_id.as_str()))
        .filter(|e| e.organization_id.is_none_or(|o| o == producer_id))
        .filter_map(|e| {
            let body: serde_json::Value = serde_json::from_str(&e.body).ok()?;
            crate::domain::epcis::journey::Step::of(&body)
        })
        .collect())
}
