//! Reading EPCIS 2.0 events as partners send them (JSON-LD): the checks GS1's schema makes on
//! the fields truyxuat reads, each refusal naming the field by its JSON pointer, and what
//! truyxuat keeps to find an event again (its kind, time, identifiers, step, disposition,
//! CBV 2.0 hash id). The event itself is kept as received.

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

use super::hash::{Prefixes, hash_id};

/// The CBV 2.0 business steps (bare words; any other step is written as a URI).
pub const BIZ_STEPS: &[&str] = &[
    "accepting",
    "arriving",
    "assembling",
    "collecting",
    "commissioning",
    "consigning",
    "creating_class_instance",
    "cycle_counting",
    "decommissioning",
    "departing",
    "destroying",
    "disassembling",
    "dispensing",
    "encoding",
    "entering_exiting",
    "holding",
    "inspecting",
    "installing",
    "killing",
    "loading",
    "other",
    "packing",
    "picking",
    "receiving",
    "removing",
    "repackaging",
    "repairing",
    "replacing",
    "reserving",
    "retail_selling",
    "shipping",
    "staging_outbound",
    "stock_taking",
    "stocking",
    "storing",
    "transporting",
    "unloading",
    "unpacking",
    "void_shipping",
    "sensor_reporting",
    "sampling",
];

/// The CBV 2.0 dispositions.
pub const DISPOSITIONS: &[&str] = &[
    "active",
    "container_closed",
    "damaged",
    "destroyed",
    "dispensed",
    "disposed",
    "encoded",
    "expired",
    "in_progress",
    "in_transit",
    "inactive",
    "no_pedigree_match",
    "non_sellable_other",
    "partially_dispensed",
    "recalled",
    "reserved",
    "retail_sold",
    "returned",
    "sellable_accessible",
    "sellable_not_accessible",
    "stolen",
    "unknown",
    "available",
    "completeness_verified",
    "completeness_inferred",
    "conformant",
    "container_open",
    "mismatch_instance",
    "mismatch_class",
    "mismatch_quantity",
    "needs_replacement",
    "non_conformant",
    "unavailable",
];

/// An event or document refused: which field (a JSON pointer into what was sent) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct EventError {
    pub pointer: String,
    pub message: String,
}

impl EventError {
    fn at(pointer: impl Into<String>, message: impl Into<String>) -> EventError {
        EventError {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// The event types truyxuat captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Object,
    Aggregation,
    Transformation,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Object => "ObjectEvent",
            EventKind::Aggregation => "AggregationEvent",
            EventKind::Transformation => "TransformationEvent",
        }
    }
}

/// An event read and checked: what truyxuat finds it by, and the event as received.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadEvent {
    pub kind: EventKind,
    /// The CBV 2.0 hash id: truyxuat's name for the event, whatever `eventID` it came with.
    pub hash_id: String,
    pub event_time: DateTime<FixedOffset>,
    /// `ADD`, `OBSERVE` or `DELETE`; none for a transformation.
    pub action: Option<String>,
    pub biz_step: Option<String>,
    pub disposition: Option<String>,
    /// Every instance identifier: parent, EPC lists, children, inputs, outputs.
    pub epcs: Vec<String>,
    /// Every class identifier of its quantity lists.
    pub classes: Vec<String>,
    /// Whether it declares an earlier event wrong (same id, not a duplicate).
    pub error_declaration: bool,
    pub body: Map<String, Value>,
}

/// The events of an `EPCISDocument`, each checked; the first refusal names its field.
pub fn read_document(doc: &Value) -> Result<Vec<ReadEvent>, EventError> {
    let doc = doc
        .as_object()
        .ok_or_else(|| EventError::at("", "an EPCIS document is a JSON object"))?;
    let context = doc
        .get("@context")
        .ok_or_else(|| EventError::at("/@context", "required: the JSON-LD context"))?;
    if doc.get("type").and_then(Value::as_str) != Some("EPCISDocument") {
        return Err(EventError::at("/type", "must be \"EPCISDocument\""));
    }
    let events = doc
        .get("epcisBody")
        .and_then(|b| b.get("eventList"))
        .and_then(Value::as_array)
        .ok_or_else(|| EventError::at("/epcisBody/eventList", "required: a list of events"))?;
    let prefixes = Prefixes::from_context(Some(context));
    events
        .iter()
        .enumerate()
        .map(|(i, e)| read_event(e, &prefixes, &format!("/epcisBody/eventList/{i}")))
        .collect()
}

/// One event sent on its own (`POST /epcis/events`): it carries its own `@context`.
pub fn read_single(event: &Value) -> Result<ReadEvent, EventError> {
    let context = event
        .get("@context")
        .ok_or_else(|| EventError::at("/@context", "required: the JSON-LD context"))?;
    read_event(event, &Prefixes::from_context(Some(context)), "")
}

/// One event at `at` (a JSON pointer), with the prefixes its document declares.
pub fn read_event(event: &Value, prefixes: &Prefixes, at: &str) -> Result<ReadEvent, EventError> {
    let body = event
        .as_object()
        .ok_or_else(|| EventError::at(at, "an event is a JSON object"))?;
    let field = |name: &str| format!("{at}/{name}");
    let kind = match body.get("type").and_then(Value::as_str) {
        Some("ObjectEvent") => EventKind::Object,
        Some("AggregationEvent") => EventKind::Aggregation,
        Some("TransformationEvent") => EventKind::Transformation,
        Some(other) => {
            return Err(EventError::at(
                field("type"),
                format!(
                    "{other:?} is not captured here: ObjectEvent, AggregationEvent or TransformationEvent"
                ),
            ));
        }
        None => return Err(EventError::at(field("type"), "required: the event's type")),
    };
    let event_time = match body.get("eventTime") {
        Some(Value::String(t)) => DateTime::parse_from_rfc3339(t).map_err(|_| {
            EventError::at(
                field("eventTime"),
                "a date and time with its offset (RFC 3339)",
            )
        })?,
        Some(_) => {
            return Err(EventError::at(
                field("eventTime"),
                "a date and time as text",
            ));
        }
        None => return Err(EventError::at(field("eventTime"), "required")),
    };
    match body.get("eventTimeZoneOffset").and_then(Value::as_str) {
        Some(offset) if time_zone_offset(offset) => {}
        Some(_) => {
            return Err(EventError::at(
                field("eventTimeZoneOffset"),
                "an offset such as +07:00",
            ));
        }
        None => {
            return Err(EventError::at(
                field("eventTimeZoneOffset"),
                "required, such as +07:00",
            ));
        }
    }
    let action = body.get("action");
    let action = match (kind, action) {
        (EventKind::Transformation, None) => None,
        (EventKind::Transformation, Some(_)) => {
            return Err(EventError::at(
                field("action"),
                "a transformation has no action",
            ));
        }
        (_, Some(Value::String(a))) if matches!(a.as_str(), "ADD" | "OBSERVE" | "DELETE") => {
            Some(a.clone())
        }
        (_, Some(_)) => {
            return Err(EventError::at(
                field("action"),
                "one of ADD, OBSERVE, DELETE",
            ));
        }
        (_, None) => {
            return Err(EventError::at(
                field("action"),
                "required: ADD, OBSERVE or DELETE",
            ));
        }
    };
    let biz_step = vocabulary(body, "bizStep", BIZ_STEPS, &field)?;
    let disposition = vocabulary(body, "disposition", DISPOSITIONS, &field)?;

    let mut epcs = Vec::new();
    if let Some(parent) = body.get("parentID") {
        epcs.push(
            parent
                .as_str()
                .ok_or_else(|| EventError::at(field("parentID"), "an identifier as text"))?
                .to_owned(),
        );
    }
    for list in ["epcList", "childEPCs", "inputEPCList", "outputEPCList"] {
        epcs.extend(identifiers(body, list, &field)?);
    }
    let mut classes = Vec::new();
    for list in [
        "quantityList",
        "childQuantityList",
        "inputQuantityList",
        "outputQuantityList",
    ] {
        classes.extend(quantities(body, list, &field)?);
    }
    let names_something = match kind {
        EventKind::Object => !epcs.is_empty() || !classes.is_empty(),
        EventKind::Aggregation => {
            let children = |list: &str| {
                body.get(list)
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())
            };
            action.as_deref() == Some("DELETE")
                || children("childEPCs")
                || children("childQuantityList")
        }
        EventKind::Transformation => !epcs.is_empty() || !classes.is_empty(),
    };
    if !names_something {
        let list = match kind {
            EventKind::Object => "epcList",
            EventKind::Aggregation => "childEPCs",
            EventKind::Transformation => "inputEPCList",
        };
        return Err(EventError::at(
            field(list),
            "the event names no product: give identifiers or quantities",
        ));
    }
    Ok(ReadEvent {
        kind,
        hash_id: hash_id(body, prefixes),
        event_time,
        action,
        biz_step,
        disposition,
        epcs,
        classes,
        error_declaration: body.contains_key("errorDeclaration"),
        body: body.clone(),
    })
}

/// `+07:00`, `-06:00`: the offsets the schema allows (−13:59 to +14:00).
fn time_zone_offset(offset: &str) -> bool {
    let b = offset.as_bytes();
    b.len() == 6
        && matches!(b[0], b'+' | b'-')
        && b[3] == b':'
        && [b[1], b[2], b[4], b[5]].iter().all(u8::is_ascii_digit)
        && (&offset[1..3] < "14" || &offset[1..] == "14:00")
        && &offset[4..] < "60"
}

/// A CBV field: a bare word of the vocabulary, or a URI for a step of one's own.
fn vocabulary(
    body: &Map<String, Value>,
    name: &str,
    words: &[&str],
    field: &impl Fn(&str) -> String,
) -> Result<Option<String>, EventError> {
    match body.get(name) {
        None => Ok(None),
        Some(Value::String(w)) if words.contains(&w.as_str()) => Ok(Some(w.clone())),
        Some(Value::String(w)) if w.contains(':') && !w.starts_with("urn:epcglobal:cbv") => {
            Ok(Some(w.clone()))
        }
        Some(_) => Err(EventError::at(
            field(name),
            format!("a CBV 2.0 word (such as {}) or a URI of your own", words[0]),
        )),
    }
}

/// The items of an optional list field: none when it is absent, refused when not a list.
fn list<'a>(
    body: &'a Map<String, Value>,
    name: &str,
    field: &impl Fn(&str) -> String,
    what: &str,
) -> Result<&'a [Value], EventError> {
    match body.get(name) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(EventError::at(field(name), what)),
    }
}

/// The identifiers of an EPC list.
fn identifiers(
    body: &Map<String, Value>,
    name: &str,
    field: &impl Fn(&str) -> String,
) -> Result<Vec<String>, EventError> {
    list(body, name, field, "a list of identifiers")?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str()
                .filter(|s| !s.trim().is_empty())
                .map(str::to_owned)
                .ok_or_else(|| {
                    EventError::at(format!("{}/{i}", field(name)), "an identifier as text")
                })
        })
        .collect()
}

/// The classes of a quantity list, each element checked.
fn quantities(
    body: &Map<String, Value>,
    name: &str,
    field: &impl Fn(&str) -> String,
) -> Result<Vec<String>, EventError> {
    let items = list(body, name, field, "a list of quantities")?;
    let mut classes = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{}/{i}", field(name));
        let q = item
            .as_object()
            .ok_or_else(|| EventError::at(&at, "a quantity: epcClass, quantity, uom"))?;
        let class = q.get("epcClass").and_then(Value::as_str).ok_or_else(|| {
            EventError::at(format!("{at}/epcClass"), "required: the class identifier")
        })?;
        match q.get("quantity") {
            None => {}
            Some(Value::Number(n)) if n.as_f64().is_some_and(|f| f >= 0.0) => {}
            Some(_) => {
                return Err(EventError::at(
                    format!("{at}/quantity"),
                    "a number, not text",
                ));
            }
        }
        match q.get("uom") {
            None => {}
            Some(Value::String(u))
                if (2..=3).contains(&u.len())
                    && u.bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) => {}
            Some(_) => {
                return Err(EventError::at(
                    format!("{at}/uom"),
                    "a UN/CEFACT unit code such as KGM",
                ));
            }
        }
        if let Some(extra) = q
            .keys()
            .find(|k| !matches!(k.as_str(), "epcClass" | "quantity" | "uom"))
        {
            return Err(EventError::at(
                format!("{at}/{extra}"),
                "not a field of a quantity",
            ));
        }
        classes.push(class.to_owned());
    }
    Ok(classes)
}

/// An event as truyxuat stores it: the fields queries filter on, its identifiers in canonical
/// form, and its JSON as received.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub hash_id: String,
    pub event_type: &'static str,
    pub event_time: chrono::DateTime<chrono::Utc>,
    pub action: Option<String>,
    pub biz_step: Option<String>,
    pub disposition: Option<String>,
    pub declaration: bool,
    /// The organization it was captured for; none when an operator captured it.
    pub organization_id: Option<i64>,
    pub body: String,
    /// Instance identifiers, canonical where they are GS1 keys.
    pub instances: Vec<String>,
    /// Class identifiers (a lot of a product), canonical where they are GS1 keys.
    pub classes: Vec<String>,
}

impl ReadEvent {
    /// The event as stored for `organization_id`.
    pub fn to_new(&self, organization_id: Option<i64>) -> NewEvent {
        let canonical = |ids: &[String]| {
            let mut out: Vec<String> = ids
                .iter()
                .map(|i| super::identifiers::canonical_digital_link(i).unwrap_or_else(|| i.clone()))
                .collect();
            out.sort();
            out.dedup();
            out
        };
        NewEvent {
            hash_id: self.hash_id.clone(),
            event_type: self.kind.as_str(),
            event_time: self.event_time.with_timezone(&chrono::Utc),
            action: self.action.clone(),
            biz_step: self.biz_step.clone(),
            disposition: self.disposition.clone(),
            declaration: self.error_declaration,
            organization_id,
            body: Value::Object(self.body.clone()).to_string(),
            instances: canonical(&self.epcs),
            classes: canonical(&self.classes),
        }
    }
}

/// An event as stored: its row, its id, when truyxuat recorded it, and its JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub id: i64,
    pub hash_id: String,
    pub record_time: chrono::DateTime<chrono::Utc>,
    pub declaration: bool,
    /// The organization it was captured for; none when an operator captured it.
    pub organization_id: Option<i64>,
    pub body: String,
}

impl StoredEvent {
    /// The event as an EPCIS document lists it: as received, with its `eventID` (truyxuat's
    /// hash id when it came without one) and `recordTime`.
    pub fn to_json(&self) -> Value {
        let mut event: Map<String, Value> = serde_json::from_str(&self.body).unwrap_or_default();
        event.remove("@context");
        event
            .entry("eventID")
            .or_insert_with(|| Value::String(self.hash_id.clone()));
        event.insert(
            "recordTime".into(),
            Value::String(
                self.record_time
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ),
        );
        event.into_iter().collect()
    }
}
