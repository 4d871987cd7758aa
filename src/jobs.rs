//! Print runs rendered in the background: a worker in the server process takes queued jobs
//! one at a time, renders each into the data folder while noting its progress, and removes
//! files past their time. Jobs a stopped process left running are queued again at start, so
//! none stays "running" forever.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::app::labels::{self, PrintableBatch};
use crate::clock::Clock;
use crate::domain::batch::IndexRange;
use crate::domain::job::{PrintJob, PrintSpec};
use crate::labelcode::{Keyring, LabelBase};
use crate::render::{self, EcLevel, Format, Label, Layout, PrintError, Summary};
use crate::store::{Store, StoreError};
use crate::worker::{self, Bell, Jobs};

/// How often the worker looks for work it was not told about, and notes progress.
const TICK: Duration = Duration::from_secs(1);

/// The file name a print run is downloaded as.
pub fn file_name(batch_id: i64, spec: &PrintSpec) -> String {
    let extension = match spec.format.as_str() {
        "pdf" => "pdf",
        "csv" => "csv",
        _ => "zip",
    };
    // A custom layout's name is typed text: only safe characters reach a header or a path.
    let layout: String = spec
        .layout
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let what = if spec.calibration {
        "calibration"
    } else {
        &layout
    };
    format!("batch-{batch_id}-{what}.{extension}")
}

/// The print job `spec` asks for, for a batch.
pub fn print_job(spec: &PrintSpec, printable: &PrintableBatch) -> Result<render::PrintJob, String> {
    let format: Format = spec.format.parse()?;
    let layout: Layout = spec.layout.parse()?;
    let mut lines = Vec::new();
    if !spec.no_text {
        lines.push(printable.product.data.name.clone());
        if let Some(lot) = &printable.lot {
            lines.push(format!("Lô {}", lot.data.code));
        }
    }
    Ok(render::PrintJob {
        format,
        layout,
        dpi: spec.dpi,
        ec: EcLevel::M,
        qr_mm: None,
        lines,
        calibration: spec.calibration,
    })
}

/// Renders `range` of a batch as `job` into `path`, counting the labels made in `done`.
/// Blocking: call it off the async threads.
pub fn render_labels(
    printable: &PrintableBatch,
    keyring: &Keyring,
    base: &LabelBase,
    job: &render::PrintJob,
    range: IndexRange,
    path: &Path,
    done: &AtomicU64,
) -> Result<Summary, PrintError> {
    let source = |part: IndexRange, out: &mut Vec<Label>| -> Result<(), String> {
        printable
            .for_each_uri(keyring, base, part, |index, serial, uri| {
                out.push(Label {
                    index,
                    serial: serial.as_str().to_owned(),
                    uri: uri.to_owned(),
                });
                Ok::<(), crate::store::StoreError>(())
            })
            .map_err(|e| e.to_string())?;
        done.fetch_add(u64::from(part.len()), Ordering::Relaxed);
        Ok(())
    };
    render::print(job, range, &source, path)
}

/// Why a print run did not finish.
enum Stopped {
    /// Out of room or out of reach (a full disk, the database away): it runs again later.
    ForNow(String),
    /// For good: the job fails with this.
    Failed(String),
}

impl Stopped {
    /// A file that could not be written: for now when the disk is full.
    fn of_io(message: String, e: &std::io::Error) -> Stopped {
        match e.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                Stopped::ForNow(message)
            }
            _ => Stopped::Failed(message),
        }
    }
}

/// What the worker needs.
pub struct PrintWorker {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub keyring: Arc<Keyring>,
    pub base: Option<LabelBase>,
    /// Where finished files are kept.
    pub folder: PathBuf,
    /// How long a finished file is kept.
    pub keep: chrono::Duration,
}

impl PrintWorker {
    /// The path of a job's finished file.
    pub fn path_of(folder: &Path, job: &PrintJob) -> PathBuf {
        folder.join(format!(
            "job-{}-{}",
            job.id,
            file_name(job.batch_id, &job.spec)
        ))
    }

    /// Starts the worker on the runtime; returns the bell that wakes it.
    pub fn start(self) -> Bell {
        worker::start(self, TICK * 5)
    }

    async fn run(&self, job: PrintJob) {
        let id = job.id;
        tracing::info!(
            job = id,
            batch = job.batch_id,
            labels = job.total_labels,
            "print job started"
        );
        let outcome = match self.render(&job).await {
            Ok(bytes) => Ok((file_name(job.batch_id, &job.spec), bytes)),
            Err(Stopped::Failed(e)) => Err(e),
            Err(Stopped::ForNow(e)) => {
                // A full disk or the database away: the job waits, queued again once the
                // database takes the write, and renders anew then.
                tracing::warn!(job = id, error = %e, "print job waits");
                let _ = std::fs::remove_file(Self::path_of(&self.folder, &job));
                tokio::time::sleep(TICK * 5).await;
                let requeue = || self.store.requeue_print_job(id);
                worker::until_written(Self::NAME, id, TICK * 5, requeue).await;
                return;
            }
        };
        match &outcome {
            Ok((_, bytes)) => tracing::info!(job = id, bytes, "print job done"),
            Err(e) => tracing::warn!(job = id, error = %e, "print job failed"),
        }
        let now = self.clock.now();
        let finish = || {
            self.store
                .finish_print_job(id, outcome.clone(), now, now + self.keep)
        };
        worker::until_written(Self::NAME, id, TICK * 5, finish).await;
    }

    /// Renders a job's file; returns its size.
    async fn render(&self, job: &PrintJob) -> Result<i64, Stopped> {
        let base = self
            .base
            .clone()
            .ok_or_else(|| Stopped::Failed("the server has no base URL for labels".into()))?;
        let printable = labels::printable(&*self.store, job.batch_id)
            .await
            .map_err(|e| match e.is_unavailable() {
                true => Stopped::ForNow(e.to_string()),
                false => Stopped::Failed(e.to_string()),
            })?;
        let print = print_job(&job.spec, &printable).map_err(Stopped::Failed)?;
        std::fs::create_dir_all(&self.folder).map_err(|e| {
            Stopped::of_io(format!("cannot make {}: {e}", self.folder.display()), &e)
        })?;
        let path = Self::path_of(&self.folder, job);
        let done = Arc::new(AtomicU64::new(0));
        let counter = done.clone();
        let keyring = self.keyring.clone();
        let range = job.spec.range;
        let target = path.clone();
        let mut rendering = tokio::task::spawn_blocking(move || {
            render_labels(
                &printable, &keyring, &base, &print, range, &target, &counter,
            )
        });
        let mut tick = tokio::time::interval(TICK);
        let summary = loop {
            tokio::select! {
                finished = &mut rendering => break finished,
                _ = tick.tick() => {
                    let labels = done.load(Ordering::Relaxed) as i64;
                    if let Err(e) = self.store.note_print_progress(job.id, labels).await {
                        tracing::warn!(job = job.id, error = %e, "cannot note print progress");
                    }
                }
            }
        };
        match summary.map_err(|e| Stopped::Failed(format!("the print run stopped: {e}")))? {
            Err(PrintError::Io(e)) => Err(Stopped::of_io(e.to_string(), &e)),
            Err(e) => Err(Stopped::Failed(e.to_string())),
            Ok(_) => Ok(()),
        }?;
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Ok(bytes as i64)
    }

    /// Removes the files of jobs past their time.
    async fn expire(&self) {
        match self.store.expire_print_jobs(self.clock.now()).await {
            Ok(jobs) => {
                for job in jobs {
                    let path = Self::path_of(&self.folder, &job);
                    if let Err(e) = std::fs::remove_file(&path) {
                        tracing::warn!(job = job.id, error = %e, "cannot remove an expired print file");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot expire print jobs"),
        }
    }
}

impl Jobs for PrintWorker {
    const NAME: &'static str = "print jobs";

    async fn requeue(&self) -> Result<u64, StoreError> {
        self.store.requeue_running_print_jobs().await
    }

    /// Removes the files past their time, then renders the next job.
    async fn do_next(&self) -> Result<bool, StoreError> {
        self.expire().await;
        match self.store.claim_print_job(self.clock.now()).await? {
            Some(job) => {
                self.run(job).await;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
