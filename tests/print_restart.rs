//! A print job interrupted by a `kill -9` of the server: the next start takes it up again and
//! finishes it (never left "running"), and its file is the whole run.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::cli_env::CliEnv;

/// More than a file sent at once (20,000), so a job.
const LABELS: u32 = 30_000;

/// One JSON request with the token; the status and the body.
fn call(address: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, Vec<u8>) {
    let bearer = format!("Bearer {token}");
    let headers = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
    ];
    crate::support::cli_env::request(address, method, path, &headers, body)
}

fn job(address: &str, token: &str, id: i64) -> Value {
    let (status, body) = call(address, "GET", &format!("/api/v1/jobs/{id}"), token, "");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

/// Asks `job` until `done` says so, for at most `limit`.
fn wait_for(
    address: &str,
    token: &str,
    id: i64,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let state = job(address, token, id);
        if done(&state) || start.elapsed() > limit {
            return state;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_job_killed_mid_run_is_taken_up_again_and_finished() {
    let env = CliEnv::new();
    let (batch, _) = env.demo_batch(LABELS);
    let token = env
        .ok(&["tokens", "create", "--login", "vanhanh@demo.truyxuat.vn"])
        .trim()
        .to_owned();

    let server = env.serve();
    let order = r#"{"format": "pdf", "layout": "a4-5x8"}"#;
    let (status, body) = call(
        &server.address,
        "POST",
        &format!("/api/v1/batches/{batch}/print"),
        &token,
        order,
    );
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
    let id = serde_json::from_slice::<Value>(&body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let running = wait_for(&server.address, &token, id, Duration::from_secs(60), |j| {
        j["state"] == "running" && j["done_labels"].as_i64().unwrap_or(0) > 0
    });
    assert_eq!(running["state"], "running", "{running}");
    assert!(
        running["done_labels"].as_i64().unwrap() < i64::from(LABELS),
        "killed mid-run: {running}"
    );
    server.stop(); // SIGKILL: no shutdown, no chance to tidy up

    let server = env.serve();
    let finished = wait_for(&server.address, &token, id, Duration::from_secs(240), |j| {
        j["state"] != "running" && j["state"] != "queued"
    });
    assert_eq!(finished["state"], "done", "{finished}");
    assert_eq!(finished["done_labels"], i64::from(LABELS));
    let (status, pdf) = call(
        &server.address,
        "GET",
        &format!("/api/v1/jobs/{id}/file"),
        &token,
        "",
    );
    server.stop();
    assert_eq!(status, 200);
    assert_eq!(finished["file_bytes"], pdf.len());
    let file = env.path("resumed.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let info = Command::new("pdfinfo")
        .arg(&file)
        .output()
        .expect("pdfinfo (poppler-utils)");
    let info = String::from_utf8_lossy(&info.stdout);
    let pages = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .map(|n| n.trim().to_owned());
    assert_eq!(pages.as_deref(), Some("750"), "40 labels a page: {info}");
}
