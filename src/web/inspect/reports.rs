//! The shoppers' problem reports as an inbox: each with its label, product and time, what
//! the shopper wrote (hostile text: escaped like all), and who handles it; read, take, mark
//! handled with a note.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::WithRejection;
use serde::Deserialize;

use crate::app::{self, reports};
use crate::domain::scan::{Report, ReportState};
use crate::store::ListQuery;
use crate::web::AppState;
use crate::web::auth::Signed;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, PageError};
use crate::web::layout::{Layout, render};

/// A report as the inbox shows it.
struct Row {
    report: Report,
    product: Option<String>,
    assignee: Option<String>,
}

#[derive(Template)]
#[template(path = "inspect/reports.html")]
struct Inbox {
    layout: Layout,
    csrf: String,
    rows: Vec<Row>,
}

pub async fn inbox(
    signed: Signed,
    ctx: RequestContext,
    State(s): State<AppState>,
) -> Result<axum::response::Response, PageError> {
    let query = ListQuery {
        limit: Some(ListQuery::MAX_LIMIT),
        ..Default::default()
    };
    let mut products: HashMap<i64, String> = HashMap::new();
    let mut people: HashMap<i64, String> = HashMap::new();
    // Whether the inspector may handle a report, asked once a product (reports come in
    // many about few products).
    let mut handled_here: HashMap<Option<i64>, bool> = HashMap::new();
    let mut rows = Vec::new();
    for report in s.store.list_reports(&query, None).await? {
        let may = match handled_here.get(&report.product_id) {
            Some(may) => *may,
            None => {
                let may = reports::may_handle(&s.app, &signed.caller, &report).await?;
                handled_here.insert(report.product_id, may);
                may
            }
        };
        if !may {
            continue;
        }
        let product = match report.product_id {
            Some(id) => Some(match products.get(&id) {
                Some(name) => name.clone(),
                None => {
                    let name = s.store.product(id).await?.map(|p| p.data.name);
                    let name = name.unwrap_or_default();
                    products.insert(id, name.clone());
                    name
                }
            }),
            None => None,
        };
        let assignee = match report.assigned_to {
            Some(id) => Some(match people.get(&id) {
                Some(name) => name.clone(),
                None => {
                    let name = s.store.person(id).await?.map(|p| p.display_name);
                    let name = name.unwrap_or_default();
                    people.insert(id, name.clone());
                    name
                }
            }),
            None => None,
        };
        rows.push(Row {
            report,
            product,
            assignee,
        });
    }
    let t = ctx.lang.texts();
    render(&Inbox {
        layout: Layout::new(ctx.lang, t.reports_inbox.title, "/inspect"),
        csrf: signed.csrf.clone(),
        rows,
    })
}

#[derive(Debug, Deserialize)]
pub struct HandleForm {
    /// `read`, `take` (read, and the inspector's own to handle) or `handled`.
    action: String,
    #[serde(default)]
    note: String,
}

pub async fn handle(
    signed: Signed,
    State(s): State<AppState>,
    Path(id): Path<i64>,
    WithRejection(Form(form), _): WithRejection<Form<HandleForm>, PageError>,
) -> Result<axum::response::Response, PageError> {
    let (state, take) = match form.action.as_str() {
        "read" => (ReportState::Read, false),
        "take" => (ReportState::Read, true),
        "handled" => (ReportState::Handled, true),
        _ => return Err(AppError::BadRequest("no such action".into()).into()),
    };
    let change = reports::ReportChange {
        state,
        take,
        note: Some(form.note).filter(|n| !n.trim().is_empty()),
    };
    match reports::handle(&s.app, &signed.caller, id, &change).await {
        Ok(_) => Ok(Redirect::to("/inspect/reports").into_response()),
        Err(app::Error::Invalid(e)) => Err(AppError::Invalid(e).into()),
        Err(e) => Err(e.into()),
    }
}
