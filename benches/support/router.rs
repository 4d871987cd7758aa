//! The service's whole router in the benchmark's process (no socket), on the benchmark's
//! store: what a request costs from the first layer to the last, without the network.

use std::path::Path;
use std::sync::Arc;

use clap::Parser;
use truyxuat::clock::SystemClock;
use truyxuat::labelcode::Keyring;
use truyxuat::store::Store;

/// The router of a server on `store` with `keyring`, for labels of `http://127.0.0.1:8080`,
/// keeping its files under `data`; no audit checkpoints are made while it runs.
pub fn service(store: Arc<dyn Store>, keyring: Keyring, data: &Path) -> axum::Router {
    let settings = truyxuat::cli::Cli::parse_from([
        "truyxuat",
        "--base-url",
        "http://127.0.0.1:8080",
        "--data-dir",
        &data.display().to_string(),
        "--key-dir",
        &data.join("keys").display().to_string(),
        "--audit-checkpoint-secs",
        "0",
        "migrate",
    ])
    .settings;
    let state = truyxuat::web::AppState::new(store, settings, Arc::new(SystemClock), keyring);
    truyxuat::web::app(state)
}
