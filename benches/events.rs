//! EPCIS events against the targets of issue 14, on SQLite (a file) and on PostgreSQL when
//! `TRUYXUAT_TEST_POSTGRES_URL` names one:
//!
//! - capturing 100,000 events: ten documents of 10,000 (the capture limit), each read and
//!   checked (`read_document`) then captured through the application layer (one transaction,
//!   an audit entry per event);
//! - querying one lot's chain (a traceback through a transformation of two input lots) and
//!   its journey (what the scan page reads of events: the scan page's only read that depends
//!   on how many events are stored), with 6 events stored and again with 100,006: medians of
//!   200 runs each (target: the same time).

// A benchmark times itself by the wall clock.
#![allow(clippy::disallowed_methods)]

#[path = "support/postgres.rs"]
mod postgres;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use truyxuat::app::{App, Caller, events};
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

async fn run(name: &str, store: Arc<dyn Store>) {
    let app = App::new(store, Arc::new(SystemClock));
    capture(&app, &chain()).await;
    let (back_few, journey_few) = chain_reads(&app).await;

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
