//! The storage contract: small traits by role, composed into one [`Store`], with two homes,
//! SQLite (embedded default) and PostgreSQL (scale-out), chosen from the database URL.
//!
//! The store knows SQL and nothing of HTTP. Every change that touches more than one row is
//! one transaction.

mod postgres;
mod rows;
mod sqlite;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::error::ErrorKind;

use crate::domain::audit::{AuditEntry, StoredEntry};
use crate::domain::batch::{LabelBatch, NewBatch, RangeChange};
use crate::domain::bundle::{BundleCertification, BundleLinks, RegistryBundle};
use crate::domain::certification::{CertStatus, Certification, NewCertification};
use crate::domain::gtin::Gtin;
use crate::domain::job::{NewPrintJob, PrintJob};
use crate::domain::lot::{Lot, NewLot};
use crate::domain::organization::{NewOrganization, Organization};
use crate::domain::people::{AccessLink, ApiToken, Membership, NewPerson, Person, PersonStatus};
use crate::domain::product::{NewProduct, Product};
use crate::domain::recall::{NewRecall, Recall};
use crate::domain::scan::{
    BatchScans, NewReport, NewScan, Report, ReportState, ScanSummary, SuspiciousLabel,
};
use crate::domain::validation::Invalid;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The change would break a uniqueness rule; the field says which.
    #[error("{0}")]
    Conflict(Invalid),
    /// The change refers to something that does not exist or is of the wrong kind.
    #[error("{0}")]
    Invalid(Invalid),
    /// The thing asked for does not exist.
    #[error("not found")]
    NotFound,
    /// The database failed or holds something this version cannot read.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the database failed to do its part (unreachable, full, locked, broken), as
    /// opposed to refusing a change on its merits (a duplicate, a missing row): such a
    /// failure marks the write path unwell until a write succeeds again.
    pub fn is_fault(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(d)) => !matches!(
                d.kind(),
                ErrorKind::UniqueViolation
                    | ErrorKind::ForeignKeyViolation
                    | ErrorKind::NotNullViolation
                    | ErrorKind::CheckViolation
            ),
            StoreError::Database(sqlx::Error::RowNotFound) => false,
            StoreError::Database(_) | StoreError::Migration(_) => true,
            StoreError::Conflict(_)
            | StoreError::Invalid(_)
            | StoreError::NotFound
            | StoreError::Corrupt(_) => false,
        }
    }

    /// Whether the database is out of reach or out of room for now, so that the same
    /// request may well succeed later: a 503 with `Retry-After`, not a 500.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(d) => match d.code() {
                Some(code) => match code.parse::<i32>() {
                    // SQLite: busy, locked, out of memory, read-only, I/O error, full, can't
                    // open (primary result codes, the low byte of the extended code).
                    Ok(sqlite) => matches!(sqlite & 0xFF, 5 | 6 | 7 | 8 | 10 | 13 | 14),
                    // PostgreSQL: connection exception (08), insufficient resources (53,
                    // disk full among them), operator intervention (57), system error (58),
                    // serialization failure and deadlock (40001, 40P01).
                    Err(_) => {
                        ["08", "53", "57", "58"].iter().any(|c| code.starts_with(c))
                            || code == "40001"
                            || code == "40P01"
                    }
                },
                None => false,
            },
            _ => false,
        }
    }
}

/// The database's writers: SQLite takes one at a time, so the writers of this process wait
/// their turn here, in order and without a timeout, rather than in SQLite's busy handler
/// (which polls, favours no one, and gives up after its timeout). PostgreSQL takes many.
#[derive(Debug, Default)]
struct Writers(Option<Arc<tokio::sync::Mutex<()>>>);

impl Writers {
    fn one_at_a_time() -> Writers {
        Writers(Some(Arc::default()))
    }

    fn many() -> Writers {
        Writers(None)
    }

    /// Waits for this writer's turn, held until the guard is dropped.
    async fn turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.0 {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        }
    }
}

/// Whether the last write failed for a fault of the database (a full disk, a lost server),
/// and why: readiness reports it until a write succeeds again.
#[derive(Debug, Default)]
struct WriteHealth(std::sync::Mutex<Option<String>>);

impl WriteHealth {
    fn wrote(&self) {
        if let Ok(mut failure) = self.0.lock() {
            *failure = None;
        }
    }

    fn failed(&self, e: &StoreError) {
        tracing::error!(error = %e, "a write failed: the database is unwell");
        if let Ok(mut failure) = self.0.lock() {
            *failure = Some(e.to_string());
        }
    }

    fn failure(&self) -> Option<String> {
        self.0.lock().ok().and_then(|f| f.clone())
    }
}

/// A page of a list, optionally narrowed by a search (diacritics and case ignored).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub search: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl ListQuery {
    /// Lists are capped so that one request cannot read a whole table.
    pub const MAX_LIMIT: i64 = 500;

    pub fn search(text: &str) -> Self {
        ListQuery {
            search: Some(text.to_owned()),
            ..Default::default()
        }
    }

    fn limit(&self) -> i64 {
        self.limit.unwrap_or(100).clamp(1, Self::MAX_LIMIT)
    }

    fn offset(&self) -> i64 {
        self.offset.unwrap_or(0).max(0)
    }
}

/// The producers whose records a list may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    All,
    /// Those of these provinces (slugs) and these organizations.
    Within {
        provinces: Vec<String>,
        organizations: Vec<i64>,
    },
}

/// The records the inspectors' search lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FindKind {
    Producers,
    Products,
    #[default]
    Certificates,
    Lots,
}

impl FindKind {
    pub const ALL: [FindKind; 4] = [
        FindKind::Producers,
        FindKind::Products,
        FindKind::Certificates,
        FindKind::Lots,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindKind::Producers => "producers",
            FindKind::Products => "products",
            FindKind::Certificates => "certificates",
            FindKind::Lots => "lots",
        }
    }

    /// The orders a list of this kind can be sorted in; the first is the default.
    pub fn sorts(self) -> &'static [&'static str] {
        match self {
            FindKind::Producers => &["name", "province", "created"],
            FindKind::Products => &["name", "producer", "created"],
            FindKind::Certificates => &["valid_until", "number", "issued_on", "status", "stars"],
            FindKind::Lots => &["produced_on", "code", "created"],
        }
    }
}

/// A search of the registry with its filters (each `None` when not asked for).
#[derive(Debug, Clone, PartialEq)]
pub struct Finder {
    pub text: Option<String>,
    pub reach: Reach,
    /// A province's slug.
    pub province: Option<String>,
    /// A certificate's status; a lot's `recalled` or `on_sale`; a producer's `suspended` or
    /// `active`.
    pub status: Option<String>,
    /// OCOP stars of the certificate (or one of the product's, or the producer's).
    pub stars: Option<i64>,
    /// Certificates valid until a day in this range (a product's or producer's among them).
    pub expiring: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
    /// One of the kind's `sorts`; its default otherwise.
    pub sort: String,
    pub descending: bool,
}

/// Which part of a list to read: a page of the sorted list, or (for an export that reads a
/// whole list a piece at a time) the next rows by id after `id`, whatever the sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Offset { offset: i64, limit: i64 },
    After { id: i64, limit: i64 },
}

/// The records a search found, of one kind.
#[derive(Debug, Clone)]
pub enum FoundRecords {
    Producers(Vec<Organization>),
    Products(Vec<Product>),
    Certificates(Vec<Certification>),
    Lots(Vec<Lot>),
}

impl FoundRecords {
    pub fn len(&self) -> usize {
        match self {
            FoundRecords::Producers(v) => v.len(),
            FoundRecords::Products(v) => v.len(),
            FoundRecords::Certificates(v) => v.len(),
            FoundRecords::Lots(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id of the last record, where the next `Page::After` starts.
    pub fn last_id(&self) -> Option<i64> {
        match self {
            FoundRecords::Producers(v) => v.last().map(|r| r.id),
            FoundRecords::Products(v) => v.last().map(|r| r.id),
            FoundRecords::Certificates(v) => v.last().map(|r| r.id),
            FoundRecords::Lots(v) => v.last().map(|r| r.id),
        }
    }
}

#[async_trait]
pub trait FindStore: Send + Sync {
    /// The records of `kind` that `finder` selects, in its order, the page asked for.
    async fn find(
        &self,
        kind: FindKind,
        finder: &Finder,
        page: Page,
    ) -> Result<FoundRecords, StoreError>;
}

#[async_trait]
pub trait OrganizationStore: Send + Sync {
    async fn organization(&self, id: i64) -> Result<Option<Organization>, StoreError>;
    async fn list_organizations(&self, q: &ListQuery) -> Result<Vec<Organization>, StoreError>;
    /// Every authority (the organizations that issue certificates and inspect), by name:
    /// a few dozen in a province, so not paged.
    async fn authorities(&self) -> Result<Vec<Organization>, StoreError>;
}

#[async_trait]
pub trait ProductStore: Send + Sync {
    async fn product(&self, id: i64) -> Result<Option<Product>, StoreError>;
    async fn product_by_gtin(&self, gtin: &Gtin) -> Result<Option<Product>, StoreError>;
    /// Products, newest first, optionally of one producer.
    async fn list_products(
        &self,
        q: &ListQuery,
        producer_id: Option<i64>,
    ) -> Result<Vec<Product>, StoreError>;
    /// Every product of a producer, oldest first (an import matches its rows against them).
    async fn products_of(&self, producer_id: i64) -> Result<Vec<Product>, StoreError>;
    /// Which of `gtins` (GTIN-14) some product already has.
    async fn taken_gtins(&self, gtins: &[String]) -> Result<Vec<String>, StoreError>;
}

#[async_trait]
pub trait CertificationStore: Send + Sync {
    async fn certification(&self, id: i64) -> Result<Option<Certification>, StoreError>;
    /// Every certificate a producer holds, by validity end.
    async fn certifications_of(&self, holder_id: i64) -> Result<Vec<Certification>, StoreError>;
    /// The certificate issuer `issuer_id` numbered `number`, whoever holds it.
    async fn certification_by_number(
        &self,
        issuer_id: i64,
        number: &str,
    ) -> Result<Option<Certification>, StoreError>;
    /// Certificates, optionally of one product, ordered by validity end.
    async fn list_certifications(
        &self,
        q: &ListQuery,
        product_id: Option<i64>,
    ) -> Result<Vec<Certification>, StoreError>;
}

#[async_trait]
pub trait LotStore: Send + Sync {
    async fn lot(&self, id: i64) -> Result<Option<Lot>, StoreError>;
    /// The lot of `product_id` with this code.
    async fn lot_by_code(&self, product_id: i64, code: &str) -> Result<Option<Lot>, StoreError>;
    /// Every lot of a producer's products, oldest first.
    async fn lots_of_producer(&self, producer_id: i64) -> Result<Vec<Lot>, StoreError>;
    /// Lots, newest production first, optionally of one product.
    async fn list_lots(
        &self,
        q: &ListQuery,
        product_id: Option<i64>,
    ) -> Result<Vec<Lot>, StoreError>;
    async fn recall(&self, id: i64) -> Result<Option<Recall>, StoreError>;
    /// The recalls covering a lot, newest first, closed ones too.
    async fn recalls_of_lot(&self, lot_id: i64) -> Result<Vec<Recall>, StoreError>;
    /// Recalls, newest first; open ones only when `open_only`.
    async fn list_recalls(&self, q: &ListQuery, open_only: bool)
    -> Result<Vec<Recall>, StoreError>;
}

#[async_trait]
pub trait LabelStore: Send + Sync {
    async fn batch(&self, id: i64) -> Result<Option<LabelBatch>, StoreError>;
    /// The batch holding label `number` of key `kid`, if any.
    async fn batch_of_label(
        &self,
        kid: &str,
        number: u32,
    ) -> Result<Option<LabelBatch>, StoreError>;
    /// Batches, newest first, optionally of one product.
    async fn list_batches(&self, product_id: Option<i64>) -> Result<Vec<LabelBatch>, StoreError>;
    /// The batch's range changes, oldest first, at most `limit`.
    async fn label_changes(
        &self,
        batch_id: i64,
        limit: usize,
    ) -> Result<Vec<RangeChange>, StoreError>;
    /// The newest change covering label `index` of the batch, if any.
    async fn label_change(
        &self,
        batch_id: i64,
        index: u32,
    ) -> Result<Option<RangeChange>, StoreError>;
}

/// Scans and shoppers' reports: what the public leaves behind. They are observations, kept
/// in their own tables, not changes to the records: written without an actor or an audit
/// entry (a label is scanned millions of times).
#[async_trait]
pub trait ScanStore: Send + Sync {
    /// Stores scans in one transaction (a group commit of concurrent scans); returns each
    /// scanned label's summary, this scan included, in order.
    async fn record_scans(&self, scans: &[NewScan]) -> Result<Vec<ScanSummary>, StoreError>;
    /// How often label `index` of a batch has been scanned, and since when.
    async fn label_scans(&self, batch_id: i64, index: u32) -> Result<ScanSummary, StoreError>;
    /// Scans of a producer's labels since `since`, by day in Vietnam (YYYY-MM-DD), oldest
    /// first; days without scans are absent.
    async fn daily_scans(
        &self,
        producer_id: i64,
        since: DateTime<Utc>,
    ) -> Result<Vec<(String, i64)>, StoreError>;
    /// How many of a batch's labels have been scanned, and how often in all.
    async fn batch_scans(&self, batch_id: i64) -> Result<BatchScans, StoreError>;
    /// All scans stored.
    async fn count_scans(&self) -> Result<i64, StoreError>;
    /// Labels of products `reach` covers scanned at least `times` times and `ratio` times as
    /// often as the other scanned labels of their batch (1 when it has none), most scanned
    /// first, at most `limit`.
    async fn often_scanned_labels(
        &self,
        reach: &Reach,
        times: i64,
        ratio: f64,
        limit: i64,
    ) -> Result<Vec<SuspiciousLabel>, StoreError>;
    /// Labels of products `reach` covers scanned with the verdict recalled or void, latest
    /// first, at most `limit`.
    async fn labels_scanned_after_recall(
        &self,
        reach: &Reach,
        limit: i64,
    ) -> Result<Vec<SuspiciousLabel>, StoreError>;
    /// Stores a problem reported by a shopper; returns its id.
    async fn add_report(&self, report: &NewReport, now: DateTime<Utc>) -> Result<i64, StoreError>;
    /// Problem reports, newest first, optionally about one product.
    async fn list_reports(
        &self,
        q: &ListQuery,
        product_id: Option<i64>,
    ) -> Result<Vec<Report>, StoreError>;
}

/// Print jobs, as the worker that renders them sees them: bookkeeping of a print run
/// already ordered (and recorded) through the application layer, not changes to records.
#[async_trait]
pub trait JobStore: Send + Sync {
    async fn print_job(&self, id: i64) -> Result<Option<PrintJob>, StoreError>;
    /// A batch's print jobs, newest first.
    async fn print_jobs_of_batch(&self, batch_id: i64) -> Result<Vec<PrintJob>, StoreError>;
    /// Takes the oldest queued job and marks it running.
    async fn claim_print_job(&self, now: DateTime<Utc>) -> Result<Option<PrintJob>, StoreError>;
    async fn note_print_progress(&self, id: i64, done_labels: i64) -> Result<(), StoreError>;
    /// Ends a running job: done with its file's name and size, or failed with why.
    async fn finish_print_job(
        &self,
        id: i64,
        outcome: Result<(String, i64), String>,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Queues again the jobs a stopped process left running; returns how many.
    async fn requeue_running_print_jobs(&self) -> Result<u64, StoreError>;
    /// Queues print job `id` again if it is running (its run found no room or no database).
    async fn requeue_print_job(&self, id: i64) -> Result<(), StoreError>;
    /// Marks done jobs past their time expired; returns them (their files are to remove).
    async fn expire_print_jobs(&self, now: DateTime<Utc>) -> Result<Vec<PrintJob>, StoreError>;
}

/// An evidence document, addressed by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub sha256: String,
    pub media_type: String,
    pub file_name: Option<String>,
    pub content: Vec<u8>,
}

#[async_trait]
pub trait DocumentStore: Send + Sync {
    async fn document(&self, sha256: &str) -> Result<Option<Document>, StoreError>;
    /// A product photo's small (360 px) or large (720 px) JPEG, by the sent file's SHA-256.
    async fn photo_size(&self, sha256: &str, large: bool) -> Result<Option<Vec<u8>>, StoreError>;
}

#[async_trait]
pub trait RegistryStore: Send + Sync {
    /// How many organizations exist; zero means a fresh registry.
    async fn count_organizations(&self) -> Result<i64, StoreError>;
}

#[async_trait]
pub trait KeyRecordStore: Send + Sync {
    /// When the signing key `kid`, given in the environment, was first seen (`now` if this
    /// is the first time).
    async fn key_first_seen(
        &self,
        kid: &str,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError>;
}

/// People, read.
#[async_trait]
pub trait PeopleStore: Send + Sync {
    async fn person(&self, id: i64) -> Result<Option<Person>, StoreError>;
    /// The person with this (normalised) login, and their password hash if one is set.
    async fn person_by_login(
        &self,
        login: &str,
    ) -> Result<Option<(Person, Option<String>)>, StoreError>;
    /// People, by login, optionally those with a role in one organization.
    async fn list_people(&self, organization_id: Option<i64>) -> Result<Vec<Person>, StoreError>;
}

/// API tokens and one-time links, read (by the hash of what their holder presents).
#[async_trait]
pub trait AccessStore: Send + Sync {
    async fn api_token_by_hash(&self, hash: &[u8]) -> Result<Option<ApiToken>, StoreError>;
    /// A person's tokens, newest first.
    async fn api_tokens_of(&self, person_id: i64) -> Result<Vec<ApiToken>, StoreError>;
    /// Notes the token was used at `now` (no change to the records).
    async fn touch_api_token(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError>;
    async fn access_link_by_hash(&self, hash: &[u8]) -> Result<Option<AccessLink>, StoreError>;
}

/// A signed-in session as stored (its id only as a hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub person_id: i64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// Sessions: who is signed in where. Starting, using and ending one is no change to the
/// records, so it has no audit entry (the log says who signed in and out).
#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn start_session(
        &self,
        id_hash: &[u8],
        person_id: i64,
        csrf_token: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn session(&self, id_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError>;
    /// Notes that the session was used at `now` (for the idle timeout).
    async fn touch_session(&self, id_hash: &[u8], now: DateTime<Utc>) -> Result<(), StoreError>;
    async fn end_session(&self, id_hash: &[u8], now: DateTime<Utc>) -> Result<(), StoreError>;
}

/// The audit log as stored, read in order.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// How many entries the log holds (the next entry's number).
    async fn audit_size(&self) -> Result<i64, StoreError>;
    /// Up to `limit` entries from number `from` on, in order.
    async fn audit_entries(&self, from: i64, limit: i64) -> Result<Vec<StoredEntry>, StoreError>;
    /// Every entry about one record (`entity_type`, `entity_id` as the entry names it), in
    /// order.
    async fn audit_entries_of(
        &self,
        entity_type: &str,
        entity_id: &str,
    ) -> Result<Vec<StoredEntry>, StoreError>;
    /// The leaf hashes of up to `limit` entries from number `from` on, as (number, hash).
    async fn audit_leaf_hashes(
        &self,
        from: i64,
        limit: i64,
    ) -> Result<Vec<(i64, [u8; 32])>, StoreError>;
    /// The Merkle tree's stored hashes of `indexes` that are stored.
    async fn audit_tree_hashes(
        &self,
        indexes: &[u64],
    ) -> Result<HashMap<u64, [u8; 32]>, StoreError>;
    /// The stored hashes numbered `from..to` that are stored (a run of leaves' hashes and
    /// the subtrees they complete are numbered together).
    async fn audit_tree_hash_range(
        &self,
        from: u64,
        to: u64,
    ) -> Result<HashMap<u64, [u8; 32]>, StoreError>;
    /// Adds stored hashes of the tree, and a checkpoint, in one transaction; a hash or
    /// checkpoint stored already (by another process) is left as it is.
    async fn add_to_audit_tree(
        &self,
        hashes: &[(u64, [u8; 32])],
        checkpoint: Option<&StoredCheckpoint>,
    ) -> Result<(), StoreError>;
    /// The checkpoint of the largest tree signed so far.
    async fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>, StoreError>;
    /// The checkpoint signed for a tree of `size` entries, if one was.
    async fn checkpoint(&self, size: u64) -> Result<Option<StoredCheckpoint>, StoreError>;
    /// Every checkpoint, smallest tree first.
    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError>;
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: [u8; 32],
    /// The C2SP signed note, as served.
    pub note: String,
    pub made_at: DateTime<Utc>,
}

/// What an EPCIS events query asks for (the REST binding's parameters truyxuat serves).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    pub ge_event_time: Option<DateTime<Utc>>,
    pub lt_event_time: Option<DateTime<Utc>>,
    pub ge_record_time: Option<DateTime<Utc>>,
    pub lt_record_time: Option<DateTime<Utc>>,
    /// Any of these instance identifiers (canonical form).
    pub any_epc: Vec<String>,
    /// Any of these class identifiers (canonical form).
    pub any_class: Vec<String>,
    pub biz_steps: Vec<String>,
    pub dispositions: Vec<String>,
    /// Events after this row (the page token).
    pub after: Option<i64>,
    pub limit: i64,
    /// The latest recorded first (a diary), instead of the order they were recorded in.
    pub newest_first: bool,
}

#[async_trait]
pub trait EventStore: Send + Sync {
    /// Events matching `query`, in the order they were recorded.
    async fn events(
        &self,
        query: &EventQuery,
    ) -> Result<Vec<crate::domain::epcis::event::StoredEvent>, StoreError>;
    /// Events that name any of `ids` (as an instance or a class), earliest first, at most
    /// `limit`.
    async fn events_naming(
        &self,
        ids: &[String],
        limit: i64,
    ) -> Result<Vec<crate::domain::epcis::event::StoredEvent>, StoreError>;
    /// Which of `hash_ids` name events captured already (error declarations aside).
    async fn captured_already(&self, hash_ids: &[String]) -> Result<Vec<String>, StoreError>;
    /// A capture job, its document aside.
    async fn capture_job(
        &self,
        id: i64,
    ) -> Result<Option<crate::domain::job::CaptureJob>, StoreError>;
    /// The latest `limit` capture jobs of `organization` (none: an operator's), newest first,
    /// their documents aside.
    async fn capture_jobs_of(
        &self,
        organization: Option<i64>,
        limit: i64,
    ) -> Result<Vec<crate::domain::job::CaptureJob>, StoreError>;
    /// Takes the oldest queued capture job and marks it running.
    async fn claim_capture_job(
        &self,
    ) -> Result<Option<crate::domain::job::ClaimedCapture>, StoreError>;
    /// Ends a job that captured nothing: failed, with why (a problem JSON).
    async fn fail_capture_job(
        &self,
        id: i64,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Queues again the capture jobs a stopped process left running; returns how many.
    async fn requeue_running_capture_jobs(&self) -> Result<u64, StoreError>;
    /// Queues capture job `id` again if it is running (its capture found no database).
    async fn requeue_capture_job(&self, id: i64) -> Result<(), StoreError>;
    /// The event with CBV hash id `hash_id` and its error declarations.
    async fn events_by_hash(
        &self,
        hash_id: &str,
    ) -> Result<Vec<crate::domain::epcis::event::StoredEvent>, StoreError>;
}

#[async_trait]
pub trait HealthStore: Send + Sync {
    /// Ok when the database answers and every embedded migration has been applied.
    async fn readiness(&self, now: DateTime<Utc>) -> Result<(), String>;
    /// Applies the embedded migrations that are not applied yet.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Which database this is, for logs and `/readyz`.
    fn backend(&self) -> &'static str;
}

/// How a process's read caches learn that what they hold may be stale.
pub trait ChangeCounter: Send + Sync {
    /// How many changes this process has committed to the registry and labels (scans
    /// aside). A value read before a cache entry was loaded, and still current, means no
    /// change from this process can have made the entry stale.
    fn local_changes(&self) -> u64;
}

/// Where every change to the records starts: one transaction of writes.
#[async_trait]
pub trait Transactions: Send + Sync {
    /// Opens a write transaction (on SQLite, once this process's earlier writers are done).
    async fn begin(&self) -> Result<Box<dyn Writes>, StoreError>;
}

/// The ids an import gave its entities, in the bundle's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportedIds {
    pub organizations: Vec<i64>,
    pub products: Vec<i64>,
    pub certifications: Vec<i64>,
    pub lots: Vec<i64>,
}

/// One write transaction: the application layer reads the state a change starts from,
/// writes the change and its audit entry, then commits. Nothing is kept unless `commit`
/// succeeds; dropped uncommitted, the transaction is rolled back (and its connection
/// closed, never reused). SQL keeps the constraints and optimistic guards; the rules
/// (what may refer to what, which status may follow which) are the caller's.
#[async_trait]
pub trait Writes: Send {
    async fn organization(&mut self, id: i64) -> Result<Option<Organization>, StoreError>;
    async fn product(&mut self, id: i64) -> Result<Option<Product>, StoreError>;
    async fn certification(&mut self, id: i64) -> Result<Option<Certification>, StoreError>;
    async fn lot(&mut self, id: i64) -> Result<Option<Lot>, StoreError>;
    async fn lot_by_code(&mut self, product_id: i64, code: &str)
    -> Result<Option<Lot>, StoreError>;
    async fn batch(&mut self, id: i64) -> Result<Option<LabelBatch>, StoreError>;
    async fn document_stored(&mut self, sha256: &str) -> Result<bool, StoreError>;
    /// The batches whose labels print product `id`'s GTIN.
    async fn batches_of_product(&mut self, id: i64) -> Result<Vec<i64>, StoreError>;
    /// The batches whose labels print lot `id`'s code (minted for it).
    async fn batches_printing_lot(&mut self, id: i64) -> Result<Vec<i64>, StoreError>;
    /// The batches with labels activated on lot `id`.
    async fn batches_activated_on_lot(&mut self, id: i64) -> Result<Vec<i64>, StoreError>;

    async fn insert_organization(
        &mut self,
        org: &NewOrganization,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError>;
    async fn update_organization(
        &mut self,
        id: i64,
        org: &NewOrganization,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError>;
    /// Suspends an organization with `reason` (Some), or reinstates it (None).
    async fn set_suspension(
        &mut self,
        id: i64,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError>;
    async fn insert_product(
        &mut self,
        product: &NewProduct,
        now: DateTime<Utc>,
    ) -> Result<Product, StoreError>;
    async fn update_product(
        &mut self,
        id: i64,
        product: &NewProduct,
        now: DateTime<Utc>,
    ) -> Result<Product, StoreError>;
    /// Stores a certificate as submitted.
    async fn insert_certification(
        &mut self,
        cert: &NewCertification,
        now: DateTime<Utc>,
    ) -> Result<Certification, StoreError>;
    async fn update_certification(
        &mut self,
        id: i64,
        cert: &NewCertification,
        now: DateTime<Utc>,
    ) -> Result<Certification, StoreError>;
    /// Moves a certificate from status `from` to `to`; a conflict when it is no longer in
    /// `from` (changed meanwhile).
    async fn set_certification_status(
        &mut self,
        id: i64,
        from: CertStatus,
        to: CertStatus,
        by: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Certification, StoreError>;
    async fn insert_lot(&mut self, lot: &NewLot, now: DateTime<Utc>) -> Result<Lot, StoreError>;
    /// A shopper's problem report, as the transaction sees it.
    async fn report(&mut self, id: i64) -> Result<Option<Report>, StoreError>;
    /// Writes an inspector's handling of a report.
    async fn update_report(
        &mut self,
        id: i64,
        state: ReportState,
        assigned_to: Option<i64>,
        note: Option<&str>,
    ) -> Result<Report, StoreError>;
    async fn update_lot(
        &mut self,
        id: i64,
        lot: &NewLot,
        now: DateTime<Utc>,
    ) -> Result<Lot, StoreError>;
    async fn recall(&mut self, id: i64) -> Result<Option<Recall>, StoreError>;
    /// Stores a recall and marks its lots recalled with its reason (a lot already recalled
    /// keeps the time of its first recall).
    async fn insert_recall(
        &mut self,
        recall: &NewRecall,
        now: DateTime<Utc>,
    ) -> Result<Recall, StoreError>;
    /// Closes an open recall: its lots no longer read as recalled, unless another open
    /// recall covers them (they then take its reason). NotFound when it is not open.
    async fn close_recall(
        &mut self,
        id: i64,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<Recall, StoreError>;
    /// Stores many new products at once (an import); returns their ids in order.
    async fn insert_products(
        &mut self,
        products: &[NewProduct],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError>;
    /// Stores many new lots at once (an import); returns their ids in order.
    async fn insert_lots(
        &mut self,
        lots: &[NewLot],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError>;
    /// Appends many audit entries at once, numbered in order; returns their numbers.
    async fn append_audits(&mut self, entries: &[AuditEntry]) -> Result<Vec<i64>, StoreError>;
    /// Queues a print job; returns it.
    async fn insert_print_job(
        &mut self,
        job: &NewPrintJob,
        total_labels: i64,
        now: DateTime<Utc>,
    ) -> Result<PrintJob, StoreError>;
    /// Claims idempotency key `key` of `scope` for a request with this hash: None when it
    /// is newly claimed (in this transaction), or what an earlier request claimed it for
    /// (its hash, and its batch once settled). A concurrent claim waits for this one's
    /// transaction to end.
    async fn claim_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
        request_sha256: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(Vec<u8>, Option<i64>)>, StoreError>;
    /// Ties a claimed key to the batch its request made.
    async fn settle_idempotency_key(
        &mut self,
        scope: &str,
        key: &str,
        batch_id: i64,
    ) -> Result<(), StoreError>;
    /// Takes the next `count` label numbers of key `kid` (one statement, so concurrent
    /// mints get disjoint ranges); returns the number after the last one taken.
    async fn take_label_numbers(&mut self, kid: &str, count: u32) -> Result<u64, StoreError>;
    /// Stores a batch whose first label number is `first_number`: one row however many
    /// labels.
    async fn insert_batch(
        &mut self,
        batch: &NewBatch,
        first_number: u32,
        now: DateTime<Utc>,
    ) -> Result<LabelBatch, StoreError>;
    /// Records a change (activation with a lot, or voiding) of a range of a batch's labels.
    async fn insert_label_range(
        &mut self,
        batch_id: i64,
        change: &RangeChange,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Stores a document (once, however often it is sent); returns its SHA-256 in hex.
    async fn insert_document(
        &mut self,
        content: &[u8],
        media_type: &str,
        file_name: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError>;
    /// Records a photo's two sizes (documents already stored); once, however often it is sent.
    async fn insert_photo(
        &mut self,
        sha256: &str,
        small_sha256: &str,
        large_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Stores a whole resolved bundle with multi-row INSERTs (`pace`, for crash tests,
    /// writes a row a statement and waits between them).
    async fn insert_bundle(
        &mut self,
        bundle: &RegistryBundle,
        links: &BundleLinks,
        now: DateTime<Utc>,
        pace: Option<std::time::Duration>,
    ) -> Result<ImportedIds, StoreError>;
    async fn person(&mut self, id: i64) -> Result<Option<Person>, StoreError>;
    async fn insert_person(
        &mut self,
        person: &NewPerson,
        now: DateTime<Utc>,
    ) -> Result<Person, StoreError>;
    async fn set_person_status(
        &mut self,
        id: i64,
        status: PersonStatus,
        now: DateTime<Utc>,
    ) -> Result<Person, StoreError>;
    /// Keeps a password as its argon2id hash (never the password).
    async fn set_password_hash(
        &mut self,
        id: i64,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn insert_membership(
        &mut self,
        person_id: i64,
        membership: &Membership,
        now: DateTime<Utc>,
    ) -> Result<Person, StoreError>;
    async fn delete_membership(
        &mut self,
        person_id: i64,
        organization_id: Option<i64>,
    ) -> Result<Person, StoreError>;
    /// Ends every session of a person (signed out everywhere).
    async fn end_sessions_of(
        &mut self,
        person_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn insert_api_token(
        &mut self,
        hash: &[u8],
        token: &ApiToken,
    ) -> Result<ApiToken, StoreError>;
    async fn api_token(&mut self, id: i64) -> Result<Option<ApiToken>, StoreError>;
    async fn revoke_api_token(
        &mut self,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<ApiToken, StoreError>;
    async fn insert_access_link(
        &mut self,
        hash: &[u8],
        link: &AccessLink,
    ) -> Result<(), StoreError>;
    async fn access_link(&mut self, hash: &[u8]) -> Result<Option<AccessLink>, StoreError>;
    async fn revoke_access_link(
        &mut self,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Marks a link used, once: a conflict when it was used (or revoked) meanwhile.
    async fn use_access_link(&mut self, hash: &[u8], now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Which of `hash_ids` name events captured already (error declarations aside).
    async fn captured_events(&mut self, hash_ids: &[String]) -> Result<Vec<String>, StoreError>;
    /// Stores events as captured at `now`; their row ids. A duplicate is a conflict.
    async fn insert_events(
        &mut self,
        events: &[crate::domain::epcis::event::NewEvent],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError>;
    /// Queues a capture job; returns its id.
    async fn insert_capture_job(
        &mut self,
        job: &crate::domain::job::NewCaptureJob,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError>;
    /// Ends a capture job as done, `captured` events stored (in the same transaction as
    /// they are), its document emptied.
    async fn finish_capture_job(
        &mut self,
        id: i64,
        captured: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Appends an audit entry, numbered next after every entry committed before; returns
    /// its number. Appenders are serialised, so numbers follow commit order without gaps.
    async fn append_audit(&mut self, entry: &AuditEntry) -> Result<i64, StoreError>;
    /// Commits: the change is acknowledged only once this returns Ok.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// Everything the service stores.
pub trait Store:
    OrganizationStore
    + EventStore
    + FindStore
    + ProductStore
    + CertificationStore
    + LotStore
    + LabelStore
    + ScanStore
    + JobStore
    + DocumentStore
    + RegistryStore
    + KeyRecordStore
    + PeopleStore
    + SessionStore
    + AccessStore
    + AuditStore
    + HealthStore
    + ChangeCounter
    + Transactions
{
}

impl<T> Store for T where
    T: OrganizationStore
        + EventStore
        + FindStore
        + ProductStore
        + CertificationStore
        + LotStore
        + LabelStore
        + ScanStore
        + JobStore
        + DocumentStore
        + RegistryStore
        + KeyRecordStore
        + PeopleStore
        + SessionStore
        + AccessStore
        + AuditStore
        + HealthStore
        + ChangeCounter
        + Transactions
{
}

/// Batches never change once minted (later changes are label ranges), and one key's
/// batches never overlap, so a process may keep every batch it has looked up: a cached
/// batch that holds a label number is that label's batch.
#[derive(Debug, Default)]
struct BatchCache {
    by_kid: std::sync::Mutex<HashMap<String, BTreeMap<u32, LabelBatch>>>,
}

/// Batches kept at most; past this the cache starts afresh.
const MAX_CACHED_BATCHES: usize = 100_000;

impl BatchCache {
    fn find(&self, kid: &str, number: u32) -> Option<LabelBatch> {
        let by_kid = self.by_kid.lock().ok()?;
        let (_, batch) = by_kid.get(kid)?.range(..=number).next_back()?;
        batch.index_of(number).map(|_| batch.clone())
    }

    fn keep(&self, batch: &LabelBatch) {
        if let Ok(mut by_kid) = self.by_kid.lock() {
            if by_kid.values().map(BTreeMap::len).sum::<usize>() >= MAX_CACHED_BATCHES {
                by_kid.clear();
            }
            by_kid
                .entry(batch.kid.clone())
                .or_default()
                .insert(batch.first_number, batch.clone());
        }
    }
}

/// Opens the store named by `url` (`sqlite:` or `postgres:`) and applies migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    let store: Arc<dyn Store> = if url.starts_with("sqlite:") {
        Arc::new(SqliteStore::open(url).await?)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Arc::new(PostgresStore::open(url).await?)
    } else {
        return Err(StoreError::Invalid(Invalid::field(
            "database_url",
            "must start with sqlite: or postgres:",
        )));
    };
    store.migrate().await?;
    Ok(store)
}

/// The `LIKE` patterns for a search: every folded word must appear somewhere.
fn like_patterns(q: &ListQuery) -> Vec<String> {
    let words = q
        .search
        .as_deref()
        .map(|s| crate::domain::text::search_terms(s, 8))
        .unwrap_or_default();
    words
        .iter()
        .map(|w| {
            let escaped = w
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        })
        .collect()
}

/// `search_text LIKE $n AND ...` for each pattern, numbered from `first`.
fn like_clause(column: &str, count: usize, first: usize) -> String {
    (0..count)
        .map(|i| format!(" AND {column} LIKE ${} ESCAPE '\\'", first + i))
        .collect()
}
