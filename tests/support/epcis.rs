//! EPCIS documents as a cooperative sends them, for the tests that capture events.

#![allow(dead_code)]

use serde_json::{Value, json};

/// The context every EPCIS 2.0 JSON-LD document names.
pub const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// An `EPCISDocument` holding `events`.
pub fn document(events: Vec<Value>) -> Value {
    json!({
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-08-01T07:00:00+07:00",
        "epcisBody": {"eventList": events}
    })
}

/// A harvest (an ObjectEvent adding `quantity` kg of the lot `class`) at `time`.
pub fn harvest_event(class: &str, time: &str, quantity: u32) -> Value {
    json!({
        "type": "ObjectEvent",
        "eventTime": time,
        "eventTimeZoneOffset": "+07:00",
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
        "quantityList": [{"epcClass": class, "quantity": quantity, "uom": "KGM"}],
        "readPoint": {"id": "https://id.gs1.org/414/8936012345008"}
    })
}

/// A document of one harvest of 1,200 kg.
pub fn harvest(class: &str, time: &str) -> Value {
    document(vec![harvest_event(class, time, 1200)])
}
