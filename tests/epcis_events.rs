//! Reading EPCIS 2.0 documents as partners send them: GS1's own JSON-LD examples of the event
//! types truyxuat captures are read whole, and malformed documents are refused naming the
//! field at fault.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use truyxuat::domain::epcis::event::{EventKind, read_document, read_event, read_single};
use truyxuat::domain::epcis::hash::Prefixes;

fn examples() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "jsonld") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/epcis-gs1/JSON"),
        &mut out,
    );
    out.sort();
    out
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn gs1s_examples_of_object_aggregation_and_transformation_events_are_read_whole() {
    let mut kinds = Vec::new();
    let files = examples();
    assert!(files.len() >= 13, "{} example files", files.len());
    for path in &files {
        let doc = load(path);
        let events = if doc["type"] == "EPCISQueryDocument" {
            let prefixes = Prefixes::from_context(doc.get("@context"));
            let list = doc
                .pointer("/epcisBody/queryResults/resultsBody/eventList")
                .and_then(Value::as_array)
                .unwrap();
            list.iter()
                .map(|e| read_event(e, &prefixes, ""))
                .collect::<Result<Vec<_>, _>>()
        } else {
            read_document(&doc)
        };
        let events = events.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!events.is_empty(), "{}", path.display());
        for e in events {
            assert!(e.hash_id.starts_with("ni:///sha-256;"), "{}", e.hash_id);
            assert!(
                !e.epcs.is_empty()
                    || !e.classes.is_empty()
                    || e.action.as_deref() == Some("DELETE")
            );
            kinds.push(e.kind);
        }
    }
    for kind in [
        EventKind::Object,
        EventKind::Aggregation,
        EventKind::Transformation,
    ] {
        assert!(kinds.contains(&kind), "no {kind:?} among the examples");
    }
}

/// A harvest as a cooperative records it: 1,200 kg of longan of one lot.
fn harvest() -> Value {
    crate::support::epcis::harvest(
        "https://id.gs1.org/01/08936012345674/10/NH-2026-08",
        "2026-08-01T06:30:00+07:00",
    )
}

/// `doc` changed by `edit`, then read: the refusal's field.
fn refused_at(edit: impl FnOnce(&mut Value)) -> String {
    let mut doc = harvest();
    edit(&mut doc);
    read_document(&doc).expect_err("refused").pointer
}

#[test]
fn a_harvest_is_read_with_its_lot_and_hash_id() {
    let events = read_document(&harvest()).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].classes,
        ["https://id.gs1.org/01/08936012345674/10/NH-2026-08"]
    );
    assert_eq!(events[0].biz_step.as_deref(), Some("commissioning"));
    // The same event written with an EPC class URN is the same event.
    let mut urn = harvest();
    urn["epcisBody"]["eventList"][0]["quantityList"][0]["epcClass"] =
        json!("urn:epc:class:lgtin:893601234.0567.NH-2026-08");
    assert_eq!(read_document(&urn).unwrap()[0].hash_id, events[0].hash_id);
}

#[test]
fn malformed_documents_are_refused_naming_the_field() {
    let e = "/epcisBody/eventList/0";
    assert_eq!(
        refused_at(|d| {
            d.as_object_mut().unwrap().remove("@context");
        }),
        "/@context"
    );
    assert_eq!(
        refused_at(|d| d["epcisBody"]["eventList"][0]["action"] = json!("PLANT")),
        format!("{e}/action")
    );
    assert_eq!(
        refused_at(
            |d| d["epcisBody"]["eventList"][0]["quantityList"][0]["quantity"] = json!("1200")
        ),
        format!("{e}/quantityList/0/quantity")
    );
    assert_eq!(
        refused_at(|d| d["epcisBody"]["eventList"][0]["eventTime"] = json!("hôm qua")),
        format!("{e}/eventTime")
    );
    assert_eq!(
        refused_at(|d| d["epcisBody"]["eventList"][0]["eventTime"] = json!("2026-08-01T06:30:00")),
        format!("{e}/eventTime")
    );
    assert_eq!(
        refused_at(|d| {
            d["epcisBody"]["eventList"][0]
                .as_object_mut()
                .unwrap()
                .remove("quantityList");
        }),
        format!("{e}/epcList")
    );
    assert_eq!(
        refused_at(|d| d["epcisBody"]["eventList"][0]["bizStep"] = json!("harvesting")),
        format!("{e}/bizStep")
    );
    assert_eq!(
        refused_at(|d| d["epcisBody"]["eventList"][0]["eventTimeZoneOffset"] = json!("+7")),
        format!("{e}/eventTimeZoneOffset")
    );
    assert_eq!(
        refused_at(|d| d["epcisBody"]["eventList"][0]["type"] = json!("AssociationEvent")),
        format!("{e}/type")
    );
    assert_eq!(
        refused_at(|d| d["epcisBody"]["eventList"][0]["quantityList"][0]["uom"] = json!("kg")),
        format!("{e}/quantityList/0/uom")
    );
    // A single event sent on its own needs its own context.
    let mut single = harvest()["epcisBody"]["eventList"][0].clone();
    assert_eq!(read_single(&single).unwrap_err().pointer, "/@context");
    single["@context"] = harvest()["@context"].clone();
    assert!(read_single(&single).is_ok());
}

#[test]
fn an_error_declaration_keeps_the_id_of_the_event_it_corrects() {
    let original = read_document(&harvest()).unwrap().remove(0);
    let mut declared = harvest();
    declared["epcisBody"]["eventList"][0]["errorDeclaration"] =
        json!({"declarationTime": "2026-08-02T08:00:00+07:00", "reason": "incorrect_data"});
    let declared = read_document(&declared).unwrap().remove(0);
    assert!(declared.error_declaration && !original.error_declaration);
    assert_eq!(declared.hash_id, original.hash_id);
}
