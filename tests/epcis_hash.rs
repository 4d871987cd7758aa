//! truyxuat's CBV 2.0 event hash ids against the reference implementation's test files
//! (`tests/fixtures/epcis-hash`): every event of every file in scope gets the id the
//! reference computed for it.

use std::path::Path;

use serde_json::Value;
use truyxuat::domain::epcis::hash::{Prefixes, hash_id, prehash};

/// Files whose events use what truyxuat does not read, each with why.
const OUT_OF_SCOPE: &[(&str, &str)] = &[
    ("CertificationInfoAndSensorReportWithCRS", "sensor data"),
    ("ReferenceEventHashAlgorithm2", "sensor data"),
    ("TimeStampRoundOff", "sensor data"),
    ("epcisDocWithSensorComponent", "sensor data"),
    ("epcisDocWithSensorDataObjectEvent", "sensor data"),
    (
        "epcisDocHavingEventWithIgnoreFields",
        "one repository's own list of fields to ignore",
    ),
    (
        "epcisQueryDocHavingEventWithIgnoreFields",
        "one repository's own list of fields to ignore",
    ),
    (
        "epcisDocWithAllGS1Keys",
        "asset, service and component keys (GIAI, GRAI, CPI, GSRN…)",
    ),
    (
        "epclist_normalisation",
        "asset, service and component keys (GIAI, GRAI, CPI, GSRN…)",
    ),
];

/// The events of an EPCIS document or query document.
fn events(doc: &Value) -> Vec<&serde_json::Map<String, Value>> {
    let body = &doc["epcisBody"];
    let list = body
        .get("eventList")
        .or_else(|| body.pointer("/queryResults/resultsBody/eventList"))
        .and_then(Value::as_array)
        .expect("an event list");
    list.iter()
        .map(|e| e.as_object().expect("an event"))
        .collect()
}

#[test]
fn event_ids_equal_the_reference_implementations() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/epcis-hash");
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonld"))
        .collect();
    files.sort();
    for path in files {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if OUT_OF_SCOPE.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let expected = std::fs::read_to_string(path.with_extension("hashes")).unwrap();
        let expected: Vec<&str> = expected.lines().filter(|l| !l.trim().is_empty()).collect();
        let prefixes = Prefixes::from_context(doc.get("@context"));
        let got: Vec<String> = events(&doc)
            .into_iter()
            .map(|e| hash_id(e, &prefixes))
            .collect();
        assert_eq!(got.len(), expected.len(), "{name}: events");
        for (i, (got, want)) in got.iter().zip(&expected).enumerate() {
            checked += 1;
            if got != want {
                let pre = prehash(events(&doc)[i], &prefixes);
                failures.push(format!("{name} event {i}: {got} != {want}\n  {pre}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} ids differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, 30, "events checked");
}
