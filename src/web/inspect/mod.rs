//! The inspectors' workspace: what awaits an inspector's decision in their province. Only
//! inspectors (and operators) enter; later work adds searching, deciding, recalling and
//! the audit trail here.

mod certificates;
mod finding;
mod lots;
mod producers;
mod reports;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;

use crate::app::auditlog;
use crate::domain::audit::ActorRecord;
use crate::domain::certification::{CertStatus, Certification};
use crate::domain::organization::Organization;
use crate::domain::people::Role;
use crate::store::ListQuery;
use crate::web::AppState;
use crate::web::auth::{self, Signed};
use crate::web::context::RequestContext;
use crate::web::error::PageError;
use crate::web::layout::{Layout, render};

/// The roles that enter the workspace.
const INSPECTORS: &[Role] = &[Role::Inspector, Role::Operator];

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/inspect", get(workspace))
        .route("/inspect/history/{kind}/{id}", get(history))
        .route("/inspect/search", get(finding::page))
        .route("/inspect/search/{format}", get(finding::export))
        .route("/inspect/reports", get(reports::inbox))
        .route("/inspect/suspicious", get(suspicious))
        .route("/inspect/lots/{id}", get(lots::show))
        .route(
            "/inspect/lots/{id}/recall",
            axum::routing::post(lots::recall),
        )
        .route(
            "/inspect/recalls/{id}/close",
            axum::routing::post(lots::close),
        )
        .route("/inspect/producers/{id}", get(producers::show))
        .route(
            "/inspect/producers/{id}/suspension",
            axum::routing::post(producers::suspension),
        )
        .route(
            "/inspect/reports/{id}",
            axum::routing::post(reports::handle),
        )
        .route(
            "/inspect/certificates/revoke",
            axum::routing::post(finding::revoke),
        )
        .route(
            "/inspect/certificates/{id}",
            get(certificates::show).post(certificates::decide),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            INSPECTORS,
            auth::require_role,
        ))
        .route_layer(axum::middleware::from_fn_with_state(state, auth::signed_in))
}

#[derive(Template)]
#[template(path = "inspect/workspace.html")]
struct Workspace {
    layout: Layout,
    csrf: String,
    person: String,
    producers: Vec<Organization>,
    awaiting: Vec<Certification>,
}

#[derive(Template)]
#[template(path = "inspect/history.html")]
struct HistoryPage {
    layout: Layout,
    kind: String,
    id: i64,
    entries: Vec<auditlog::HistoryEntry>,
    checkpoint: Option<crate::store::StoredCheckpoint>,
}

impl HistoryPage {
    /// Who made a change, as the entry records them.
    fn who(&self, e: &auditlog::HistoryEntry) -> String {
        match &e.entry.actor {
            ActorRecord::Cli { user } => format!("cli:{user}"),
            ActorRecord::Person { login, .. } => login.clone(),
            ActorRecord::Token { id, person } => format!("token #{id} (#{person})"),
        }
    }
}

#[derive(Template)]
#[template(path = "inspect/suspicious.html")]
struct SuspiciousPage {
    layout: Layout,
    found: crate::app::suspicious::Suspicious,
}

/// Labels worth a look: scanned unusually often, or after a recall or a void.
async fn suspicious(
    signed: Signed,
    ctx: RequestContext,
    State(s): State<AppState>,
) -> Result<axum::response::Response, PageError> {
    let found = crate::app::suspicious::labels(&s.app, &signed.caller).await?;
    let layout = Layout::new(ctx.lang, ctx.lang.texts().suspicious.title, "/inspect");
    render(&SuspiciousPage { layout, found })
}

/// A record's history from the audit log, each entry's inclusion proof checked.
async fn history(
    signed: Signed,
    ctx: RequestContext,
    State(s): State<AppState>,
    Path((kind, id)): Path<(String, i64)>,
) -> Result<axum::response::Response, PageError> {
    let vkey = s
        .audit_key
        .as_ref()
        .map(|k| k.vkey.as_str())
        .unwrap_or_default();
    let (entries, checkpoint) = auditlog::history(&s.app, &signed.caller, vkey, &kind, id).await?;
    let layout = Layout::new(ctx.lang, ctx.lang.texts().history.title, "/inspect");
    render(&HistoryPage {
        layout,
        kind,
        id,
        entries,
        checkpoint,
    })
}

/// The producers the inspector oversees and their certificates awaiting a decision.
async fn workspace(
    signed: Signed,
    ctx: RequestContext,
    State(s): State<AppState>,
) -> Result<axum::response::Response, PageError> {
    let producers: Vec<Organization> =
        crate::app::registry::readable_organizations(&s.app, &signed.caller)
            .await?
            .into_iter()
            .filter(|o| o.data.kind.is_producer())
            .collect();
    let query = ListQuery {
        limit: Some(ListQuery::MAX_LIMIT),
        ..Default::default()
    };
    let awaiting = s
        .store
        .list_certifications(&query, None)
        .await?
        .into_iter()
        .filter(|c| c.status == CertStatus::Submitted)
        .filter(|c| producers.iter().any(|p| p.id == c.data.holder_id))
        .collect();
    let layout = Layout::new(ctx.lang, ctx.lang.texts().inspect, "/inspect");
    render(&Workspace {
        layout,
        csrf: signed.csrf,
        person: signed.person.display_name,
        producers,
        awaiting,
    })
}
