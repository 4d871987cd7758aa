//! The console: pages for operators to sign in and add organizations and products. Forms
//! work without JavaScript; a refused form comes back with every error beside its field.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::WithRejection;
use chrono::Duration;
use serde::Deserialize;
use strum::IntoEnumIterator;

use super::AppState;
use super::auth::{self, ConsoleOperator, SESSION_COOKIE, SESSION_HOURS};
use super::error::{AppError, PageError};
use super::pages::{Layout, render};
use crate::app::{self, registry};
use crate::domain::organization::{OrgKind, Organization, OrganizationInput};
use crate::domain::product::{Product, ProductInput};
use crate::domain::province::{PROVINCES, Province};
use crate::domain::validation::Invalid;
use crate::store::ListQuery;

type PageResult = Result<Response, PageError>;
type Posted<T> = WithRejection<Form<T>, PageError>;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(dashboard))
        .route("/console/login", get(login_form).post(login))
        .route("/console/logout", post(logout))
        .route(
            "/console/organizations/new",
            get(new_organization).post(create_organization),
        )
        .route(
            "/console/products/new",
            get(new_product).post(create_product),
        )
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    layout: Layout,
    failed: bool,
}

async fn login_form() -> PageResult {
    let layout = Layout::current("Console", "/console/login");
    render(&LoginPage {
        layout: title_is_login(layout),
        failed: false,
    })
}

fn title_is_login(layout: Layout) -> Layout {
    Layout {
        title: layout.t.login.to_owned(),
        ..layout
    }
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(
    State(s): State<AppState>,
    parts: axum::http::request::Parts,
    WithRejection(Form(form), _): Posted<LoginForm>,
) -> PageResult {
    auth::refuse_cross_site(&parts)?;
    let configured = s.admin_token().ok_or_else(|| {
        AppError::Unavailable("set TRUYXUAT_ADMIN_TOKEN to enable the console".into())
    })?;
    if !auth::token_matches(configured, form.token.trim()) {
        let page = render(&LoginPage {
            layout: title_is_login(Layout::current("", "/console/login")),
            failed: true,
        })?;
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    }
    let expires = s.clock.now() + Duration::hours(SESSION_HOURS);
    let secure = if s.settings.base_url().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        auth::session_value(configured, expires),
        SESSION_HOURS * 3600
    );
    let mut response = Redirect::to("/console").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

async fn logout() -> Response {
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("truyxuat_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct Dashboard {
    layout: Layout,
    query: String,
    products: Vec<Product>,
    organizations: Vec<Organization>,
}

#[derive(Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
}

async fn dashboard(
    _: ConsoleOperator,
    State(s): State<AppState>,
    WithRejection(Query(p), _): WithRejection<Query<SearchParams>, PageError>,
) -> PageResult {
    let q = ListQuery {
        search: Some(p.q.clone()).filter(|q| !q.trim().is_empty()),
        ..Default::default()
    };
    render(&Dashboard {
        layout: Layout::current("Console", "/console"),
        query: p.q,
        products: s.store.list_products(&q, None).await?,
        organizations: s.store.list_organizations(&q).await?,
    })
}

/// A form's errors: a refusal renders the form again, anything else is an error page.
fn form_errors(result: app::Error) -> Result<Invalid, PageError> {
    match result {
        app::Error::Invalid(i) | app::Error::Conflict(i) => Ok(i),
        other => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "console/organization_form.html")]
struct OrganizationForm {
    layout: Layout,
    input: OrganizationInput,
    errors: Invalid,
    kinds: Vec<OrgKind>,
    provinces: &'static [Province],
}

fn organization_form(input: OrganizationInput, errors: Invalid) -> OrganizationForm {
    let layout = Layout::current("", "/console/organizations/new");
    OrganizationForm {
        layout: Layout {
            title: layout.t.new_organization.to_owned(),
            ..layout
        },
        input,
        errors,
        kinds: OrgKind::iter().collect(),
        provinces: &PROVINCES,
    }
}

async fn new_organization(_: ConsoleOperator) -> PageResult {
    render(&organization_form(
        OrganizationInput {
            kind: "cooperative".into(),
            ..Default::default()
        },
        Invalid::default(),
    ))
}

async fn create_organization(
    ConsoleOperator(caller): ConsoleOperator,
    State(s): State<AppState>,
    WithRejection(Form(input), _): Posted<OrganizationInput>,
) -> PageResult {
    let errors = match input.validate() {
        Err(errors) => errors,
        Ok(org) => match registry::create_organization(&s.app, &caller, &org).await {
            Ok(_) => return Ok(Redirect::to("/console").into_response()),
            Err(e) => form_errors(e)?,
        },
    };
    refused(render(&organization_form(input, errors))?)
}

#[derive(Template)]
#[template(path = "console/product_form.html")]
struct ProductForm {
    layout: Layout,
    input: ProductInput,
    errors: Invalid,
    producers: Vec<Organization>,
}

async fn product_form(s: &AppState, input: ProductInput, errors: Invalid) -> PageResult {
    let producers = s
        .store
        .list_organizations(&ListQuery {
            limit: Some(ListQuery::MAX_LIMIT),
            ..Default::default()
        })
        .await?
        .into_iter()
        .filter(|o| o.data.kind.is_producer())
        .collect();
    let layout = Layout::current("", "/console/products/new");
    render(&ProductForm {
        layout: Layout {
            title: layout.t.new_product.to_owned(),
            ..layout
        },
        input,
        errors,
        producers,
    })
}

async fn new_product(_: ConsoleOperator, State(s): State<AppState>) -> PageResult {
    product_form(&s, ProductInput::default(), Invalid::default()).await
}

async fn create_product(
    ConsoleOperator(caller): ConsoleOperator,
    State(s): State<AppState>,
    WithRejection(Form(input), _): Posted<ProductInput>,
) -> PageResult {
    let errors = match input.validate() {
        Err(errors) => errors,
        Ok(product) => match registry::create_product(&s.app, &caller, &product).await {
            Ok(_) => return Ok(Redirect::to("/console").into_response()),
            Err(e) => form_errors(e)?,
        },
    };
    refused(product_form(&s, input, errors).await?)
}

/// A form shown again with its errors answers 422, so that scripts and tests see the refusal.
fn refused(page: Response) -> PageResult {
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
