//! Print jobs: a print run rendered in the background, its progress and its file.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::batch::IndexRange;

/// What a print run prints, as the print form or the API asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PrintSpec {
    /// pdf, png-zip, svg-zip or csv.
    pub format: String,
    /// A layout preset or a custom layout (see `truyxuat layouts`).
    pub layout: String,
    pub dpi: u32,
    pub range: IndexRange,
    pub calibration: bool,
    /// Print only the code and serial, without the product name and lot.
    pub no_text: bool,
}

/// Where a job is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    strum::IntoStaticStr,
    strum::EnumString,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
    /// Done, and its file removed after its time.
    Expired,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A print job as stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PrintJob {
    pub id: i64,
    pub batch_id: i64,
    pub requested_by: String,
    pub person_id: Option<i64>,
    pub spec: PrintSpec,
    pub state: JobState,
    pub total_labels: i64,
    pub done_labels: i64,
    pub file_name: Option<String>,
    pub file_bytes: Option<i64>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl PrintJob {
    /// Progress in percent, 0 to 100.
    pub fn percent(&self) -> i64 {
        if self.total_labels <= 0 {
            return 0;
        }
        (self.done_labels * 100 / self.total_labels).clamp(0, 100)
    }
}

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewPrintJob {
    pub batch_id: i64,
    pub requested_by: String,
    pub person_id: Option<i64>,
    pub spec: PrintSpec,
}

/// An EPCIS capture job as stored, its document aside: a document above the synchronous
/// limit, captured in the background, all its events or none.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureJob {
    pub id: i64,
    /// The organization its events are captured for; none for an operator.
    pub organization_id: Option<i64>,
    /// How many events the document holds.
    pub events: i64,
    /// Queued, running, done or failed.
    pub state: JobState,
    pub captured: i64,
    /// Why it failed: a problem JSON (`title`, `detail`, `field` as a JSON pointer).
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A capture job to queue: who sent it (as audit entries record an actor, JSON) and what.
#[derive(Debug, Clone)]
pub struct NewCaptureJob {
    pub organization_id: Option<i64>,
    pub actor: String,
    pub request_id: Option<String>,
    pub document: Vec<u8>,
    pub events: i64,
}

/// A capture job taken by the worker, with what it needs to run it.
#[derive(Debug, Clone)]
pub struct ClaimedCapture {
    pub job: CaptureJob,
    pub actor: String,
    pub request_id: Option<String>,
    pub document: Vec<u8>,
}
