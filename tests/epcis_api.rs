//! The EPCIS 2.0 REST binding as partners use it: GS1's own example documents are captured,
//! the same event twice is a 409, malformed documents are refused naming the field, events
//! are found by identifier (whichever way it is written), step, disposition and time, a page
//! at a time, and every document truyxuat answers with validates against GS1's schema.

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use serde_json::{Value, json};
use truyxuat::domain::epcis::event::read_document;
use truyxuat::domain::people::Role;

use crate::support::epcis::harvest;
use crate::support::http::TestApp;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/epcis-gs1")
}

/// GS1's example documents (not the query document, which is an answer, not a capture).
fn examples() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in [
        "JSON",
        "JSON/WithDigitalLinkID",
        "JSON/WithErrorDeclaration",
    ] {
        for entry in std::fs::read_dir(fixtures().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".jsonld") && !name.starts_with("EPCISQueryDocument") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A cooperative and an editor's token there.
pub(crate) async fn cooperative(app: &TestApp) -> String {
    let coop = app
        .api(
            "POST",
            "/api/v1/organizations",
            json!({"kind": "cooperative", "name": "HTX Long Nhãn Hưng Yên", "province": "Hưng Yên"}),
        )
        .await;
    assert_eq!(coop.status, StatusCode::CREATED, "{}", coop.body);
    let id = coop.json()["id"].as_i64().unwrap();
    app.member_token("bientap@longnhan.vn", id, Role::Editor)
        .await
}

pub(crate) const LOT_DL: &str = "https://id.gs1.org/01/08936012345674/10/NH-2026-08";
const LOT_URN: &str = "urn:epc:class:lgtin:893601234.0567.NH-2026-08";

/// Writes each document to a file and runs GS1's schema over them all (`tests/epcis/validate.py`).
pub(crate) fn assert_schema_valid(documents: &[Value]) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, doc) in documents.iter().enumerate() {
        let path = dir.path().join(format!("answer-{i}.json"));
        std::fs::write(&path, doc.to_string()).unwrap();
        files.push(path);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("tests/.venv/bin/python");
    assert!(python.exists(), "`make test-deps` installs tests/.venv");
    let out = std::process::Command::new(python)
        .arg(root.join("tests/epcis/validate.py"))
        .arg(fixtures().join("EPCIS-JSON-Schema.json"))
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "GS1's schema refuses what truyxuat answered:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn gs1s_examples_are_captured_and_a_second_capture_of_an_event_is_a_conflict() {
    let app = TestApp::new().await;
    let token = cooperative(&app).await;
    let mut captured: Vec<String> = Vec::new();
    let files = examples();
    assert!(files.len() >= 12, "{} examples", files.len());
    for path in &files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let ids: Vec<(String, bool)> = read_document(&doc)
            .unwrap()
            .into_iter()
            .map(|e| (e.hash_id, e.error_declaration))
            .collect();
        // Two of GS1's files repeat another's events (one adds comments, which the id
        // ignores): those must be refused as already captured, the rest captured.
        let repeats = ids
            .iter()
            .any(|(h, declared)| !declared && captured.contains(h));
        let reply = app.api_with(&token, "POST", "/epcis/capture", doc).await;
        let name = path.file_name().unwrap().to_string_lossy();
        if repeats {
            assert_eq!(reply.status, StatusCode::CONFLICT, "{name}: {}", reply.body);
            assert_eq!(reply.header("content-type"), "application/problem+json");
        } else {
            assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
            assert_eq!(reply.header("gs1-epcis-capture-limit"), "100000");
            let answered: Vec<String> = reply.json()["eventIDs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect();
            assert_eq!(
                answered,
                ids.iter().map(|(h, _)| h.clone()).collect::<Vec<_>>()
            );
            captured.extend(ids.into_iter().filter(|(_, d)| !d).map(|(h, _)| h));
        }
    }
    assert!(captured.len() >= 10, "{} events captured", captured.len());
    // Each is found again by its id, as a query document GS1's schema accepts.
    let mut answers = Vec::new();
    for id in &captured {
        let encoded = crate::support::http::urlencode(id);
        let reply = app
            .api_with(
                &token,
                "GET",
                &format!("/epcis/events/{encoded}"),
                json!(null),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{id}: {}", reply.body);
        let doc = reply.json();
        let list = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            .as_array()
            .unwrap()
            .clone();
        assert!(list.iter().any(|e| e["eventID"].is_string()), "{doc}");
        answers.push(doc);
    }
    assert_schema_valid(&answers);
}

/// Both databases: a duplicate is 409, an error declaration is not, malformed documents name
/// the field and store nothing.
mod duplicates_and_malformed_documents {
    #[tokio::test]
    async fn sqlite() {
        super::duplicates_and_malformed(crate::support::db::TestDb::sqlite().await).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::duplicates_and_malformed(crate::support::db::TestDb::postgres().await).await;
    }
}

async fn duplicates_and_malformed(db: crate::support::db::TestDb) {
    let app = TestApp::on(db).await;
    let token = cooperative(&app).await;
    let doc = harvest(LOT_DL, "2026-08-01T06:30:00+07:00");
    let first = app
        .api_with(&token, "POST", "/epcis/capture", doc.clone())
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    // The same event with its lot written as an EPC class URN is the same event.
    let again = app
        .api_with(
            &token,
            "POST",
            "/epcis/capture",
            harvest(LOT_URN, "2026-08-01T06:30:00+07:00"),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(
        again.json()["errors"][0]["field"],
        "/epcisBody/eventList/0",
        "{}",
        again.body
    );
    // Problems carry GS1's names, which EPCIS clients know.
    assert_eq!(
        again.json()["type"],
        "epcisException:ResourceAlreadyExistsException"
    );
    let mut declared = doc.clone();
    declared["epcisBody"]["eventList"][0]["errorDeclaration"] =
        json!({"declarationTime": "2026-08-02T08:00:00+07:00", "reason": "incorrect_data"});
    let declared = app
        .api_with(&token, "POST", "/epcis/capture", declared)
        .await;
    assert_eq!(declared.status, StatusCode::CREATED, "{}", declared.body);

    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: [(&str, Edit, &str); 5] = [
        (
            "no context",
            Box::new(|d| {
                d.as_object_mut().unwrap().remove("@context");
            }),
            "/@context",
        ),
        (
            "unknown action",
            Box::new(|d| d["epcisBody"]["eventList"][0]["action"] = json!("PLANT")),
            "/epcisBody/eventList/0/action",
        ),
        (
            "quantity as text",
            Box::new(|d| {
                d["epcisBody"]["eventList"][0]["quantityList"][0]["quantity"] = json!("1200")
            }),
            "/epcisBody/eventList/0/quantityList/0/quantity",
        ),
        (
            "bad time",
            Box::new(|d| d["epcisBody"]["eventList"][0]["eventTime"] = json!("hôm qua")),
            "/epcisBody/eventList/0/eventTime",
        ),
        (
            "no identifiers",
            Box::new(|d| {
                d["epcisBody"]["eventList"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("quantityList");
            }),
            "/epcisBody/eventList/0/epcList",
        ),
    ];
    for (what, edit, field) in cases {
        let mut bad = harvest(LOT_DL, "2026-08-03T06:30:00+07:00");
        edit(&mut bad);
        let reply = app.api_with(&token, "POST", "/epcis/capture", bad).await;
        assert!(
            reply.status.is_client_error(),
            "{what}: {} {}",
            reply.status,
            reply.body
        );
        assert_eq!(
            reply.header("content-type"),
            "application/problem+json",
            "{what}"
        );
        assert_eq!(
            reply.json()["errors"][0]["field"],
            field,
            "{what}: {}",
            reply.body
        );
        assert_eq!(
            reply.json()["type"],
            "epcisException:ValidationException",
            "{what}"
        );
    }
    let unknown = app
        .api_with(&token, "GET", "/epcis/events/ni:unknown", json!(null))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    assert_eq!(
        unknown.json()["type"],
        "epcisException:NoSuchResourceException"
    );
    let tokenless = app
        .api_with("txa_not-a-token", "GET", "/epcis/events", json!(null))
        .await;
    assert_eq!(tokenless.status, StatusCode::UNAUTHORIZED);
    assert_eq!(tokenless.json()["type"], "epcisException:SecurityException");
    let not_json = app
        .send(
            axum::http::Request::post("/epcis/capture")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{\"@context\": [}"))
                .unwrap(),
        )
        .await;
    assert_eq!(
        not_json.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        not_json.body
    );
    // Nothing refused was stored: the lot has its harvest and the declaration only.
    let all = app
        .api_with(&token, "GET", "/epcis/events", json!(null))
        .await;
    let list = all.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(list, 2);
    app.db.finish().await;
}

/// Both databases: events found by lot (written either way), step and time, a page at a time.
mod queries {
    #[tokio::test]
    async fn sqlite() {
        super::events_found_by_lot_step_and_time(crate::support::db::TestDb::sqlite().await).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::events_found_by_lot_step_and_time(crate::support::db::TestDb::postgres().await)
            .await;
    }
}

async fn events_found_by_lot_step_and_time(db: crate::support::db::TestDb) {
    let app = TestApp::on(db).await;
    let token = cooperative(&app).await;
    for day in 1..=5 {
        let doc = harvest(LOT_DL, &format!("2026-08-0{day}T06:30:00+07:00"));
        let reply = app.api_with(&token, "POST", "/epcis/capture", doc).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    let mut single = harvest(
        "https://id.gs1.org/01/08936012345674/10/OTHER",
        "2026-08-09T06:30:00+07:00",
    )["epcisBody"]["eventList"][0]
        .clone();
    single["@context"] = json!(["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]);
    single["bizStep"] = json!("shipping");
    single["disposition"] = json!("in_transit");
    single["action"] = json!("OBSERVE");
    let one = app.api_with(&token, "POST", "/epcis/events", single).await;
    assert_eq!(one.status, StatusCode::CREATED, "{}", one.body);
    let location = one.header("location").to_owned();
    assert!(
        location.starts_with("/epcis/events/ni%3A%2F%2F%2Fsha-256%3B"),
        "{location}"
    );
    let read = app.api_with(&token, "GET", &location, json!(null)).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);

    let events = |reply: &crate::support::http::Reply| {
        reply.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            .as_array()
            .unwrap()
            .clone()
    };
    let urn = LOT_URN.replace(':', "%3A");
    let by_lot = app
        .api_with(
            &token,
            "GET",
            &format!("/epcis/events?MATCH_anyEPCClass={urn}"),
            json!(null),
        )
        .await;
    assert_eq!(by_lot.status, StatusCode::OK, "{}", by_lot.body);
    assert_eq!(
        events(&by_lot).len(),
        5,
        "the lot's harvests, written as a URN"
    );
    let shipped = app
        .api_with(
            &token,
            "GET",
            "/epcis/events?EQ_bizStep=shipping%7Creceiving",
            json!(null),
        )
        .await;
    assert_eq!(events(&shipped).len(), 1);
    assert_eq!(events(&shipped)[0]["disposition"], "in_transit");
    let window = "/epcis/events?GE_eventTime=2026-08-02T00:00:00%2B07:00&LT_eventTime=2026-08-04T00:00:00%2B07:00";
    assert_eq!(
        events(&app.api_with(&token, "GET", window, json!(null)).await).len(),
        2
    );

    // Two a page: three pages of the six, each pointing to the next, the last to none.
    let mut path = "/epcis/events?perPage=2".to_owned();
    let mut seen = Vec::new();
    let mut answers = Vec::new();
    loop {
        let page = app.api_with(&token, "GET", &path, json!(null)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for e in events(&page) {
            seen.push(e["eventID"].as_str().unwrap().to_owned());
        }
        answers.push(page.json());
        let link = page.header("link").to_owned();
        if link.is_empty() {
            break;
        }
        assert!(link.ends_with("; rel=\"next\""), "{link}");
        path = link
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap()
            .to_owned();
        assert!(seen.len() <= 6, "paging does not end");
    }
    seen.dedup();
    assert_eq!(seen.len(), 6);
    let bad = app
        .api_with(
            &token,
            "GET",
            "/epcis/events?GE_eventTime=yesterday",
            json!(null),
        )
        .await;
    assert_eq!(
        bad.json()["errors"][0]["field"],
        "GE_eventTime",
        "{}",
        bad.body
    );
    assert_eq!(bad.json()["type"], "epcisException:QueryParameterException");
    // Parameters that cannot be read at all are problems too, not the framework's text.
    for path in [
        "/epcis/traceback",
        "/epcis/events?GE_eventTime=a&GE_eventTime=b",
    ] {
        let unread = app.api_with(&token, "GET", path, json!(null)).await;
        assert_eq!(
            unread.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            unread.body
        );
        assert_eq!(
            unread.header("content-type"),
            "application/problem+json",
            "{path}"
        );
    }
    assert_schema_valid(&answers);
    app.db.finish().await;
}

#[tokio::test]
async fn only_a_producers_editors_and_operators_capture_and_only_token_holders_read() {
    let app = TestApp::new().await;
    let editor = cooperative(&app).await;
    let coop = app
        .api("GET", "/api/v1/organizations", json!(null))
        .await
        .json()[0]["id"]
        .as_i64()
        .unwrap();
    let viewer = app
        .member_token("xem@longnhan.vn", coop, Role::Viewer)
        .await;
    let doc = harvest(LOT_DL, "2026-08-01T06:30:00+07:00");
    let refused = app
        .api_with(&viewer, "POST", "/epcis/capture", doc.clone())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let anonymous = app
        .api_with("not-a-token", "GET", "/epcis/events", json!(null))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.api_with(&editor, "POST", "/epcis/capture", doc)
            .await
            .status,
        StatusCode::CREATED
    );
    let read = app
        .api_with(&viewer, "GET", "/epcis/events", json!(null))
        .await;
    assert_eq!(read.status, StatusCode::OK);
}
