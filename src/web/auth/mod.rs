//! Signing in and the one-time links: `/login` (throttled per account and per client), and
//! `/link/{secret}`, where an invited person makes their account or a person sets a new
//! password. Signing out is a console form (it needs the session's CSRF token).

mod session;

pub use session::{
    ApiCaller, MAX_UPLOAD, SESSION_ABSOLUTE, SESSION_IDLE, Signed, api_token, bearer_caller,
    end_cookie, require_role, session_cookie, signed_in, start_session,
};

use askama::Template;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use axum_extra::extract::WithRejection;
use serde::Deserialize;

use crate::app::{self, access};
use crate::domain::people::{LinkPurpose, PersonInput, Role};
use crate::domain::validation::Invalid;
use crate::web::AppState;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, PageError};
use crate::web::i18n::Lang;
use crate::web::layout::{Layout, render};
use session::{refuse_cross_site, request_id};

type PageResult = Result<Response, PageError>;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/link/{secret}", get(link_form).post(use_link))
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    layout: Layout,
    login: String,
    failed: bool,
}

fn login_page(lang: Lang, login: String, failed: bool) -> Result<Response, PageError> {
    let layout = Layout::new(lang, "", "/login");
    render(&LoginPage {
        layout: Layout {
            title: layout.t.login.to_owned(),
            ..layout
        },
        login,
        failed,
    })
}

async fn login_form(ctx: RequestContext) -> PageResult {
    login_page(ctx.lang, String::new(), false)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

/// Signs a person in: a new session (a new id at every sign-in) and its cookie. Too many
/// tries for one account or from one client get 429; a failure is logged, and an unknown
/// login, a wrong password and a disabled account get the same answer.
async fn login(
    State(s): State<AppState>,
    ctx: RequestContext,
    parts: Parts,
    WithRejection(Form(form), _): WithRejection<Form<LoginForm>, PageError>,
) -> PageResult {
    refuse_cross_site(&parts, &s.settings.base_url())?;
    let client = ctx.client;
    let normalized = crate::domain::people::normalize_login(&form.login).ok();
    let account = normalized
        .clone()
        .unwrap_or_else(|| form.login.trim().to_lowercase());
    // What is not a login (a password typed in the wrong field, say) is not logged.
    let logged = normalized.as_deref().unwrap_or("(not a login)");
    let throttled = s
        .login_by_account
        .check(&account)
        .and(s.login_by_client.check_client(client));
    if let Err(wait) = throttled {
        tracing::warn!(login = logged, client = ?client, "sign-in refused: too many tries");
        return Err(AppError::TooMany(wait).into());
    }
    match access_person(&s, &form).await {
        Ok(person) => {
            tracing::info!(person = person.id, "signed in");
            let cookie = session::start_session(&s, &person).await?;
            let mut response = Redirect::to("/console").into_response();
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            Ok(response)
        }
        Err(app::Error::Unauthorized) => {
            tracing::warn!(login = logged, client = ?client, "sign-in failed");
            let page = login_page(ctx.lang, form.login, true)?;
            Ok((StatusCode::UNAUTHORIZED, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn access_person(
    s: &AppState,
    form: &LoginForm,
) -> Result<crate::domain::people::Person, app::Error> {
    app::accounts::authenticate(&s.app, &form.login, &form.password).await
}

/// What a link page shows.
enum Purpose {
    Invitation(Role),
    Reset,
}

#[derive(Template)]
#[template(path = "auth/link.html")]
struct LinkPage {
    layout: Layout,
    purpose: Option<Purpose>,
    organization: Option<String>,
    input: PersonInput,
    errors: Invalid,
}

async fn link_page(
    s: &AppState,
    lang: Lang,
    secret: &str,
    input: PersonInput,
    errors: Invalid,
) -> Result<(StatusCode, LinkPage), PageError> {
    let layout = Layout::new(lang, "", "/");
    let (purpose, organization) = match access::open_link(&s.app, secret).await {
        Ok(link) => match link.purpose {
            LinkPurpose::Invitation {
                organization_id,
                role,
            } => {
                let org = match organization_id {
                    Some(id) => s.store.organization(id).await?.map(|o| o.data.name),
                    None => None,
                };
                (Some(Purpose::Invitation(role)), org)
            }
            LinkPurpose::Reset { .. } => (Some(Purpose::Reset), None),
        },
        Err(app::Error::NotFound(_)) => (None, None),
        Err(e) => return Err(e.into()),
    };
    let status = if purpose.is_none() {
        StatusCode::GONE
    } else if errors.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = LinkPage {
        layout: Layout {
            title: layout.t.invitation_title.to_owned(),
            ..layout
        },
        purpose,
        organization,
        input,
        errors,
    };
    Ok((status, page))
}

async fn link_form(
    State(s): State<AppState>,
    ctx: RequestContext,
    Path(secret): Path<String>,
) -> PageResult {
    let (status, page) = link_page(
        &s,
        ctx.lang,
        &secret,
        PersonInput::default(),
        Invalid::default(),
    )
    .await?;
    Ok(private((status, render(&page)?)))
}

/// A link page: its address is a secret, so it is not cached and not sent to another site
/// as a referrer (`no-referrer` would also blank the `Origin` of its own form, which the
/// cross-site check then refuses); the form posts back to the address the browser is at,
/// not one written in the page.
fn private(page: impl IntoResponse) -> Response {
    let mut response = page.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A request path as logged: the secret of a one-time link left out.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/link/") {
        Some(secret) if !secret.is_empty() => "/link/…".into(),
        _ => path.into(),
    }
}

#[derive(Deserialize)]
struct LinkForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
}

/// Uses a link: makes the invited account (and signs it in), or sets the new password.
async fn use_link(
    State(s): State<AppState>,
    ctx: RequestContext,
    Path(secret): Path<String>,
    parts: Parts,
    WithRejection(Form(form), _): WithRejection<Form<LinkForm>, PageError>,
) -> PageResult {
    refuse_cross_site(&parts, &s.settings.base_url())?;
    let input = PersonInput {
        login: form.login.clone(),
        display_name: form.display_name.clone(),
    };
    let request = request_id(&parts.headers);
    let result = match access::open_link(&s.app, &secret).await.map(|l| l.purpose) {
        Ok(LinkPurpose::Invitation { .. }) => match input.validate() {
            Ok(person) => {
                access::accept_invitation(&s.app, &secret, &person, &form.password, request).await
            }
            Err(invalid) => Err(app::Error::Invalid(invalid)),
        },
        Ok(LinkPurpose::Reset { .. }) => {
            access::reset_password(&s.app, &secret, &form.password, request).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(person) => {
            let cookie = session::start_session(&s, &person).await?;
            let mut response = Redirect::to("/console").into_response();
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            Ok(response)
        }
        Err(app::Error::Invalid(errors) | app::Error::Conflict(errors)) => {
            let (status, page) = link_page(&s, ctx.lang, &secret, input, errors).await?;
            let status = if status == StatusCode::OK {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                status
            };
            Ok(private((status, render(&page)?)))
        }
        Err(app::Error::NotFound(_)) => link_form(State(s), ctx, Path(secret)).await,
        Err(e) => Err(e.into()),
    }
}
