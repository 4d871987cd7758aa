//! The audit log against the targets of issue 13:
//!
//! - what appending an audit entry adds to a registry write: the same lot written in its own
//!   committed transaction with and without its entry, interleaved, medians compared, on
//!   SQLite (a file, `synchronous=FULL`) and on PostgreSQL when `TRUYXUAT_TEST_POSTGRES_URL`
//!   names one (target: at most 10 %). Beside it, the same write with one more statement
//!   that writes nothing (the lot read back by its key): the least any entry sent in a
//!   statement of its own can add, whatever it holds; `bench/audit_floor.py` prints the
//!   least a second row in the commit adds on the same disk, without any driver. The
//!   entry's cost is also given as a share of the whole write through the application
//!   layer, and of a lot created by `POST /api/v1/lots` through the service's router;
//! - `audit verify` over 1,000,000 entries: every leaf recomputed from its bytes, the tree
//!   from the leaves and checked against the stored tree and the signed checkpoint (target:
//!   seconds); the checkpoint that first grows the tree to them is timed too.

// A benchmark times itself by the wall clock.
#![allow(clippy::disallowed_methods)]

#[path = "support/postgres.rs"]
mod postgres;
#[path = "support/router.rs"]
mod router;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use truyxuat::app::{App, auditlog};
use truyxuat::auditkey::AuditKey;
use truyxuat::clock::SystemClock;
use truyxuat::domain::audit::{ActorRecord, AuditEntry, EntityRef};
use truyxuat::domain::lot::LotInput;
use truyxuat::domain::organization::OrganizationInput;
use truyxuat::domain::product::ProductInput;
use truyxuat::store::Store;

/// Writes timed each way.
const WRITES: usize = 2_000;
const ENTRIES: usize = 1_000_000;

fn entry(i: usize) -> AuditEntry {
    AuditEntry::new(
        Utc::now(),
        ActorRecord::Cli {
            user: "bench".into(),
        },
        "labels.activate",
        EntityRef::new("batch", i as i64),
        Some(serde_json::json!({"state": "minted", "range": [i, i + 100]})),
        Some(serde_json::json!({"state": "active", "range": [i, i + 100], "lot": "CD-2026-11"})),
        None,
    )
}

/// A producer's product, to hang lots on.
async fn product(store: &Arc<dyn Store>) -> i64 {
    let org = OrganizationInput {
        kind: "cooperative".into(),
        name: "HTX Bench".into(),
        province: "Lâm Đồng".into(),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let mut tx = store.begin().await.unwrap();
    let org = tx.insert_organization(&org, Utc::now()).await.unwrap();
    let product = ProductInput {
        producer_id: Some(org.id),
        name: "Chè bench".into(),
        category: "Đồ uống".into(),
        unit: "gói".into(),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let product = tx.insert_product(&product, Utc::now()).await.unwrap();
    tx.commit().await.unwrap();
    product.id
}

/// A lot of `product` coded `code`.
fn lot(product: i64, code: String) -> truyxuat::domain::lot::NewLot {
    LotInput {
        product_id: Some(product),
        code,
        produced_on: "2026-11-15".into(),
        ..Default::default()
    }
    .validate()
    .unwrap()
}

/// What a timed write does besides writing its lot.
#[derive(Clone, Copy)]
enum Besides {
    Nothing,
    /// Appends the lot's audit entry, as every registry write does.
    Entry,
    /// Reads the lot back by its key: one more statement in the transaction, nothing more
    /// written.
    ReadBack,
}

/// One lot written in its own committed transaction, with `besides`; how long it took.
async fn write(store: &Arc<dyn Store>, product: i64, code: String, besides: Besides) -> Duration {
    let started = Instant::now();
    let lot = lot(product, code);
    let mut tx = store.begin().await.unwrap();
    let stored = tx.insert_lot(&lot, Utc::now()).await.unwrap();
    match besides {
        Besides::Nothing => {}
        Besides::Entry => {
            let after = serde_json::to_value(&stored).unwrap();
            let e = AuditEntry::new(
                Utc::now(),
                ActorRecord::Cli {
                    user: "bench".into(),
                },
                "lot.create",
                EntityRef::new("lot", stored.id),
                None,
                Some(after),
                None,
            );
            tx.append_audit(&e).await.unwrap();
        }
        Besides::ReadBack => {
            tx.lot(stored.id).await.unwrap().unwrap();
        }
    }
    tx.commit().await.unwrap();
    started.elapsed()
}

/// The middle of `times`, in milliseconds: one slow fsync or scheduler hiccup moves a total
/// by several per cent, the median not at all.
fn median_ms(times: &mut [Duration]) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

async fn append_cost(name: &str, store: Arc<dyn Store>) {
    let product = product(&store).await;
    for i in 0..WRITES / 10 {
        write(&store, product, format!("warm-{i}"), Besides::Entry).await;
    }
    // Interleaved, each way first in turn, so that none gets the warmer cache or the quieter
    // moment.
    let ways = [Besides::Nothing, Besides::Entry, Besides::ReadBack];
    let mut times: [Vec<Duration>; 3] = Default::default();
    for i in 0..WRITES {
        for turn in 0..ways.len() {
            let way = (i + turn) % ways.len();
            let code = format!("{way}-{i}");
            times[way].push(write(&store, product, code, ways[way]).await);
        }
    }
    let [mut without, mut with, mut read_back] = times;
    // The same lot as a person's request makes it: through the application layer, which
    // looks up the product and its producer and checks the permission first.
    let app = App::new(store.clone(), Arc::new(SystemClock));
    let mut through_app = Vec::with_capacity(WRITES);
    for i in 0..WRITES {
        let lot = lot(product, format!("app-{i}"));
        let started = Instant::now();
        truyxuat::app::registry::create_lot(&app, &truyxuat::app::Caller::cli(), &lot)
            .await
            .unwrap();
        through_app.push(started.elapsed());
    }
    let mut through_api = through_the_api(&app, product).await;
    let (without, with, read_back, through_app, through_api) = (
        median_ms(&mut without),
        median_ms(&mut with),
        median_ms(&mut read_back),
        median_ms(&mut through_app),
        median_ms(&mut through_api),
    );
    let entry = with - without;
    println!("\na registry write (a lot, its own transaction; medians of {WRITES}), {name}:");
    println!("  baseline, without its entry          {without:.3} ms");
    println!("  with its audit entry                 {with:.3} ms");
    println!(
        "  the entry adds                       {:.1} %   (target: at most 10 %)",
        entry / without * 100.0
    );
    println!(
        "  the lot read back instead            {read_back:.3} ms   (+{:.1} %: one more statement, nothing written)",
        (read_back - without) / without * 100.0
    );
    println!(
        "  the whole write through the app      {through_app:.3} ms   (the entry is {:.1} % of it)",
        entry / through_app * 100.0
    );
    println!(
        "  POST /api/v1/lots through the router {through_api:.3} ms   (the entry is {:.1} % of it)",
        entry / through_api * 100.0
    );
}

/// Lots created as an integration creates them: `POST /api/v1/lots` with an operator's
/// token, through the service's whole router in this process (no socket); each request's
/// time until its 201 and body are read.
async fn through_the_api(app: &App, product: i64) -> Vec<Duration> {
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use tower::ServiceExt;
    use truyxuat::app::{Caller, access, accounts};
    use truyxuat::domain::people::{Membership, PersonInput, Role};
    use truyxuat::labelcode::Keyring;

    let person = PersonInput {
        login: "bench@truyxuat.test".into(),
        display_name: "Bench".into(),
    }
    .validate()
    .unwrap();
    let cli = Caller::cli();
    let operator = accounts::create_person(app, &cli, &person, &[Membership::operator()], None)
        .await
        .unwrap();
    let request = access::TokenRequest {
        organization_id: None,
        role: Role::Operator,
        name: "bench".into(),
        days: 1,
    };
    let token = access::create_token(app, &cli, operator.id, &request)
        .await
        .unwrap()
        .0;
    let data = tempfile::tempdir().unwrap();
    let router = router::service(app.store.clone(), Keyring::default(), data.path());
    let mut times = Vec::with_capacity(WRITES);
    for i in 0..WRITES {
        let body = serde_json::json!({
            "product_id": product, "code": format!("api-{i}"), "produced_on": "2026-11-15"
        });
        let request = Request::post("/api/v1/lots")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let started = Instant::now();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        times.push(started.elapsed());
        assert_eq!(status, StatusCode::CREATED);
    }
    times
}

async fn verify_a_million(store: Arc<dyn Store>) {
    let started = Instant::now();
    let chunk: Vec<AuditEntry> = (0..10_000).map(entry).collect();
    for _ in 0..ENTRIES / chunk.len() {
        let mut tx = store.begin().await.unwrap();
        tx.append_audits(&chunk).await.unwrap();
        tx.commit().await.unwrap();
    }
    let appended = started.elapsed();
    let app = App::new(store.clone(), Arc::new(SystemClock));
    let (key, _) = AuditKey::generate("bench.truyxuat.vn/audit").unwrap();
    let started = Instant::now();
    let checkpoint = auditlog::checkpoint(&app, &key).await.unwrap().unwrap();
    let grown = started.elapsed();
    assert_eq!(checkpoint.size, ENTRIES as u64);
    let started = Instant::now();
    let verified = auditlog::verify(&app, &key.vkey).await.unwrap().unwrap();
    let verify = started.elapsed();
    assert_eq!(verified.entries, ENTRIES as u64);
    println!("\n`audit verify` over {ENTRIES} entries (SQLite, a file):");
    println!(
        "  appending them, 10,000 a transaction   {:.1} s",
        appended.as_secs_f64()
    );
    println!(
        "  first checkpoint (grows the tree)      {:.1} s",
        grown.as_secs_f64()
    );
    println!(
        "  verify                                 {:.1} s   (target: seconds)",
        verify.as_secs_f64()
    );
}

/// What an entry's bytes cost to make: RFC 8785 through the service's writer and through
/// serde_jcs (which the writer hands values with non-ASCII keys to); means of 20,000.
fn canonical_cost() {
    let entries: Vec<AuditEntry> = (0..20_000).map(entry).collect();
    let mean_us = |canonical: &dyn Fn(&AuditEntry) -> Vec<u8>| {
        let started = Instant::now();
        let bytes: usize = entries.iter().map(|e| canonical(e).len()).sum();
        assert!(bytes > 0);
        started.elapsed().as_secs_f64() * 1e6 / entries.len() as f64
    };
    let ours = mean_us(&|e| e.canonical_bytes().unwrap());
    let serde_jcs = mean_us(&|e| serde_jcs::to_vec(e).unwrap());
    println!("
an entry's bytes (RFC 8785, a label activation's entry): {ours:.1} us (serde_jcs: {serde_jcs:.1} us)");
}

#[tokio::main]
async fn main() {
    canonical_cost();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
    append_cost(
        "SQLite",
        truyxuat::store::open(&sqlite("append.db")).await.unwrap(),
    )
    .await;
    if let Ok(server) = std::env::var("TRUYXUAT_TEST_POSTGRES_URL") {
        let pg = postgres::SchemaStore::open(&server, "bench").await;
        append_cost("PostgreSQL", pg.store.clone()).await;
        pg.drop().await;
    } else {
        println!("\n(PostgreSQL: set TRUYXUAT_TEST_POSTGRES_URL to measure it too)");
    }
    verify_a_million(truyxuat::store::open(&sqlite("verify.db")).await.unwrap()).await;
}
