//! A cooperative's lot diary in the console: what its people record on a phone at the field
//! becomes an EPCIS event partners read, an audit entry, and a step of the journey shoppers
//! see when they scan the lot's labels.

use axum::http::StatusCode;
use serde_json::json;
use truyxuat::domain::people::Role;
use truyxuat::store::ListQuery;

use crate::support::http::{Session, TestApp, urlencode};
use crate::support::labels::mint;

/// The demo's longan: its producer, the fresh lot NL-2026-07's id and the product's id.
pub(crate) struct Longan {
    pub producer: i64,
    pub product: i64,
    pub fresh: i64,
    pub fresh_b: i64,
}

pub(crate) async fn longan(app: &TestApp) -> Longan {
    let store = &app.db.store;
    let product = store
        .list_products(&ListQuery::search("Nhãn lồng Hưng Yên"), None)
        .await
        .unwrap()
        .remove(0);
    let lots = store
        .list_lots(&ListQuery::search("NL-2026-07"), Some(product.id))
        .await
        .unwrap();
    let lot = |code: &str| lots.iter().find(|l| l.data.code == code).unwrap().id;
    Longan {
        producer: product.data.producer_id,
        product: product.id,
        fresh: lot("NL-2026-07"),
        fresh_b: lot("NL-2026-07B"),
    }
}

pub(crate) fn harvest(lot: &str) -> Vec<(&'static str, String)> {
    [
        ("step", "harvested"),
        ("date", "2026-11-23"),
        ("time", "06:30"),
        ("quantity", "1.200"),
        ("unit", "KGM"),
        ("place", "Vườn nhãn nhà ông Tư"),
        ("plot", "VT-TN-0451"),
        ("commune", "Hồng Nam"),
        ("province", "Hưng Yên"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .chain([("lot_id", lot.to_owned())])
    .collect()
}

pub(crate) async fn post(
    app: &TestApp,
    fields: &[(&str, String)],
    who: &Session,
) -> crate::support::http::Reply {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    app.post_console("/console/events", &fields, who).await
}

#[tokio::test]
async fn a_harvest_recorded_on_the_phone_form_is_an_epcis_event_and_a_step_shoppers_see() {
    let app = TestApp::with_demo().await;
    let longan = longan(&app).await;
    let editor = app
        .member("bientap@nhanlong.vn", longan.producer, Role::Editor)
        .await;
    let form = app
        .get_with("/console/events", "cookie", &editor.cookie)
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    // Today and now at the field (the clock reads 08:00 UTC: 15:00 in Vietnam).
    let html = form.html();
    let value = |name: &str| {
        let selector = scraper::Selector::parse(&format!("#new-event input[name={name}]")).unwrap();
        html.select(&selector)
            .next()
            .unwrap()
            .attr("value")
            .unwrap()
            .to_owned()
    };
    assert_eq!(value("date"), "2026-11-23");
    assert_eq!(value("time"), "15:00");

    let saved = post(&app, &harvest(&longan.fresh.to_string()), &editor).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let diary = app
        .get_with(saved.header("location"), "cookie", &editor.cookie)
        .await;
    assert_eq!(diary.texts("#recorded").len(), 1, "{}", diary.body);
    let lines = diary.texts("#diary li");
    assert!(
        lines[0].starts_with("Thu hoạch, sản xuất · 23/11/2026 06:30")
            && lines[0].contains("NL-2026-07 · Nhãn lồng Hưng Yên")
            && lines[0].contains("1.200 kg")
            && lines[0].contains("Vườn nhãn nhà ông Tư, VT-TN-0451, Hồng Nam, Hưng Yên"),
        "{lines:?}"
    );

    // Partners read it as EPCIS 2.0, with the time zone of the field.
    let class = format!("urn:truyxuat:lot:{}:NL-2026-07", longan.product);
    let class = match app
        .db
        .store
        .product(longan.product)
        .await
        .unwrap()
        .unwrap()
        .data
        .gtin
    {
        Some(gtin) => format!("https://id.gs1.org/01/{}/10/NL-2026-07", gtin.as_gtin14()),
        None => class,
    };
    let found = app
        .api(
            "GET",
            &format!("/epcis/events?MATCH_anyEPCClass={}", urlencode(&class)),
            json!(null),
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let events = found.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"].clone();
    let event = &events[0];
    assert_eq!(event["eventTime"], "2026-11-23T06:30:00+07:00");
    assert_eq!(event["action"], "ADD");
    assert_eq!(event["quantityList"][0]["quantity"], 1200.0);
    assert_eq!(event["quantityList"][0]["uom"], "KGM");
    assert_eq!(event["truyxuat:place"]["plot"], "VT-TN-0451");

    // Its VietGAP ended in 2025: the harvest claims no certificate.
    assert!(event.get("certificationInfo").is_none(), "{event}");

    // Its audit entry names the editor.
    let entries = app
        .db
        .store
        .audit_entries_of("event", event["eventID"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    let entry = entries[0].entry().unwrap();
    assert_eq!(entry.action, "event.capture");
    assert!(
        serde_json::to_string(&entry.actor)
            .unwrap()
            .contains("bientap@nhanlong.vn"),
        "{:?}",
        entry.actor
    );

    // A shopper scanning a label of the lot sees the step.
    let label = mint(&app, longan.product, 1, Some("NL-2026-07"))
        .await
        .remove(0);
    let steps = app.get(&label).await.texts("#journey li");
    assert!(
        steps
            .iter()
            .any(|s| s.contains("VT-TN-0451") && s.contains("23/11/2026")),
        "{steps:?}"
    );

    // The same form sent twice (a double tap) records it once.
    let again = post(&app, &harvest(&longan.fresh.to_string()), &editor).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        again.texts("#step-error"),
        ["Sự kiện này đã được ghi (cùng bước, lô, giờ và nơi)"]
    );

    // A slip of the finger: the harvest is declared wrong. It stays in the diary, marked so,
    // and leaves the shopper's journey; declaring it twice is refused.
    let id = event["eventID"].as_str().unwrap().to_owned();
    let wrong = [("event", id.as_str())];
    let declared = app
        .post_console("/console/events/wrong", &wrong, &editor)
        .await;
    assert_eq!(declared.status, StatusCode::SEE_OTHER, "{}", declared.body);
    let diary = app
        .get_with("/console/events", "cookie", &editor.cookie)
        .await;
    assert!(
        diary.texts("#diary li")[0].contains("(đã báo sai)"),
        "{:?}",
        diary.texts("#diary li")
    );
    let steps = app.get(&label).await.texts("#journey li");
    assert!(steps.iter().all(|s| !s.contains("VT-TN-0451")), "{steps:?}");
    let again = app
        .post_console("/console/events/wrong", &wrong, &editor)
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        again.texts("#event-error"),
        ["Sự kiện này đã được báo ghi sai"]
    );

    // A certificate in force that day: the next event rests on it and points to it on the
    // product's page.
    use crate::support::changes::Changes;
    let issuer = app.db.store.authorities().await.unwrap().remove(0);
    let certificate = app
        .db
        .store
        .create_certification(
            &crate::support::fixtures::ocop(longan.producer, issuer.id, "99/QĐ-UBND")
                .product(longan.product)
                .build(),
            crate::support::fixtures::now(),
        )
        .await
        .unwrap();
    let mut packing = harvest(&longan.fresh.to_string());
    packing[0].1 = "packed".into();
    let saved = post(&app, &packing, &editor).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let found = app
        .api(
            "GET",
            &format!(
                "/epcis/events?MATCH_anyEPCClass={}&EQ_bizStep=packing",
                urlencode(&class)
            ),
            json!(null),
        )
        .await;
    // As GS1's schema has it.
    crate::epcis_api::assert_schema_valid(&[found.json()]);
    let packed = found.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0].clone();
    let pointed = format!(
        "/products/{}#certificate-{}",
        longan.product, certificate.id
    );
    assert!(
        packed["certificationInfo"]
            .as_str()
            .is_some_and(|c| c.starts_with("http") && c.ends_with(&pointed)),
        "{packed}"
    );
    let product_page = app.get(&format!("/products/{}", longan.product)).await;
    assert_eq!(
        product_page
            .texts(&format!("#certificate-{}", certificate.id))
            .len(),
        1
    );
}

#[tokio::test]
async fn drying_two_lots_into_one_is_a_transformation_the_traceback_follows() {
    let app = TestApp::with_demo().await;
    let longan = longan(&app).await;
    let owner = app
        .member("chu@nhanlong.vn", longan.producer, Role::Owner)
        .await;
    let dried = app
        .db
        .store
        .list_products(&ListQuery::search("Long nhãn sấy khô"), None)
        .await
        .unwrap()
        .remove(0);
    let dried_lot = app
        .db
        .store
        .list_lots(&ListQuery::search("LN-2026-08"), Some(dried.id))
        .await
        .unwrap()
        .remove(0);
    let mut fields = harvest(&dried_lot.id.to_string());
    fields[0].1 = "processed".into();
    fields[3].1 = "1100".into();
    // Processing without its inputs is refused beside the list of lots.
    let refused = post(&app, &fields, &owner).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.texts("#inputs-error").len(), 1, "{}", refused.body);
    fields.push(("inputs", longan.fresh.to_string()));
    fields.push(("inputs", longan.fresh_b.to_string()));
    let saved = post(&app, &fields, &owner).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);

    let gtin = dried.data.gtin.unwrap().as_gtin14();
    let class = format!("https://id.gs1.org/01/{gtin}/10/LN-2026-08");
    let traceback = app
        .api(
            "GET",
            &format!("/epcis/traceback?epcClass={}", urlencode(&class)),
            json!(null),
        )
        .await;
    assert_eq!(traceback.status, StatusCode::OK, "{}", traceback.body);
    let events = traceback.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"].clone();
    let transformation = &events[0];
    assert_eq!(transformation["type"], "TransformationEvent");
    let inputs: Vec<&str> = transformation["inputQuantityList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["epcClass"].as_str().unwrap())
        .collect();
    assert_eq!(inputs.len(), 2, "{inputs:?}");
    assert!(
        inputs
            .iter()
            .all(|i| i.ends_with("NL-2026-07") || i.ends_with("NL-2026-07B"))
    );
}

#[tokio::test]
async fn refused_fields_come_back_beside_their_field_and_nothing_is_stored() {
    let app = TestApp::with_demo().await;
    let longan = longan(&app).await;
    let editor = app
        .member("bientap@nhanlong.vn", longan.producer, Role::Editor)
        .await;
    let mut fields = harvest(&longan.fresh.to_string());
    fields[1].1 = "24/11/2026".into(); // tomorrow
    fields[2].1 = "25:70".into();
    fields[3].1 = "nhiều".into();
    fields[5].1 = "Vườn \u{202e}gnorw".into();
    let refused = post(&app, &fields, &editor).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["time", "quantity", "place"] {
        assert_eq!(
            refused.texts(&format!("#{field}-error")).len(),
            1,
            "{field}: {}",
            refused.body
        );
    }
    fields[2].1 = "06:30".into();
    fields[3].1 = "5".into();
    fields[5].1 = "Vườn".into();
    let refused = post(&app, &fields, &editor).await;
    assert_eq!(
        refused.texts("#date-error"),
        ["Không được muộn hơn bây giờ"]
    );
    let stored = app.api("GET", "/epcis/events", json!(null)).await.json();
    let events = stored["epcisBody"]["queryResults"]["resultsBody"]["eventList"].clone();
    assert_eq!(events.as_array().unwrap().len(), 0, "{events}");
}

#[tokio::test]
async fn only_the_lots_producer_and_its_editors_record_its_events() {
    use crate::support::changes::Changes;
    let app = TestApp::with_demo().await;
    let longan = longan(&app).await;
    let viewer = app
        .member("xem@nhanlong.vn", longan.producer, Role::Viewer)
        .await;
    let refused = post(&app, &harvest(&longan.fresh.to_string()), &viewer).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    // A cooperative elsewhere cannot write into this one's lots, even by their id.
    let other = app
        .db
        .store
        .create_organization(
            &crate::support::fixtures::cooperative("HTX Chè Tân Cương").build(),
            crate::support::fixtures::now(),
        )
        .await
        .unwrap();
    let stranger = app.member("bientap@che.vn", other.id, Role::Editor).await;
    let page = app
        .get_with("/console/events", "cookie", &stranger.cookie)
        .await;
    assert!(
        page.texts("#new-event option")
            .iter()
            .all(|o| !o.contains("NL-2026-07"))
    );
    let refused = post(&app, &harvest(&longan.fresh.to_string()), &stranger).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}

/// A busy cooperative: with more than a thousand events of its lots recorded before, the
/// diary still lists the one just recorded first.
#[tokio::test]
async fn the_diary_lists_the_latest_of_many_events_first() {
    use crate::support::epcis::{document, harvest_event};
    let app = TestApp::with_demo().await;
    let longan = longan(&app).await;
    let editor = app
        .member("bientap@nhanlong.vn", longan.producer, Role::Editor)
        .await;
    let class = format!("urn:truyxuat:lot:{}:NL-2026-07", longan.product);
    let start = chrono::DateTime::parse_from_rfc3339("2026-07-01T00:00:00+07:00").unwrap();
    let earlier = (0..1_001)
        .map(|i| {
            let at = start + chrono::Duration::minutes(i);
            harvest_event(&class, &at.to_rfc3339(), 10)
        })
        .collect();
    let captured = app.api("POST", "/epcis/capture", document(earlier)).await;
    assert_eq!(captured.status, StatusCode::CREATED, "{}", captured.body);
    let saved = post(&app, &harvest(&longan.fresh.to_string()), &editor).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let diary = app
        .get_with("/console/events", "cookie", &editor.cookie)
        .await;
    let lines = diary.texts("#diary li");
    assert_eq!(lines.len(), 50);
    assert!(lines[0].contains("23/11/2026 06:30"), "{}", lines[0]);
}
