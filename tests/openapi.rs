//! The API's OpenAPI 3.1 document: generated from the handlers, committed as
//! `docs/openapi.json` (so that API changes show in review) and served at
//! `/api/openapi.json`; and schemathesis, generating requests from it against a running
//! server with a signed-in token: no 5xx, no status, content type or body the document does
//! not describe. `make test` installs schemathesis into `tests/.venv`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::cli_env::CliEnv;
use crate::support::http::TestApp;

fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json")
}

fn generated() -> String {
    truyxuat::web::api::openapi_document()
        .to_pretty_json()
        .unwrap()
        + "\n"
}

#[test]
fn the_committed_document_is_the_one_the_handlers_generate() {
    let generated = generated();
    if std::env::var_os("TRUYXUAT_UPDATE_OPENAPI").is_some() {
        std::fs::write(committed_path(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is not what the handlers describe: if the API change is meant, \
         run `make openapi` and commit the file"
    );
}

#[tokio::test]
async fn the_document_and_its_reference_page_are_served_to_anyone() {
    let app = TestApp::new().await;
    let reply = app.get("/api/openapi.json").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), "application/json");
    let served = reply.json();
    assert_eq!(served["openapi"], "3.1.0");
    assert_eq!(
        served,
        serde_json::from_str::<serde_json::Value>(&generated()).unwrap()
    );
    let page = app.get("/api/reference").await;
    assert_eq!(page.status, 200);
    let rows = page.texts("tr");
    assert!(
        rows.iter()
            .any(|r| r.contains("POST") && r.contains("/api/v1/batches")),
        "{rows:?}"
    );
    let operations: usize = served["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(rows.len(), operations, "one row an operation");
}

/// At least this many generated requests (the issue asks for 1,000).
const LEAST_CASES: u64 = 1000;

#[test]
fn schemathesis_finds_no_server_error_and_no_answer_off_the_document() {
    let schemathesis = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/.venv/bin/schemathesis");
    assert!(
        schemathesis.exists(),
        "schemathesis is missing: `make test` installs it (tests/api/requirements.txt)"
    );
    let env = CliEnv::new();
    env.ok(&["demo"]);
    env.ok(&["keys", "new"]);
    // The operator's token reaches every operation.
    let token = env
        .ok(&["tokens", "create", "--login", "vanhanh@demo.truyxuat.vn"])
        .trim()
        .to_owned();
    // Generated orders of a million labels would make print jobs that keep both cores busy
    // for the rest of the run; a smaller ceiling still reaches the job paths (over 20,000).
    let server = env.serve_with(&[("TRUYXUAT_MAX_BATCH", "30000")]);
    let base = format!("http://{}", server.address);
    // A fixed seed: CI runs the same cases every time; TRUYXUAT_SCHEMATHESIS_SEED explores.
    let seed = std::env::var("TRUYXUAT_SCHEMATHESIS_SEED").unwrap_or_else(|_| "1".into());
    let run = || {
        Command::new(&schemathesis)
            .current_dir(env.dir.path())
            .args(["run", &format!("{base}/api/openapi.json")])
            .args(["-H", &format!("Authorization: Bearer {token}")])
            .args([
                "--checks",
                "not_a_server_error,response_schema_conformance,status_code_conformance,\
             content_type_conformance",
            ])
            .args(["--phases", "coverage,fuzzing", "--max-examples", "10"])
            .args(["--seed", &seed, "--workers", "1", "--no-color"])
            .output()
            .expect("run schemathesis")
    };
    let mut out = run();
    // One worker: with two threads, hypothesis's lambda descriptions parse source at once
    // and CPython 3.11's parser stopped on "AST constructor recursion depth mismatch" (twice
    // in a row under the suite's load). Should the tool still stop on a runtime error of its
    // own with no failure of the API, it is run again, once; a failure never is.
    let first = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() && first.contains("Runtime Error") && !first.contains("FAILURES") {
        eprintln!("schemathesis stopped on an error of its own; running it again:\n{first}");
        out = run();
    }
    let report = String::from_utf8_lossy(&out.stdout);
    server.stop();
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // "  2533 generated, 2533 passed"
    let generated: u64 = report
        .lines()
        .find_map(|l| l.trim().split_once(" generated, ")?.0.parse().ok())
        .unwrap_or_else(|| panic!("no count of test cases in:\n{report}"));
    assert!(
        generated >= LEAST_CASES,
        "only {generated} cases generated:\n{report}"
    );
    eprintln!("schemathesis: {generated} generated cases, every one passed");
}
