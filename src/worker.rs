//! The loop of a background worker in the server process, shared by the print and capture
//! workers: the jobs a stopped process left running are queued again first, then the worker
//! does one job after another, and when none is waiting it waits for its bell (rung when a
//! job is queued here) or a while (for jobs queued by another process).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::store::StoreError;

/// Wakes a worker when a job is queued.
#[derive(Clone, Default)]
pub struct Bell(Arc<Notify>);

impl Bell {
    pub fn ring(&self) {
        self.0.notify_one();
    }
}

/// A kind of job a worker does.
pub trait Jobs: Send + Sync + 'static {
    /// What the jobs are called in the log ("print jobs").
    const NAME: &'static str;
    /// Queues again the jobs a stopped process left running; how many.
    fn requeue(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Takes the next job and does it; false when none was waiting.
    fn do_next(&self) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Starts a worker doing `jobs` on the runtime; returns the bell that wakes it. `idle` is
/// how long it waits without a bell before it looks again (also after a database error).
pub fn start<J: Jobs>(jobs: J, idle: Duration) -> Bell {
    let bell = Bell::default();
    let woken = bell.clone();
    tokio::spawn(async move {
        let name = J::NAME;
        match jobs.requeue().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                jobs = n,
                kind = name,
                "jobs left running by a stop are queued again"
            ),
            Err(e) => {
                tracing::error!(error = %e, kind = name, "cannot queue again the jobs left running")
            }
        }
        loop {
            match jobs.do_next().await {
                Ok(true) => {}
                Ok(false) => {
                    let _ = tokio::time::timeout(idle, woken.0.notified()).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, kind = name, "cannot look for jobs");
                    tokio::time::sleep(idle).await;
                }
            }
        }
    });
    bell
}

/// Writes what `write` writes about job `id` (of the jobs called `kind`), trying again every
/// `pause` while the database is out of reach or out of room, so that no job stays running
/// with no one on it until the next start.
pub async fn until_written<W: Future<Output = Result<(), StoreError>>>(
    kind: &str,
    id: i64,
    pause: Duration,
    write: impl Fn() -> W,
) {
    loop {
        match write().await {
            Ok(()) => return,
            Err(e) if e.is_unavailable() => {
                tracing::warn!(job = id, kind, error = %e, "a job waits for the database");
                tokio::time::sleep(pause).await;
            }
            Err(e) => {
                tracing::error!(job = id, kind, error = %e, "cannot record a job's state");
                return;
            }
        }
    }
}
