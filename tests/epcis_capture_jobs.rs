//! EPCIS documents above the synchronous limit: checked at once, accepted as a capture job
//! (202 and its address), captured in the background all or none; a job a stop left
//! running is captured at the next start.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::Value;
use truyxuat::app::Caller;
use truyxuat::app::capture_jobs;
use truyxuat::domain::job::JobState;
use truyxuat::store::EventQuery;

use crate::epcis_api::{LOT_DL, cooperative};
use crate::support::changes::{Changes, app_at};
use crate::support::epcis::{document, harvest_event};
use crate::support::fixtures::now;
use crate::support::http::TestApp;

/// A document of `n` harvests of the lot, a minute apart (each its own event).
pub(crate) fn harvests(n: usize) -> Value {
    let start = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00+07:00").unwrap();
    let events = (0..n)
        .map(|i| {
            let at = start + chrono::Duration::minutes(i as i64);
            harvest_event(LOT_DL, &at.to_rfc3339(), 1200)
        })
        .collect();
    document(events)
}

/// Asks for the job at `location` until it stops running (the worker's pace, not a timing
/// claim: up to two minutes on a slow machine).
async fn finished(app: &TestApp, token: &str, location: &str) -> Value {
    for _ in 0..1200 {
        let reply = app
            .api_with(token, "GET", location, serde_json::json!(null))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let job = reply.json();
        if job["running"] == false {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the capture job at {location} is still running");
}

mod a_large_document_is_a_capture_job {
    #[tokio::test]
    async fn sqlite() {
        super::large_document(crate::support::db::TestDb::sqlite().await).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::large_document(crate::support::db::TestDb::postgres().await).await;
    }
}

async fn large_document(db: crate::support::db::TestDb) {
    let app = TestApp::on(db).await;
    let token = cooperative(&app).await;
    let store = app.db.store.clone();
    let before = store.audit_size().await.unwrap();
    let doc = harvests(capture_jobs::SYNC_LIMIT + 1);

    // A malformed event among them is refused at once, naming it.
    let mut bad = doc.clone();
    bad["epcisBody"]["eventList"][10_000]["eventTime"] = "hôm qua".into();
    let refused = app.api_with(&token, "POST", "/epcis/capture", bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.problem_fields(),
        ["/epcisBody/eventList/10000/eventTime"]
    );

    let accepted = app
        .api_with(&token, "POST", "/epcis/capture", doc.clone())
        .await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    let location = accepted.header("location").to_owned();
    assert!(location.starts_with("/epcis/capture/"), "{location}");
    let job = finished(&app, &token, &location).await;
    assert_eq!(job["success"], true, "{job}");
    assert_eq!(job["captured"], 10_001);
    assert!(job["finishedAt"].is_string(), "{job}");
    let stored = store
        .events(&EventQuery {
            any_class: vec![LOT_DL.into()],
            limit: 20_000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 10_001);
    assert_eq!(store.audit_size().await.unwrap() - before, 10_001);

    // The same document again: accepted, then refused as a whole, nothing added.
    let again = app.api_with(&token, "POST", "/epcis/capture", doc).await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    let job = finished(&app, &token, again.header("location")).await;
    assert_eq!(job["success"], false, "{job}");
    assert_eq!(job["errors"][0]["status"], 409, "{job}");
    assert_eq!(job["errors"][0]["field"], "/epcisBody/eventList/0", "{job}");
    assert_eq!(
        job["errors"][0]["type"],
        "epcisException:ResourceAlreadyExistsException"
    );
    assert_eq!(store.audit_size().await.unwrap() - before, 10_001);

    // Another cooperative is told there is no such job; a document above the limit is 413.
    let elsewhere = app
        .db
        .store
        .create_organization(
            &crate::support::fixtures::cooperative("HTX Chè Tân Cương").build(),
            now(),
        )
        .await
        .unwrap();
    let other = app
        .member_token(
            "chu@htx-khac.vn",
            elsewhere.id,
            truyxuat::domain::people::Role::Owner,
        )
        .await;
    let hidden = app
        .api_with(&other, "GET", &location, serde_json::json!(null))
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);

    // The sender's list of jobs: the refused one, then the captured one; none for the other.
    let listed = app
        .api_with(&token, "GET", "/epcis/capture", serde_json::json!(null))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let jobs = listed.json();
    let outcomes: Vec<(&Value, &Value, &Value)> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (&j["captureID"], &j["success"], &j["captured"]))
        .collect();
    let (first, second) = (
        location.rsplit('/').next().unwrap(),
        again.header("location").rsplit('/').next().unwrap(),
    );
    assert_eq!(
        outcomes,
        [
            (&Value::from(second), &Value::from(false), &Value::from(0)),
            (
                &Value::from(first),
                &Value::from(true),
                &Value::from(10_001)
            ),
        ]
    );
    let none = app
        .api_with(&other, "GET", "/epcis/capture", serde_json::json!(null))
        .await;
    assert_eq!(none.status, StatusCode::OK, "{}", none.body);
    assert_eq!(none.json(), serde_json::json!([]));
    let too_many = app
        .api_with(
            &token,
            "POST",
            "/epcis/capture",
            harvests(capture_jobs::CAPTURE_LIMIT + 1),
        )
        .await;
    assert_eq!(too_many.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        too_many.json()["type"],
        "epcisException:CaptureLimitExceededException"
    );
    app.db.finish().await;
}

/// A job the process was capturing when it stopped is queued again and captured when the
/// worker starts.
#[tokio::test]
async fn a_job_left_running_by_a_stop_is_captured_at_the_next_start() {
    let db = crate::support::db::TestDb::sqlite().await;
    let app = app_at(&db.store, now());
    let doc = serde_json::to_vec(&harvests(3)).unwrap();
    let id = capture_jobs::queue(&app, &Caller::cli(), doc, 3)
        .await
        .unwrap();
    // Taken by a worker that then stopped.
    let claimed = db.store.claim_capture_job().await.unwrap().unwrap();
    assert_eq!(claimed.job.id, id);
    assert_eq!(
        db.store.capture_job(id).await.unwrap().unwrap().state,
        JobState::Running
    );
    capture_jobs::start_worker(app.clone());
    for _ in 0..600 {
        let job = db.store.capture_job(id).await.unwrap().unwrap();
        if job.state == JobState::Done {
            assert_eq!(job.captured, 3);
            db.finish().await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the job left running was not captured");
}
