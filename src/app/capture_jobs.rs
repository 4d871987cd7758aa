//! EPCIS documents too large to capture while the sender waits: accepted as a capture job
//! (kept in the database, so an accepted job survives a stop), captured by a worker in the
//! background, all events or none, and the outcome noted in the same transaction as the
//! events. GS1's capture interface answers such a document with 202 and the job's address.

use std::time::Duration;

use super::events::{Sender, capturing_for, store_events};
use super::{App, Caller, Error};
use crate::domain::epcis::event::read_document;
use crate::domain::job::{CaptureJob, ClaimedCapture, NewCaptureJob};
use crate::store::StoreError;
use crate::worker::{self, Bell, Jobs};

/// The most events captured while the sender waits (201); more become a job (202).
pub const SYNC_LIMIT: usize = 10_000;
/// The most events one document may hold (GS1-EPCIS-Capture-Limit); more is refused (413).
pub const CAPTURE_LIMIT: usize = 100_000;

/// How long the worker waits for a bell before it looks for work anyway.
const IDLE: Duration = Duration::from_secs(5);

/// Queues `document` (checked already: `events` events, every one readable) to be captured
/// for the organization the caller acts for; returns the job's id once it is committed.
pub async fn queue(
    app: &App,
    caller: &Caller,
    document: Vec<u8>,
    events: usize,
) -> Result<i64, Error> {
    let (organization, target) = capturing_for(app, caller).await?;
    caller.require("event.capture", &target)?;
    let actor = serde_json::to_string(&caller.actor.record())
        .map_err(|e| Error::Internal(e.to_string()))?;
    let job = NewCaptureJob {
        organization_id: organization,
        actor,
        request_id: caller.request_id.clone(),
        document,
        events: events as i64,
    };
    let mut tx = app.store.begin().await?;
    let id = tx.insert_capture_job(&job, app.now()).await?;
    tx.commit().await?;
    Ok(id)
}

/// A capture job, for those who may capture for its organization (others are told there is
/// none such).
pub async fn job(app: &App, caller: &Caller, id: i64) -> Result<CaptureJob, Error> {
    let (organization, target) = capturing_for(app, caller).await?;
    caller.require("event.capture", &target)?;
    match app.store.capture_job(id).await? {
        Some(job) if job.organization_id == organization => Ok(job),
        _ => Err(Error::NotFound("capture job")),
    }
}

/// The capture jobs a list shows at most.
pub const LISTED_JOBS: i64 = 100;

/// The latest capture jobs of the organization the caller captures for, newest first.
pub async fn jobs(app: &App, caller: &Caller) -> Result<Vec<CaptureJob>, Error> {
    let (organization, target) = capturing_for(app, caller).await?;
    caller.require("event.capture", &target)?;
    Ok(app.store.capture_jobs_of(organization, LISTED_JOBS).await?)
}

/// Why a job failed, as a problem JSON: the field by JSON pointer where there is one.
fn problem(e: &Error) -> String {
    let (status, detail, field) = match e {
        Error::Invalid(i) | Error::Conflict(i) => {
            let first = i.errors.first();
            let status = if matches!(e, Error::Conflict(_)) {
                409
            } else {
                422
            };
            (
                status,
                first.map_or_else(|| e.to_string(), |f| f.message.clone()),
                first.map(|f| f.field.clone()),
            )
        }
        other => (500, other.to_string(), None),
    };
    serde_json::json!({
        // GS1's name for it, as the capture interface's own problems carry.
        "type": crate::domain::epcis::exception(status, false).unwrap_or("about:blank"),
        "title": if status == 500 { "the capture could not be stored" } else { "the document is refused" },
        "status": status,
        "detail": detail,
        "field": field,
    })
    .to_string()
}

/// Captures a claimed job's document; a refusal ends the job failed with its reason.
async fn run(app: &App, claimed: ClaimedCapture) {
    let id = claimed.job.id;
    let outcome = async {
        let actor = serde_json::from_str(&claimed.actor)
            .map_err(|e| Error::Internal(format!("capture job {id}'s sender: {e}")))?;
        let sender = Sender {
            actor,
            request_id: claimed.request_id.clone(),
        };
        let doc: serde_json::Value = serde_json::from_slice(&claimed.document)
            .map_err(|e| super::error::refuse("", format!("not JSON: {e}")))?;
        let events =
            read_document(&doc).map_err(|e| super::error::refuse(&e.pointer, e.message.clone()))?;
        drop(doc);
        let pointers: Vec<String> = (0..events.len())
            .map(|i| format!("/epcisBody/eventList/{i}"))
            .collect();
        let organization = claimed.job.organization_id;
        store_events(app, &sender, organization, &events, &pointers, Some(id)).await
    }
    .await;
    match outcome {
        Ok(ids) => tracing::info!(job = id, events = ids.len(), "capture job done"),
        // The database out of reach or out of room: nothing was stored. The job is queued
        // again as soon as the database takes a write (until then no job could be
        // captured), and runs again then.
        Err(e @ Error::Unavailable(_)) => {
            tracing::warn!(job = id, error = %e, "capture job waits for the database");
            tokio::time::sleep(IDLE).await;
            let requeue = || app.store.requeue_capture_job(id);
            worker::until_written(CaptureJobs::NAME, id, IDLE, requeue).await;
        }
        Err(e) => {
            tracing::info!(job = id, error = %e, "capture job refused");
            let (problem, now) = (problem(&e), app.now());
            let fail = || app.store.fail_capture_job(id, &problem, now);
            worker::until_written(CaptureJobs::NAME, id, IDLE, fail).await;
        }
    }
}

/// Starts the worker: the jobs a stop left running first, then each job as it is queued.
pub fn start_worker(app: App) -> Bell {
    worker::start(CaptureJobs(app), IDLE)
}

struct CaptureJobs(App);

impl Jobs for CaptureJobs {
    const NAME: &'static str = "capture jobs";

    async fn requeue(&self) -> Result<u64, StoreError> {
        self.0.store.requeue_running_capture_jobs().await
    }

    async fn do_next(&self) -> Result<bool, StoreError> {
        match self.0.store.claim_capture_job().await? {
            Some(claimed) => {
                run(&self.0, claimed).await;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
