//! A cooperative's lot diary: what happened to its lots (harvested today, 1,200 kg, plot
//! VT-TN-0451; dried; packed; shipped; received), recorded on a phone at the field as EPCIS
//! events, and the latest of them listed below the form.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use serde::Deserialize;

use super::{PageResult, Posted, form_errors, readable_organizations};
use crate::app::events;
use crate::app::permissions::Target;
use crate::domain::epcis::journey::{Step, StepKind, lot_class_id};
use crate::domain::epcis::record::{RECORDABLE, RecordingInput, UNITS, vietnam};
use crate::domain::province::{PROVINCES, Province};
use crate::domain::validation::Invalid;
use crate::web::AppState;
use crate::web::auth::Signed;
use crate::web::layout::{Layout, render};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/events", get(diary_page).post(record))
        .route("/console/events/wrong", axum::routing::post(declare_wrong))
}

/// The most events the diary lists, newest first.
const LISTED: usize = 50;

/// A lot the form offers.
struct LotChoice {
    id: i64,
    /// "NL-2026-07 · Nhãn lồng Hưng Yên"
    label: String,
}

/// A recorded event as the diary lists it.
struct DiaryLine {
    /// Its EPCIS event id, for declaring it wrong.
    id: String,
    step: Step,
    lot: String,
    declared_wrong: bool,
}

#[derive(Template)]
#[template(path = "console/events.html")]
struct DiaryPage {
    layout: Layout,
    csrf: String,
    steps: &'static [StepKind],
    units: &'static [(&'static str, &'static str)],
    provinces: &'static [Province],
    lots: Vec<LotChoice>,
    input: RecordingInput,
    errors: Invalid,
    /// Just recorded: its event id.
    recorded: Option<String>,
    lines: Vec<DiaryLine>,
}

#[derive(Deserialize, Default)]
struct DiaryQuery {
    #[serde(default, deserialize_with = "crate::domain::int_or_blank")]
    lot: Option<i64>,
    #[serde(default)]
    recorded: Option<String>,
}

/// The form as the person left it: today's date and time, their producer's province.
fn fresh_input(s: &AppState, lot: Option<i64>, province: Option<&str>) -> RecordingInput {
    let now = s.clock.now().with_timezone(&vietnam());
    RecordingInput {
        step: StepKind::Harvested.slug().into(),
        lot_id: lot,
        date: now.format("%Y-%m-%d").to_string(),
        time: now.format("%H:%M").to_string(),
        unit: "KGM".into(),
        province: province.unwrap_or_default().into(),
        ..Default::default()
    }
}

async fn page(
    s: &AppState,
    signed: &Signed,
    input: Option<RecordingInput>,
    errors: Invalid,
    recorded: Option<String>,
    lot: Option<i64>,
) -> PageResult {
    let mut lots = Vec::new();
    let mut classes: HashMap<String, String> = HashMap::new();
    let mut province = None;
    for org in readable_organizations(s, signed)
        .await?
        .iter()
        .filter(|o| o.data.kind.is_producer())
    {
        let products = s.store.products_of(org.id).await?;
        let may_record = signed.caller.actor.may("event.capture", &Target::of(org));
        let mut own = s.store.lots_of_producer(org.id).await?;
        own.sort_by_key(|l| std::cmp::Reverse(l.data.produced_on));
        for l in own {
            let Some(p) = products.iter().find(|p| p.id == l.data.product_id) else {
                continue;
            };
            let gtin = p.data.gtin.map(|g| g.as_gtin14());
            let label = format!("{} · {}", l.data.code, p.data.name);
            classes.insert(
                lot_class_id(gtin.as_deref(), p.id, &l.data.code),
                label.clone(),
            );
            if may_record {
                province.get_or_insert(org.data.province.name);
                lots.push(LotChoice { id: l.id, label });
            }
        }
    }
    let lines = diary(s, &classes).await?;
    let status = crate::web::layout::form_status(&errors);
    let layout = Layout::new(signed.lang, "", "/console/events");
    let page = render(&DiaryPage {
        layout: Layout {
            title: layout.t.event_page.title.to_owned(),
            ..layout
        },
        csrf: signed.csrf.clone(),
        steps: &RECORDABLE,
        units: &UNITS,
        provinces: &PROVINCES,
        lots,
        input: input.unwrap_or_else(|| fresh_input(s, lot, province)),
        errors,
        recorded,
        lines,
    })?;
    Ok((status, page).into_response())
}

/// The latest events naming the lots of `classes` (class id → the lot's label).
async fn diary(
    s: &AppState,
    classes: &HashMap<String, String>,
) -> Result<Vec<DiaryLine>, crate::web::error::PageError> {
    let ids: Vec<String> = classes.keys().cloned().collect();
    let found = if ids.is_empty() {
        Vec::new()
    } else {
        // The latest recorded, with room for declarations among them.
        let query = crate::store::EventQuery {
            any_class: ids,
            limit: 4 * LISTED as i64,
            newest_first: true,
            ..Default::default()
        };
        events::find(&s.app, &query).await?
    };
    let declared: std::collections::HashSet<&str> = found
        .iter()
        .filter(|e| e.declaration)
        .map(|e| e.hash_id.as_str())
        .collect();
    let mut lines: Vec<DiaryLine> = found
        .iter()
        .filter(|e| !e.declaration)
        .filter_map(|e| {
            let body: serde_json::Value = serde_json::from_str(&e.body).ok()?;
            let named = crate::domain::epcis::journey::everything_named(&body)
                .into_iter()
                .find_map(|c| classes.get(&c).cloned())
                .unwrap_or_default();
            Some(DiaryLine {
                id: e.hash_id.clone(),
                step: Step::of(&body)?,
                lot: named,
                declared_wrong: declared.contains(e.hash_id.as_str()),
            })
        })
        .collect();
    lines.sort_by_key(|l| std::cmp::Reverse(l.step.at));
    lines.truncate(LISTED);
    Ok(lines)
}

async fn diary_page(
    signed: Signed,
    State(s): State<AppState>,
    Query(q): Query<DiaryQuery>,
) -> PageResult {
    page(&s, &signed, None, Invalid::default(), q.recorded, q.lot).await
}

/// The form's fields; the lots a processing step used come as one `inputs` field each.
fn recording_input(fields: Vec<(String, String)>) -> RecordingInput {
    let mut input = RecordingInput::default();
    for (name, value) in fields {
        let slot = match name.as_str() {
            "step" => &mut input.step,
            "date" => &mut input.date,
            "time" => &mut input.time,
            "quantity" => &mut input.quantity,
            "unit" => &mut input.unit,
            "place" => &mut input.place,
            "plot" => &mut input.plot,
            "commune" => &mut input.commune,
            "province" => &mut input.province,
            "lot_id" => {
                input.lot_id = value.trim().parse().ok();
                continue;
            }
            "inputs" => {
                input.inputs.extend(value.trim().parse::<i64>().ok());
                continue;
            }
            _ => continue,
        };
        *slot = value;
    }
    input
}

async fn record(
    signed: Signed,
    State(s): State<AppState>,
    axum_extra::extract::WithRejection(axum::Form(fields), _): Posted<Vec<(String, String)>>,
) -> PageResult {
    let input = recording_input(fields);
    let errors = match input.validate(s.clock.now()) {
        Err(errors) => errors,
        Ok(recording) => match events::record(&s.app, &signed.caller, &recording).await {
            Ok(id) => {
                let to = format!(
                    "/console/events?lot={}&recorded={}",
                    recording.lot_id,
                    crate::web::public::resolver::urlencode(&id)
                );
                return Ok(Redirect::to(&to).into_response());
            }
            Err(e) => form_errors(e)?,
        },
    };
    page(&s, &signed, Some(input), errors, None, None).await
}

#[derive(Deserialize)]
struct WrongForm {
    event: String,
}

/// Declares a recorded event wrong, then back to the diary.
async fn declare_wrong(
    signed: Signed,
    State(s): State<AppState>,
    axum_extra::extract::WithRejection(axum::Form(form), _): Posted<WrongForm>,
) -> PageResult {
    match events::declare_wrong(&s.app, &signed.caller, &form.event).await {
        Ok(()) => Ok(Redirect::to("/console/events").into_response()),
        Err(e) => {
            let errors = form_errors(e)?;
            page(&s, &signed, None, errors, None, None).await
        }
    }
}
