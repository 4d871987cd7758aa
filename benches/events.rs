//! EPCIS events against the targets of issue 14, on SQLite (a file) and on PostgreSQL when
//! `TRUYXUAT_TEST_POSTGRES_URL` names one:
//!
//! - capturing 100,000 events: ten documents of 10,000 (the capture limit), each read and
//!   checked (`read_document`) then captured through the application layer (one transaction,
//!   an audit entry per event);
//! - querying one lot's chain (a traceback through a transformation of two input lots) and
//!   its journey (what the scan page reads of events: the scan page's only read that depends
//!   on how many events are stored), with 6 events stored and again with 100,006: medians of
//!   200 runs each (target: the same time);
//! - the scan page itself of a label of that lot (verdict, product, certificates, journey),
//!   through the service's router in this process: the median of 200 pages, each of another
//!   label, with 6 and with 100,006 events stored (target: the same time).

// A benchmark times itself by the wall clock.
#![allow(clippy::disallowed_methods)]

#[path = "support/postgres.rs"]
mod postgres;
#[path = "support/router.rs"]
mod router;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;
use truyxuat::app::{App, Caller, events, labels, registry};
use truyxuat::clock::SystemClock;
use truyxuat::domain::epcis::event::read_document;
use truyxuat::store::Store;

const EVENTS: usize = 100_000;
const PER_DOCUMENT: usize = 10_000;
const RUNS: usize = 200;
const LOT: &str = "https://id.gs1.org/01/08936049120206/10/LN-2026-08";

fn document(events: Vec<Value>) -> Value {
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2026-11-23T08:00:00+07:00",
        "epcisBody": {"eventList": events}
    })
}

fn harvest(class: &str, minute: usize) -> Value {
    json!({
        "type": "ObjectEvent",
        "eventTime": format!("2026-07-{:02}T{:02}:{:02}:00+07:00", 1 + minute / 1440 % 28, minute / 60 % 24, minute % 60),
        "eventTimeZoneOffset": "+07:00", "action": "ADD", "bizStep": "commissioning",
        "quantityList": [{"epcClass": class, "quantity": 1200, "uom": "KGM"}],
        "truyxuat:place": {"name": "Vườn nhãn", "commune": "Hồng Nam", "province": "Hưng Yên"}
    })
}

/// The chain of `LOT`: two harvests, the drying that made it, its packing, shipping and
/// receiving.
fn chain() -> Value {
    let a = "https://id.gs1.org/01/08936049120190/10/NL-A";
    let b = "https://id.gs1.org/01/08936049120190/10/NL-B";
    let mut events = vec![harvest(a, 1), harvest(b, 2)];
    events.push(json!({
        "type": "TransformationEvent", "eventTime": "2026-08-02T16:00:00+07:00",
        "eventTimeZoneOffset": "+07:00", "bizStep": "commissioning",
        "inputQuantityList": [{"epcClass": a, "quantity": 3000, "uom": "KGM"}, {"epcClass": b, "quantity": 2500, "uom": "KGM"}],
        "outputQuantityList": [{"epcClass": LOT, "quantity": 1100, "uom": "KGM"}]
    }));
    for (day, step) in [(5, "packing"), (6, "shipping"), (7, "receiving")] {
        events.push(json!({
            "type": "ObjectEvent", "eventTime": format!("2026-08-0{day}T09:00:00+07:00"),
            "eventTimeZoneOffset": "+07:00", "action": "OBSERVE", "bizStep": step,
            "quantityList": [{"epcClass": LOT, "quantity": 400, "uom": "H87"}]
        }));
    }
    document(events)
}

async fn capture(app: &App, doc: &Value) -> usize {
    let read = read_document(doc).unwrap();
    let pointers: Vec<String> = (0..read.len()).map(|i| i.to_string()).collect();
    events::capture(app, &Caller::cli(), &read, &pointers)
        .await
        .unwrap()
        .len()
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

/// Medians of the traceback and the journey of `LOT`, in ms.
async fn chain_reads(app: &App) -> (f64, f64) {
    let (mut back, mut journey) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let started = Instant::now();
        assert_eq!(events::traceback(app, LOT).await.unwrap().len(), 6);
        back.push(started.elapsed());
        let started = Instant::now();
        assert_eq!(events::journey(app, LOT, 1).await.unwrap().len(), 6);
        journey.push(started.elapsed());
    }
    (median(back), median(journey))
}

/// The service with a label batch of `LOT`'s product and lot; the paths of its labels.
async fn scan_service(app: &App, data: &std::path::Path) -> (axum::Router, Vec<String>) {
    let cli = Caller::cli();
    let org = truyxuat::domain::organization::OrganizationInput {
        kind: "cooperative".into(),
        name: "HTX Nhãn lồng Phố Hiến".into(),
        province: "Hưng Yên".into(),
        address: None,
        phone: None,
        email: None,
    };
    let org = registry::create_organization(app, &cli, &org.validate().unwrap())
        .await
        .unwrap();
    let product = truyxuat::domain::product::ProductInput {
        producer_id: Some(org.id),
        name: "Long nhãn sấy khô".into(),
        category: "Thực phẩm".into(),
        unit: "gói 500 g".into(),
        gtin: Some("08936049120206".into()),
        ..Default::default()
    };
    let product = registry::create_product(app, &cli, &product.validate().unwrap())
        .await
        .unwrap();
    let lot = truyxuat::domain::lot::LotInput {
        product_id: Some(product.id),
        code: "LN-2026-08".into(),
        produced_on: "2026-08-02".into(),
        ..Default::default()
    };
    registry::create_lot(app, &cli, &lot.validate().unwrap())
        .await
        .unwrap();
    let seed = truyxuat::labelcode::KeySeed::from_bytes([7; 32]);
    let keyring = truyxuat::labelcode::Keyring::single(seed, app.clock.now());
    let request = labels::MintRequest {
        product_id: product.id,
        count: RUNS as u32 * 2,
        lot: Some("LN-2026-08".into()),
        profile: truyxuat::domain::batch::Profile::Compact,
    };
    let batch = labels::mint(app, &cli, &keyring, &request, 1000)
        .await
        .unwrap();
    let printable = labels::printable(&*app.store, batch.id).await.unwrap();
    let base = truyxuat::labelcode::LabelBase::parse("http://127.0.0.1:8080").unwrap();
    let mut paths = Vec::new();
    printable
        .for_each_uri(&keyring, &base, printable.batch.all(), |_, _, uri| {
            paths.push(uri["http://127.0.0.1:8080".len()..].to_owned());
            Ok::<_, truyxuat::store::StoreError>(())
        })
        .unwrap();
    (router::service(app.store.clone(), keyring, data), paths)
}

/// The median time of a scan page, each of another label of `paths`, in ms.
async fn scan_pages(router: &axum::Router, paths: &[String]) -> f64 {
    let mut times = Vec::new();
    for path in paths {
        let request = Request::get(path.as_str()).body(Body::empty()).unwrap();
        let started = Instant::now();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let page = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        times.push(started.elapsed());
        assert_eq!(status, StatusCode::OK);
        assert!(String::from_utf8_lossy(&page).contains("id=\"journey\""));
    }
    median(times)
}

async fn run(name: &str, store: Arc<dyn Store>) {
    let app = App::new(store, Arc::new(SystemClock));
    let data = tempfile::tempdir().unwrap();
    let (router, paths) = scan_service(&app, data.path()).await;
    capture(&app, &chain()).await;
    let (back_few, journey_few) = chain_reads(&app).await;
    let page_few = scan_pages(&router, &paths[..RUNS]).await;

    let mut read_time = Duration::ZERO;
    let mut capture_time = Duration::ZERO;
    for d in 0..EVENTS / PER_DOCUMENT {
        let events: Vec<Value> = (0..PER_DOCUMENT)
            .map(|i| {
                let n = d * PER_DOCUMENT + i;
                harvest(
                    &format!("https://id.gs1.org/01/08936049120190/10/F{}", n / 10),
                    n,
                )
            })
            .collect();
        let doc = document(events);
        let started = Instant::now();
        let read = read_document(&doc).unwrap();
        read_time += started.elapsed();
        let pointers: Vec<String> = (0..read.len()).map(|i| i.to_string()).collect();
        let started = Instant::now();
        events::capture(&app, &Caller::cli(), &read, &pointers)
            .await
            .unwrap();
        capture_time += started.elapsed();
    }
    let (back_many, journey_many) = chain_reads(&app).await;
    let page_many = scan_pages(&router, &paths[RUNS..]).await;
    let total = (read_time + capture_time).as_secs_f64();
    println!("\nEPCIS events, {name}:");
    println!(
        "  capture {EVENTS} events ({} documents of {PER_DOCUMENT})   {total:.1} s   ({:.0} events/s; reading and checking {:.1} s, storing with audit entries {:.1} s)",
        EVENTS / PER_DOCUMENT,
        EVENTS as f64 / total,
        read_time.as_secs_f64(),
        capture_time.as_secs_f64()
    );
    println!("  one lot's traceback (6 events, through a transformation of 2 lots):");
    println!("    with 6 events stored           {back_few:.3} ms");
    println!("    with {} events stored    {back_many:.3} ms", EVENTS + 6);
    println!("  its journey (the scan page's read of events):");
    println!("    with 6 events stored           {journey_few:.3} ms");
    println!(
        "    with {} events stored    {journey_many:.3} ms",
        EVENTS + 6
    );
    println!("  a scan page of a label of the lot (through the router, each of another label):");
    println!("    with 6 events stored           {page_few:.3} ms");
    println!("    with {} events stored    {page_many:.3} ms", EVENTS + 6);
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("events.db").display());
    run(
        "SQLite (a file)",
        truyxuat::store::open(&url).await.unwrap(),
    )
    .await;
    if let Ok(server) = std::env::var("TRUYXUAT_TEST_POSTGRES_URL") {
        let pg = postgres::SchemaStore::open(&server, "bench_events").await;
        run("PostgreSQL", pg.store.clone()).await;
        pg.drop().await;
    } else {
        println!("\n(PostgreSQL: set TRUYXUAT_TEST_POSTGRES_URL to measure it too)");
    }
}
