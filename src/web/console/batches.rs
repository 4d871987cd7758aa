//! Label batches in the console: order (mint) labels for a product, see each batch's state
//! and scans, activate or void ranges, and print or download its labels in every format of
//! `truyxuat print`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::WithRejection;
use serde::Deserialize;

use super::{PageResult, Posted, form_errors, readable_organizations};
use crate::app::labels::{self, MintRequest};
use crate::app::permissions::Target;
use crate::domain::batch::{IndexRange, LabelBatch, RangeChange, parse_profile};
use crate::domain::job::{JobState, PrintJob};
use crate::domain::lot::Lot;
use crate::domain::product::Product;
use crate::domain::scan::BatchScans;
use crate::domain::validation::{Invalid, Refusal, Rule, Validator};
use crate::render::{self, Media};
use crate::store::ListQuery;
use crate::web::AppState;
use crate::web::auth::Signed;
use crate::web::downloads::{self, DOWNLOAD_LIMIT, PrintRequest, Printed, Refused, print_spec};
use crate::web::error::{AppError, PageError};
use crate::web::layout::{Layout, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/batches", get(list).post(order))
        .route("/console/batches/{id}", get(show))
        .route("/console/batches/{id}/activate", post(activate))
        .route("/console/batches/{id}/void", post(void))
        .route("/console/batches/{id}/print", post(print))
        .route("/console/jobs/{id}", get(job_page))
        .route("/console/jobs/{id}/file", get(job_file))
}

/// A batch as a row of the list.
pub struct BatchRow {
    pub batch: LabelBatch,
    pub product: String,
    pub lot: Option<String>,
    pub scans: BatchScans,
}

/// The order form's fields, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct OrderForm {
    #[serde(default, deserialize_with = "crate::domain::int_or_blank")]
    pub product_id: Option<i64>,
    #[serde(default)]
    pub count: String,
    #[serde(default)]
    pub profile: String,
    #[serde(default)]
    pub lot: String,
}

#[derive(Template)]
#[template(path = "console/batches.html")]
struct BatchesPage {
    layout: Layout,
    csrf: String,
    batches: Vec<BatchRow>,
    /// The products the person may order labels for.
    orderable: Vec<Product>,
    input: OrderForm,
    errors: Invalid,
    max_batch: u32,
}

/// The products whose records the person may read, and of those, the ones they may order
/// labels for.
async fn products(
    s: &AppState,
    signed: &Signed,
) -> Result<(Vec<Product>, Vec<Product>), PageError> {
    let organizations = readable_organizations(s, signed).await?;
    let q = ListQuery {
        limit: Some(ListQuery::MAX_LIMIT),
        ..Default::default()
    };
    let readable: Vec<Product> = s
        .store
        .list_products(&q, None)
        .await?
        .into_iter()
        .filter(|p| organizations.iter().any(|o| o.id == p.data.producer_id))
        .collect();
    let orderable = readable
        .iter()
        .filter(|p| {
            organizations.iter().any(|o| {
                o.id == p.data.producer_id && signed.caller.actor.may("labels.mint", &Target::of(o))
            })
        })
        .cloned()
        .collect();
    Ok((readable, orderable))
}

async fn lot_code(s: &AppState, id: Option<i64>) -> Result<Option<String>, PageError> {
    Ok(match id {
        Some(id) => s.store.lot(id).await?.map(|l| l.data.code),
        None => None,
    })
}

async fn batches_page(
    s: &AppState,
    signed: &Signed,
    input: OrderForm,
    errors: Invalid,
) -> PageResult {
    let (readable, orderable) = products(s, signed).await?;
    let mut batches = Vec::new();
    for batch in s.store.list_batches(None).await? {
        let Some(product) = readable.iter().find(|p| p.id == batch.product_id) else {
            continue;
        };
        batches.push(BatchRow {
            product: product.data.name.clone(),
            lot: lot_code(s, batch.lot_id).await?,
            scans: s.store.batch_scans(batch.id).await?,
            batch,
        });
    }
    let status = if errors.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let layout = Layout::new(signed.lang, "", "/console/batches");
    let page = render(&BatchesPage {
        layout: Layout {
            title: layout.t.batches.title.to_owned(),
            ..layout
        },
        csrf: signed.csrf.clone(),
        batches,
        orderable,
        input,
        errors,
        max_batch: s.settings.max_batch,
    })?;
    Ok((status, page).into_response())
}

async fn list(signed: Signed, State(s): State<AppState>) -> PageResult {
    let input = OrderForm {
        count: "1000".into(),
        profile: "compact".into(),
        ..Default::default()
    };
    batches_page(&s, &signed, input, Invalid::default()).await
}

/// Reads the order form; every field's error at once.
fn order_request(form: &OrderForm) -> Result<MintRequest, Invalid> {
    let mut v = Validator::default();
    if form.product_id.is_none() {
        v.choose("product_id", "choose a product");
    }
    // "10.000" and "10 000" are how people write ten thousand.
    let typed = form.count.trim();
    let count = v.check_by(
        "count",
        typed
            .replace(['.', ',', ' '], "")
            .parse::<u32>()
            .map_err(|_| {
                let message = "must be a whole number of labels";
                Refusal::new(Rule::NotANumber, Some(typed.to_owned()), message)
            }),
    );
    let profile = match form.profile.trim() {
        "" => "compact",
        typed => typed,
    };
    let profile = v.check("profile", parse_profile(profile));
    v.finish()?;
    let (Some(product_id), Some(count), Some(profile)) = (form.product_id, count, profile) else {
        // Not reached: a missing field was refused above.
        return Err(Invalid::field("form", "incomplete"));
    };
    Ok(MintRequest {
        product_id,
        count,
        lot: Some(form.lot.trim().to_owned()).filter(|l| !l.is_empty()),
        profile,
    })
}

/// Mints the ordered batch and opens its page.
async fn order(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Form(input), _): Posted<OrderForm>,
) -> PageResult {
    let errors = match order_request(&input) {
        Err(errors) => errors,
        Ok(request) => {
            let minted = labels::mint(
                &s.app,
                &signed.caller,
                &s.keyring,
                &request,
                s.settings.max_batch,
            )
            .await;
            match minted {
                Ok(batch) => {
                    let to = format!("/console/batches/{}", batch.id);
                    return Ok(Redirect::to(&to).into_response());
                }
                Err(e) => form_errors(e)?,
            }
        }
    };
    batches_page(&s, &signed, input, errors).await
}

/// A print layout as the picker offers it.
pub struct LayoutChoice {
    pub name: String,
    pub roll: bool,
    /// Labels across and down a sheet; 1 x 1 for a roll.
    pub grid: (u32, u32),
    pub label_mm: (f64, f64),
}

fn layout_choices() -> Vec<LayoutChoice> {
    render::presets()
        .into_iter()
        .map(|l| match &l.media {
            Media::Sheet(s) => LayoutChoice {
                name: l.name.clone(),
                roll: false,
                grid: (s.columns, s.rows),
                label_mm: s.label_mm,
            },
            Media::Roll { label_mm } => LayoutChoice {
                name: l.name.clone(),
                roll: true,
                grid: (1, 1),
                label_mm: *label_mm,
            },
        })
        .collect()
}

#[derive(Template)]
#[template(path = "console/batch.html")]
struct BatchPage {
    layout: Layout,
    csrf: String,
    batch: LabelBatch,
    product: Product,
    lot: Option<Lot>,
    lots: Vec<Lot>,
    changes: Vec<(RangeChange, Option<String>)>,
    scans: BatchScans,
    may_change: bool,
    may_print: bool,
    layouts: Vec<LayoutChoice>,
    download_limit: u32,
    jobs: Vec<PrintJob>,
    errors: Invalid,
}

/// The changes shown on a batch's page.
const CHANGES_SHOWN: usize = 200;

async fn batch_page(s: &AppState, signed: &Signed, id: i64, errors: Invalid) -> PageResult {
    let batch = s
        .store
        .batch(id)
        .await?
        .ok_or(AppError::NotFound("batch"))?;
    let product = s
        .store
        .product(batch.product_id)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    let producer = s
        .store
        .organization(product.data.producer_id)
        .await?
        .ok_or(AppError::NotFound("producer"))?;
    crate::app::registry::require_readable(&s.app, &signed.caller, producer.id).await?;
    let target = Target::of(&producer);
    let actor = &signed.caller.actor;
    let lot = match batch.lot_id {
        Some(lot) => s.store.lot(lot).await?,
        None => None,
    };
    let q = ListQuery {
        limit: Some(ListQuery::MAX_LIMIT),
        ..Default::default()
    };
    let lots = s.store.list_lots(&q, Some(product.id)).await?;
    let mut changes = Vec::new();
    for change in s.store.label_changes(id, CHANGES_SHOWN).await? {
        let code = lots
            .iter()
            .find(|l| Some(l.id) == change.lot_id)
            .map(|l| l.data.code.clone());
        changes.push((change, code));
    }
    let status = if errors.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let path = format!("/console/batches/{id}");
    let layout = Layout::new(signed.lang, "", &path);
    let page = render(&BatchPage {
        layout: Layout {
            title: format!("{} {id}", layout.t.batches.batch),
            ..layout
        },
        csrf: signed.csrf.clone(),
        scans: s.store.batch_scans(id).await?,
        may_change: actor.may("labels.activate", &target) && actor.may("labels.void", &target),
        may_print: actor.may("labels.print", &target),
        batch,
        product,
        lot,
        lots,
        changes,
        layouts: layout_choices(),
        download_limit: DOWNLOAD_LIMIT,
        jobs: s.store.print_jobs_of_batch(id).await?,
        errors,
    })?;
    Ok((status, page).into_response())
}

type Id = WithRejection<Path<i64>, PageError>;

async fn show(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Path(id), _): Id,
) -> PageResult {
    batch_page(&s, &signed, id, Invalid::default()).await
}

/// A range typed into a form: blank for the whole batch.
#[derive(Deserialize, Default)]
struct RangeForm {
    #[serde(default)]
    range: String,
    #[serde(default)]
    lot: String,
}

fn typed_range(text: &str) -> Result<Option<IndexRange>, Invalid> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|e: String| Invalid::field("range", e))
}

async fn activate(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Path(id), _): Id,
    WithRejection(Form(form), _): Posted<RangeForm>,
) -> PageResult {
    let result = match typed_range(&form.range) {
        Ok(range) => labels::activate(&s.app, &signed.caller, id, &form.lot, range)
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    changed(&s, &signed, id, result).await
}

async fn void(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Path(id), _): Id,
    WithRejection(Form(form), _): Posted<RangeForm>,
) -> PageResult {
    let result = match typed_range(&form.range) {
        Ok(range) => labels::void(&s.app, &signed.caller, id, range)
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    changed(&s, &signed, id, result).await
}

/// After a change: back to the batch's page, or the page again with the refusal.
async fn changed(
    s: &AppState,
    signed: &Signed,
    id: i64,
    result: Result<(), crate::app::Error>,
) -> PageResult {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/console/batches/{id}")).into_response()),
        Err(e) => batch_page(s, signed, id, form_errors(e)?).await,
    }
}

/// The print form: everything `truyxuat print` takes.
#[derive(Deserialize)]
struct PrintForm {
    #[serde(default = "pdf")]
    format: String,
    #[serde(default = "a4")]
    layout: String,
    #[serde(default)]
    range: String,
    #[serde(default = "dpi")]
    dpi: String,
    #[serde(default)]
    calibration: Option<String>,
    #[serde(default)]
    no_text: Option<String>,
}

fn pdf() -> String {
    "pdf".into()
}
fn a4() -> String {
    "a4-5x8".into()
}
fn dpi() -> String {
    "300".into()
}

/// Prints what the form asks for: a run of up to `DOWNLOAD_LIMIT` labels is rendered now
/// and sent as a download (written whole first, so a run that fails half-way sends an
/// error page, not half a PDF); a larger one is queued as a job whose page shows its
/// progress.
async fn print(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Path(id), _): Id,
    WithRejection(Form(form), _): Posted<PrintForm>,
) -> PageResult {
    let printable = labels::for_printing(&s.app, &signed.caller, id).await?;
    let request = PrintRequest {
        format: &form.format,
        layout: &form.layout,
        dpi: &form.dpi,
        range: Some(&form.range),
        calibration: form.calibration.is_some(),
        no_text: form.no_text.is_some(),
    };
    let spec = match print_spec(&request, &printable.batch) {
        Ok(spec) => spec,
        Err(errors) => return batch_page(&s, &signed, id, errors).await,
    };
    match downloads::print(&s, &signed.caller, printable, &spec).await {
        Ok(Printed::File(response)) => Ok(response),
        Ok(Printed::Queued(job)) => {
            Ok(Redirect::to(&format!("/console/jobs/{}", job.id)).into_response())
        }
        Err(Refused::Layout(message)) => {
            batch_page(&s, &signed, id, Invalid::field("layout", message)).await
        }
        Err(Refused::App(e)) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "console/job.html")]
struct JobPage {
    layout: Layout,
    job: PrintJob,
    product: String,
    /// Still to finish: the page reloads itself.
    working: bool,
}

/// A job the person may see: one of a batch whose labels they may print.
async fn readable_job(s: &AppState, signed: &Signed, id: i64) -> Result<PrintJob, PageError> {
    let job = s
        .store
        .print_job(id)
        .await?
        .ok_or(AppError::NotFound("print job"))?;
    labels::for_printing(&s.app, &signed.caller, job.batch_id).await?;
    Ok(job)
}

async fn job_page(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Path(id), _): Id,
) -> PageResult {
    let job = readable_job(&s, &signed, id).await?;
    let product = match s.store.batch(job.batch_id).await? {
        Some(b) => s
            .store
            .product(b.product_id)
            .await?
            .map(|p| p.data.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let working = matches!(job.state, JobState::Queued | JobState::Running);
    let layout = Layout::new(signed.lang, "", &format!("/console/jobs/{id}"));
    render(&JobPage {
        layout: Layout {
            title: format!("{} {id}", layout.t.batches.job),
            ..layout
        },
        job,
        product,
        working,
    })
}

async fn job_file(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Path(id), _): Id,
) -> PageResult {
    let job = readable_job(&s, &signed, id).await?;
    if job.state != JobState::Done {
        return Err(AppError::NotFound("print file").into());
    }
    Ok(downloads::job_file(&s, &job).await?)
}
