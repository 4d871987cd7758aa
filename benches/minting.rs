//! Minting cost against batch size: 1,000 labels and 1,000,000 labels, each minted into a
//! fresh SQLite database several times; prints the median times, their ratio (the target is
//! about 1: a batch is a range, not rows) and how much each grew the database.

// A benchmark times itself by the wall clock.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use truyxuat::app::{self, App, Caller, labels::MintRequest};
use truyxuat::clock::SystemClock;
use truyxuat::domain::batch::Profile;
use truyxuat::labelcode::{KeySeed, Keyring};
use truyxuat::store;

const RUNS: usize = 15;

fn db_bytes(path: &Path) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    size(path) + size(&path.with_extension("db-wal"))
}

/// A fresh database with the demo registry; returns the application on it and its folder.
async fn fresh() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = store::open(&url).await.expect("open store");
    let app = App::new(store, std::sync::Arc::new(SystemClock));
    let bundle = truyxuat::demo::bundle().expect("demo data");
    app::registry::import(&app, &Caller::cli(), &bundle, None)
        .await
        .expect("demo import");
    (app, dir)
}

/// Median time and median database growth of minting `count` labels.
async fn measure(count: u32) -> (Duration, u64) {
    let keys = Keyring::single(KeySeed::from_bytes([9; 32]), Utc::now());
    let mut times = Vec::new();
    let mut growths = Vec::new();
    for _ in 0..RUNS {
        let (app, dir) = fresh().await;
        let db = dir.path().join("bench.db");
        let before = db_bytes(&db);
        let request = MintRequest {
            product_id: 1,
            count,
            lot: Some("CD-2026-10A".into()),
            profile: Profile::Compact,
        };
        let started = Instant::now();
        app::labels::mint(&app, &Caller::cli(), &keys, &request, 1_000_000)
            .await
            .expect("mint");
        times.push(started.elapsed());
        growths.push(db_bytes(&db) - before);
    }
    times.sort();
    growths.sort();
    (times[RUNS / 2], growths[RUNS / 2])
}

#[tokio::main]
async fn main() {
    // Benchmarks run with `cargo bench`; `cargo test --benches` only checks they build.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let (small, small_growth) = measure(1_000).await;
    let (large, large_growth) = measure(1_000_000).await;
    println!("minting, SQLite, median of {RUNS} runs each on a fresh database:");
    println!(
        "  {:>9} labels  {:>9.3} ms  database +{:>6} bytes",
        "1,000",
        small.as_secs_f64() * 1e3,
        small_growth
    );
    println!(
        "  {:>9} labels  {:>9.3} ms  database +{:>6} bytes",
        "1,000,000",
        large.as_secs_f64() * 1e3,
        large_growth
    );
    println!(
        "  ratio 1,000,000 / 1,000: {:.2} (target: about 1)",
        large.as_secs_f64() / small.as_secs_f64()
    );
}
