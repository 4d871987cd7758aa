//! A lot as an inspector sees it: whether it is recalled, its recalls (open and closed), a
//! recall form with GS1's fields over this lot and any others of the same product, and the
//! closing of an open recall.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::WithRejection;

use crate::app::{self, recalls, registry};
use crate::domain::lot::Lot;
use crate::domain::product::Product;
use crate::domain::recall::{Recall, RecallInput, RecallReason};
use crate::domain::validation::Invalid;
use crate::store::ListQuery;
use crate::web::AppState;
use crate::web::auth::Signed;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, PageError};
use crate::web::layout::{Layout, render};

#[derive(Template)]
#[template(path = "inspect/lot.html")]
struct LotPage {
    layout: Layout,
    csrf: String,
    lot: Lot,
    product: Product,
    /// The product's other lots, which one recall may cover too.
    siblings: Vec<Lot>,
    recalls: Vec<Recall>,
    /// The lot's traceback: every event of its chain, earliest first.
    chain: Vec<ChainLine>,
    reasons: Vec<RecallReason>,
    form: RecallInput,
    errors: Invalid,
}

/// One event of a lot's chain as the inspector's table shows it.
struct ChainLine {
    when: String,
    step: &'static str,
    place: String,
    recorded_by: String,
    /// An error declaration of this event was captured.
    declared: bool,
    /// The start of its CBV hash id, enough to tell events apart.
    id: String,
}

/// The lot's chain of events, with who recorded each (an organization's name, or the
/// operator).
async fn chain(
    s: &AppState,
    product: &Product,
    lot: &Lot,
    lang: crate::web::i18n::Lang,
) -> Result<Vec<ChainLine>, PageError> {
    use crate::domain::epcis::journey::{Step, lot_class_id};
    let gtin = product.data.gtin.map(|g| g.as_gtin14());
    let class = lot_class_id(gtin.as_deref(), product.id, &lot.data.code);
    let events = app::events::traceback(&s.app, &class).await?;
    let declared: std::collections::HashSet<&str> = events
        .iter()
        .filter(|e| e.declaration)
        .map(|e| e.hash_id.as_str())
        .collect();
    let mut lines = Vec::new();
    for e in events.iter().filter(|e| !e.declaration) {
        let body: serde_json::Value = serde_json::from_str(&e.body).unwrap_or_default();
        let Some(step) = Step::of(&body) else {
            continue;
        };
        let recorded_by = match e.organization_id {
            Some(id) => match s.store.organization(id).await? {
                Some(org) => org.data.name,
                None => format!("#{id}"),
            },
            None => "operator".to_owned(),
        };
        let place = [step.place.as_deref(), step.province.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        let id = e.hash_id.trim_start_matches("ni:///sha-256;");
        lines.push(ChainLine {
            when: step.at.format("%d/%m/%Y %H:%M").to_string(),
            step: match lang {
                crate::web::i18n::Lang::Vi => step.kind.label_vi(),
                crate::web::i18n::Lang::En => step.kind.label_en(),
            },
            place,
            recorded_by,
            declared: declared.contains(e.hash_id.as_str()),
            id: id.chars().take(12).collect(),
        });
    }
    Ok(lines)
}

impl LotPage {
    fn covers(&self, id: &i64) -> bool {
        self.form.lot_ids.contains(id)
    }

    fn code_of(&self, id: &i64) -> String {
        std::iter::once(&self.lot)
            .chain(&self.siblings)
            .find(|l| l.id == *id)
            .map_or_else(|| format!("#{id}"), |l| l.data.code.clone())
    }
}

async fn page(
    s: &AppState,
    signed: &Signed,
    ctx: &RequestContext,
    id: i64,
    form: Option<RecallInput>,
    errors: Invalid,
) -> Result<axum::response::Response, PageError> {
    let lot = s.store.lot(id).await?.ok_or(AppError::NotFound("lot"))?;
    let product = s
        .store
        .product(lot.data.product_id)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    registry::require_readable(&s.app, &signed.caller, product.data.producer_id).await?;
    let query = ListQuery {
        limit: Some(ListQuery::MAX_LIMIT),
        ..Default::default()
    };
    let siblings = s
        .store
        .list_lots(&query, Some(product.id))
        .await?
        .into_iter()
        .filter(|l| l.id != lot.id)
        .collect();
    let recalls = s.store.recalls_of_lot(lot.id).await?;
    let chain = chain(s, &product, &lot, ctx.lang).await?;
    let form = form.unwrap_or_else(|| RecallInput {
        lot_ids: vec![lot.id],
        ..Default::default()
    });
    let status = crate::web::layout::form_status(&errors);
    let title = format!("{} {}", ctx.lang.texts().recall.lot, lot.data.code);
    let page = render(&LotPage {
        layout: Layout::new(ctx.lang, &title, "/inspect"),
        csrf: signed.csrf.clone(),
        lot,
        product,
        siblings,
        recalls,
        chain,
        reasons: RecallReason::all(),
        form,
        errors,
    })?;
    Ok((status, page).into_response())
}

pub async fn show(
    signed: Signed,
    ctx: RequestContext,
    State(s): State<AppState>,
    Path(id): Path<i64>,
) -> Result<axum::response::Response, PageError> {
    page(&s, &signed, &ctx, id, None, Invalid::default()).await
}

/// The recall form's fields; `lot_ids` comes once per ticked lot, so the form is read as
/// pairs.
fn recall_input(pairs: Vec<(String, String)>) -> RecallInput {
    let mut input = RecallInput::default();
    for (name, value) in pairs {
        match name.as_str() {
            // A tampered id is no lot: it is refused by the recall as "no lot".
            "lot_ids" => input.lot_ids.push(value.trim().parse().unwrap_or(-1)),
            "reason_code" => input.reason_code = value,
            "reason" => input.reason = value,
            "risk_class" => input.risk_class = value.trim().parse().ok(),
            "contact" => input.contact = value,
            _ => {}
        }
    }
    input
}

pub async fn recall(
    signed: Signed,
    ctx: RequestContext,
    State(s): State<AppState>,
    Path(id): Path<i64>,
    WithRejection(Form(pairs), _): WithRejection<Form<Vec<(String, String)>>, PageError>,
) -> Result<axum::response::Response, PageError> {
    let input = recall_input(pairs);
    let outcome = match input.validate() {
        Ok(recall) => recalls::open(&s.app, &signed.caller, &recall).await,
        Err(invalid) => Err(app::Error::Invalid(invalid)),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/inspect/lots/{id}")).into_response()),
        Err(app::Error::Invalid(errors) | app::Error::Conflict(errors)) => {
            page(&s, &signed, &ctx, id, Some(input), errors).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct CloseForm {
    /// The lot whose page the form is on, to come back to.
    lot: i64,
    #[serde(default)]
    note: String,
}

pub async fn close(
    signed: Signed,
    ctx: RequestContext,
    State(s): State<AppState>,
    Path(id): Path<i64>,
    WithRejection(Form(form), _): WithRejection<Form<CloseForm>, PageError>,
) -> Result<axum::response::Response, PageError> {
    match recalls::close(&s.app, &signed.caller, id, &form.note).await {
        Ok(_) => Ok(Redirect::to(&format!("/inspect/lots/{}", form.lot)).into_response()),
        Err(app::Error::Invalid(errors) | app::Error::Conflict(errors)) => {
            let errors = errors.within("close");
            page(&s, &signed, &ctx, form.lot, None, errors).await
        }
        Err(e) => Err(e.into()),
    }
}
