//! A lot's chain of events: the demo's dried longan (two harvests, drying, packing, shipping
//! to Hà Nội, receiving) traced back as one EPCIS document, and shown as a journey on the
//! shopper's page of one of its labels.

use axum::http::StatusCode;
use serde_json::{Value, json};
use truyxuat::store::ListQuery;

use crate::support::http::TestApp;
use crate::support::labels::mint;

const DRIED_LOT: &str = "https://id.gs1.org/01/08936049120206/10/LN-2026-08";

/// The demo with its events captured; the id of the dried longan.
async fn demo_with_events() -> (TestApp, i64) {
    let app = TestApp::with_demo().await;
    let captured = truyxuat::demo::events(&app.app).await.unwrap();
    assert_eq!(captured, 8);
    let products = app
        .db
        .store
        .list_products(&ListQuery::search("Long nhãn sấy khô"), None)
        .await
        .unwrap();
    (app, products[0].id)
}

#[tokio::test]
async fn a_three_lot_transformation_chain_is_one_traceback_with_all_its_events() {
    let (app, _) = demo_with_events().await;
    let urn = "urn:epc:class:lgtin:893604912.0020.LN-2026-08".replace(':', "%3A");
    let reply = app
        .api(
            "GET",
            &format!("/epcis/traceback?epcClass={urn}"),
            json!(null),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let doc = reply.json();
    assert_eq!(doc["epcisBody"]["queryResults"]["queryName"], "Traceback");
    crate::epcis_api::assert_schema_valid(std::slice::from_ref(&doc));
    let events = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .unwrap();
    let steps: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["bizStep"].as_str().unwrap()))
        .collect();
    // Both gardens' harvests, the drying that made the lot from them, then the lot's own
    // packing, shipping and receiving; the tea's events are not in it.
    assert_eq!(
        steps,
        [
            ("ObjectEvent", "commissioning"),
            ("ObjectEvent", "commissioning"),
            ("TransformationEvent", "commissioning"),
            ("ObjectEvent", "packing"),
            ("ObjectEvent", "shipping"),
            ("ObjectEvent", "receiving"),
        ]
    );
    let inputs = events[2]["inputQuantityList"].as_array().unwrap();
    assert_eq!(inputs.len(), 2);
    for (harvest, input) in events[..2].iter().zip(inputs) {
        assert_eq!(harvest["quantityList"][0]["epcClass"], input["epcClass"]);
    }
    assert_eq!(events[3]["quantityList"][0]["epcClass"], DRIED_LOT);
    // A fresh lot's traceback is its own harvest and the drying it went into.
    let fresh = events[0]["quantityList"][0]["epcClass"]
        .as_str()
        .unwrap()
        .replace(':', "%3A");
    let reply = app
        .api(
            "GET",
            &format!("/epcis/traceback?epcClass={fresh}"),
            json!(null),
        )
        .await;
    let list = reply.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(list, 2);
}

#[tokio::test]
async fn a_label_of_the_dried_lot_shows_its_journey_in_vietnamese_within_14_kb() {
    let (app, dried) = demo_with_events().await;
    let label = mint(&app, dried, 1, Some("LN-2026-08")).await.remove(0);
    let page = app.get(&label).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let steps = page.texts("#journey li");
    assert_eq!(steps.len(), 6, "{steps:?}");
    assert!(
        steps[0].starts_with("Thu hoạch, sản xuất 25/07/2026 · 3.000 kg"),
        "{}",
        steps[0]
    );
    assert!(
        steps[0].contains("Vườn nhãn Hồng Nam, Hồng Nam, Hưng Yên"),
        "{}",
        steps[0]
    );
    assert!(
        steps[2].starts_with("Chế biến 02/08/2026 · 1.100 kg"),
        "{}",
        steps[2]
    );
    assert!(steps[5].starts_with("Nhận hàng 07/08/2026"), "{}", steps[5]);
    assert!(
        steps[5].contains("Cửa hàng đặc sản Phố Hiến, Hoàn Kiếm, Hà Nội"),
        "{}",
        steps[5]
    );
    assert_eq!(page.texts("#journey h2"), ["Hành trình sản phẩm"]);
    let english = app.get_with(&label, "accept-language", "en").await;
    assert!(
        english.texts("#journey li")[3].starts_with("Packed 05/08/2026"),
        "{:?}",
        english.texts("#journey li")
    );
    let compressed = app.get_gzip(&label).await.body_bytes.len();
    assert!(compressed <= 14 * 1024, "{compressed} bytes compressed");
    assert!(!page.body.contains("<script src"), "no script");
    // A label of another lot has no journey.
    let tea = mint(&app, 1, 1, Some("CD-2026-09A")).await.remove(0);
    assert!(app.get(&tea).await.texts("#journey li").is_empty());
}

/// Partners' words reach the page: every hostile text of the fixtures, as the place of an
/// event of the lot, leaves the page whole, escaped, one clean line of at most 120 characters,
/// without control or bidi characters.
#[tokio::test]
async fn hostile_place_names_from_partners_are_shown_escaped_and_clean() {
    let (app, dried) = demo_with_events().await;
    let fixtures: Vec<Value> = include_str!("fixtures/hostile-text.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let events: Vec<Value> = fixtures
        .iter()
        .enumerate()
        .map(|(i, f)| {
            json!({
                "type": "ObjectEvent",
                "eventTime": format!("2026-09-01T{:02}:{:02}:00+07:00", i / 60, i % 60),
                "eventTimeZoneOffset": "+07:00", "action": "OBSERVE", "bizStep": "receiving",
                "quantityList": [{"epcClass": DRIED_LOT, "quantity": 1, "uom": "H87"}],
                "truyxuat:place": {"name": f["text"], "province": f["text"]}
            })
        })
        .collect();
    let doc = json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2026-09-01T08:00:00+07:00",
        "epcisBody": {"eventList": events}
    });
    let captured = app.api("POST", "/epcis/capture", doc).await;
    assert_eq!(captured.status, StatusCode::CREATED, "{}", captured.body);
    let label = mint(&app, dried, 1, Some("LN-2026-08")).await.remove(0);
    let page = app.get(&label).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.trim_end().ends_with("</html>"),
        "the page is whole"
    );
    assert!(!page.body.contains("<!--<script>") && !page.body.contains("<script>alert"));
    assert!(!page.body.contains("<img src=x"));
    let steps = page.texts("#journey li");
    assert_eq!(steps.len(), 6 + fixtures.len());
    for step in &steps[6..] {
        assert!(
            !step.chars().any(|c| c.is_control()
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')),
            "{step:?}"
        );
        // The step's words, its date and quantity, and a place and a province of at most
        // 120 characters each (the 10,000-character fixture is cut).
        assert!(
            step.chars().count() <= 40 + 2 * 120 + 2,
            "{} characters",
            step.chars().count()
        );
    }
    assert!(
        steps.iter().any(|s| s.contains("HTX <!--<script>")),
        "shown as typed, escaped"
    );
}

/// The resolver's linkset of a label points partners to the lot's EPCIS events.
#[tokio::test]
async fn a_labels_linkset_links_to_the_lots_epcis_events() {
    let (app, dried) = demo_with_events().await;
    let label = mint(&app, dried, 1, Some("LN-2026-08")).await.remove(0);
    let set = app.get(&format!("{label}?linkType=linkset")).await.json()["linkset"][0].clone();
    let href = set["https://gs1.org/voc/epcis"][0]["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = href.trim_start_matches("http://127.0.0.1:8080");
    assert!(
        path.starts_with("/epcis/events?MATCH_anyEPCClass="),
        "{href}"
    );
    let reply = app.api("GET", path, json!(null)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let events = reply.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"].clone();
    // The events that name the lot itself: its drying (as output), packing, shipping, receiving.
    assert_eq!(events.as_array().unwrap().len(), 4, "{events}");
}

/// The inspector of the lot's province reads its whole chain on the lot's page: each event
/// with its time, step, place and who recorded it; an event declared wrong says so.
#[tokio::test]
async fn an_inspector_reads_a_lots_chain_of_events_on_its_page() {
    use crate::support::changes::Changes;
    use truyxuat::domain::people::Role;
    let (app, dried) = demo_with_events().await;
    let department = app
        .db
        .store
        .create_organization(
            &crate::support::fixtures::department("Chi cục QLCL Hưng Yên")
                .province("Hưng Yên")
                .build(),
            crate::support::fixtures::now(),
        )
        .await
        .unwrap();
    let inspector = app
        .member(
            "thanhtra@qlcl.hungyen.gov.vn",
            department.id,
            Role::Inspector,
        )
        .await;
    // The shop declares its receiving wrong (the bags were counted twice).
    let declared = json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2026-08-08T08:00:00+07:00",
        "epcisBody": {"eventList": [{
            "type": "ObjectEvent", "eventTime": "2026-08-07T10:30:00+07:00",
            "eventTimeZoneOffset": "+07:00", "action": "OBSERVE", "bizStep": "receiving",
            "disposition": "sellable_accessible",
            "quantityList": [{"epcClass": DRIED_LOT, "quantity": 400, "uom": "H87"}],
            "truyxuat:place": {"name": "Cửa hàng đặc sản Phố Hiến", "commune": "Hoàn Kiếm", "province": "Hà Nội"},
            "errorDeclaration": {"declarationTime": "2026-08-08T08:00:00+07:00", "reason": "incorrect_data"}
        }]}
    });
    let reply = app.api("POST", "/epcis/capture", declared).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let lots = app
        .db
        .store
        .list_lots(&ListQuery::search("LN-2026-08"), Some(dried))
        .await
        .unwrap();
    let page = app
        .get_with(
            &format!("/inspect/lots/{}", lots[0].id),
            "cookie",
            &inspector.cookie,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let rows = page.texts("#chain tbody tr");
    assert_eq!(rows.len(), 6, "{rows:?}");
    assert!(
        rows[0].contains("25/07/2026 05:30") && rows[0].contains("Vườn nhãn Hồng Nam"),
        "{}",
        rows[0]
    );
    assert!(rows[2].contains("Chế biến"), "{}", rows[2]);
    assert!(
        rows[5].contains("Nhận hàng (đã khai báo sai)"),
        "{}",
        rows[5]
    );
    // The shopper's journey leaves the declared receiving out.
    let label = mint(&app, dried, 1, Some("LN-2026-08")).await.remove(0);
    let steps = app.get(&label).await.texts("#journey li");
    assert_eq!(steps.len(), 5, "{steps:?}");
}

/// The demo's tea rests on its OCOP rating, in force when it was picked and packed: its
/// events say so (`certificationInfo`), as GS1's schema has it.
#[tokio::test]
async fn the_demo_teas_events_rest_on_its_ocop_rating() {
    let (app, _) = demo_with_events().await;
    let tea = "https://id.gs1.org/01/08936049120015/10/CD-2026-10A";
    let reply = app
        .api(
            "GET",
            &format!(
                "/epcis/events?MATCH_anyEPCClass={}",
                crate::support::http::urlencode(tea)
            ),
            json!(null),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    crate::epcis_api::assert_schema_valid(&[reply.json()]);
    let events = reply.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"].clone();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 2);
    for event in events {
        let info = event["certificationInfo"].as_array().unwrap();
        assert_eq!(info.len(), 1, "{event}");
        assert!(info[0].as_str().unwrap().contains("certificate"), "{event}");
    }
}
