//! The console: the pages of signed-in people, each showing and changing what their roles
//! allow. Forms work without JavaScript, carry the session's CSRF token, and a refused form
//! comes back with every error beside its field.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::WithRejection;
use serde::Deserialize;
use strum::IntoEnumIterator;

use crate::app::permissions::Target;
use crate::app::{self, access, accounts, registry};
use crate::domain::organization::{OrgKind, Organization, OrganizationInput};
use crate::domain::people::{Membership, Role};
use crate::domain::product::{Product, ProductInput};
use crate::domain::province::{PROVINCES, Province};
use crate::domain::validation::Invalid;
use crate::store::ListQuery;
use crate::web::AppState;
use crate::web::auth::{self, Signed};
use crate::web::error::{AppError, PageError};
use crate::web::layout::{Layout, render};

mod batches;
mod certificates;
mod events;
mod imports;
mod lots;
mod overview;
mod photos;

type PageResult = Result<Response, PageError>;
type Posted<T> = WithRejection<Form<T>, PageError>;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/console", get(dashboard))
        .route("/console/logout", post(logout))
        .route(
            "/console/organizations/new",
            get(new_organization).post(create_organization),
        )
        .route(
            "/console/products/new",
            get(new_product).post(create_product),
        )
        .route(
            "/console/products/{id}",
            get(edit_product).post(update_product),
        )
        .route("/console/invite", get(invite_form).post(invite))
        .route(
            "/console/password",
            get(password_form).post(change_password),
        )
        .merge(batches::router())
        .merge(imports::router())
        .merge(certificates::router())
        .merge(lots::router())
        .merge(events::router())
        .merge(photos::router())
        // Every console page needs a signed-in person; every form, its CSRF token.
        .route_layer(axum::middleware::from_fn_with_state(state, auth::signed_in))
}

/// Signs out: the session ends here and now, and its cookie is removed.
async fn logout(signed: Signed, State(s): State<AppState>) -> PageResult {
    s.store.end_session(&signed.session, s.clock.now()).await?;
    tracing::info!(person = signed.person.id, "signed out");
    let https = s.settings.base_url().starts_with("https://");
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, auth::end_cookie(https));
    Ok(response)
}

/// The organizations whose records the signed-in person may read.
async fn readable_organizations(
    s: &AppState,
    signed: &Signed,
) -> Result<Vec<Organization>, PageError> {
    Ok(registry::readable_organizations(&s.app, &signed.caller).await?)
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct Dashboard {
    layout: Layout,
    csrf: String,
    person: String,
    query: String,
    products: Vec<Product>,
    organizations: Vec<Organization>,
    may_add_organization: bool,
    may_add_product: bool,
    may_invite: bool,
    /// Whether any producer's label batches are the person's to see.
    sees_labels: bool,
    may_import: bool,
    inspects: bool,
    /// For people of producers: what needs their attention.
    overview: Option<overview::Overview>,
    /// The scans chart (SVG), drawn from numbers and dates only.
    chart: String,
}

#[derive(Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
}

/// The records the signed-in person may read: their organization's, their province's
/// (inspectors), everyone's (operators).
async fn dashboard(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Query(p), _): WithRejection<Query<SearchParams>, PageError>,
) -> PageResult {
    let q = ListQuery {
        search: Some(p.q.clone()).filter(|q| !q.trim().is_empty()),
        limit: Some(ListQuery::MAX_LIMIT),
        ..Default::default()
    };
    let organizations = readable_organizations(&s, &signed).await?;
    let readable: Vec<i64> = organizations.iter().map(|o| o.id).collect();
    let products = s
        .store
        .list_products(&q, None)
        .await?
        .into_iter()
        .filter(|p| readable.contains(&p.data.producer_id))
        .collect();
    // Links only to what the person may do.
    let may_anywhere = |action| {
        organizations.iter().any(|o| {
            let target = Target::of(o);
            signed.caller.actor.may(action, &target)
        })
    };
    let may_add_product = may_anywhere("product.create");
    let sees_labels = organizations.iter().any(|o| o.data.kind.is_producer());
    let may_import = may_anywhere("product.create") && may_anywhere("lot.create");
    let producers: Vec<&Organization> = organizations
        .iter()
        .filter(|o| o.data.kind.is_producer())
        .collect();
    // Operators and inspectors read many producers: their overview is another page's work.
    let own = signed
        .caller
        .actor
        .grants()
        .iter()
        .all(|g| g.role.of_producer());
    let overview = if own && !producers.is_empty() {
        Some(overview::overview(&s, &producers).await?)
    } else {
        None
    };
    let t = signed.lang.texts();
    let chart = overview
        .as_ref()
        .map(|o| overview::scans_chart(&o.scans, t.overview.scans))
        .unwrap_or_default();
    let may_invite = may_anywhere("person.invite");
    let may_add_organization = signed
        .caller
        .actor
        .may("organization.create", &Target::everything());
    render(&Dashboard {
        layout: Layout::new(signed.lang, signed.lang.texts().console, "/console"),
        csrf: signed.csrf,
        person: signed.person.display_name,
        query: p.q,
        products,
        organizations,
        may_add_organization,
        may_add_product,
        may_invite,
        sees_labels,
        may_import,
        overview,
        chart,
        inspects: signed
            .caller
            .actor
            .grants()
            .iter()
            .any(|g| matches!(g.role, Role::Inspector | Role::Operator)),
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
    csrf: String,
    input: OrganizationInput,
    errors: Invalid,
    kinds: Vec<OrgKind>,
    provinces: &'static [Province],
}

fn organization_form(
    signed: &Signed,
    input: OrganizationInput,
    errors: Invalid,
) -> OrganizationForm {
    let layout = Layout::new(signed.lang, "", "/console/organizations/new");
    OrganizationForm {
        layout: Layout {
            title: layout.t.new_organization.to_owned(),
            ..layout
        },
        csrf: signed.csrf.clone(),
        input,
        errors,
        kinds: OrgKind::iter().collect(),
        provinces: &PROVINCES,
    }
}

async fn new_organization(signed: Signed) -> PageResult {
    render(&organization_form(
        &signed,
        OrganizationInput {
            kind: "cooperative".into(),
            ..Default::default()
        },
        Invalid::default(),
    ))
}

async fn create_organization(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Form(input), _): Posted<OrganizationInput>,
) -> PageResult {
    let errors = match input.validate() {
        Err(errors) => errors,
        Ok(org) => match registry::create_organization(&s.app, &signed.caller, &org).await {
            Ok(_) => return Ok(Redirect::to("/console").into_response()),
            Err(e) => form_errors(e)?,
        },
    };
    refused(render(&organization_form(&signed, input, errors))?)
}

#[derive(Template)]
#[template(path = "console/product_form.html")]
struct ProductForm {
    layout: Layout,
    csrf: String,
    /// Where the form posts: a new product, or product `id`.
    action: String,
    input: ProductInput,
    errors: Invalid,
    producers: Vec<Organization>,
    /// Where a stored product's photo form posts.
    photo_action: Option<String>,
    /// Its uploaded photo's sizes, if it has one.
    photo: Option<crate::photos::Sizes>,
}

/// The product form, offering the producers the person may add products for.
async fn product_form(
    s: &AppState,
    signed: &Signed,
    product: Option<i64>,
    input: ProductInput,
    errors: Invalid,
) -> PageResult {
    let producers = readable_organizations(s, signed)
        .await?
        .into_iter()
        .filter(|o| {
            let target = Target::of(o);
            o.data.kind.is_producer() && signed.caller.actor.may("product.create", &target)
        })
        .collect();
    let action = match product {
        Some(id) => format!("/console/products/{id}"),
        None => "/console/products/new".into(),
    };
    let layout = Layout::new(signed.lang, "", &action);
    let status = if errors.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = render(&ProductForm {
        layout: Layout {
            title: if product.is_some() {
                layout.t.edit_product
            } else {
                layout.t.new_product
            }
            .to_owned(),
            ..layout
        },
        csrf: signed.csrf.clone(),
        action,
        errors,
        producers,
        photo_action: product.map(|id| format!("/console/products/{id}/photo")),
        photo: (input.photo_url.as_deref()).and_then(crate::photos::Sizes::from_address),
        input,
    })?;
    Ok((status, page).into_response())
}

async fn new_product(signed: Signed, State(s): State<AppState>) -> PageResult {
    product_form(
        &s,
        &signed,
        None,
        ProductInput::default(),
        Invalid::default(),
    )
    .await
}

async fn create_product(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Form(input), _): Posted<ProductInput>,
) -> PageResult {
    let errors = match input.validate() {
        Err(errors) => errors,
        Ok(product) => match registry::create_product(&s.app, &signed.caller, &product).await {
            Ok(_) => return Ok(Redirect::to("/console").into_response()),
            Err(e) => form_errors(e)?,
        },
    };
    product_form(&s, &signed, None, input, errors).await
}

/// A product's form, for those who may read it (others get 403).
async fn edit_product(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Path(id), _): WithRejection<Path<i64>, PageError>,
) -> PageResult {
    let product = s
        .store
        .product(id)
        .await?
        .ok_or(AppError::NotFound("product"))?;
    let producer = s
        .store
        .organization(product.data.producer_id)
        .await?
        .ok_or(AppError::NotFound("producer"))?;
    registry::require_readable(&s.app, &signed.caller, producer.id).await?;
    product_form(
        &s,
        &signed,
        Some(id),
        stored_input(product),
        Invalid::default(),
    )
    .await
}

/// The form's fields as a stored product fills them.
fn stored_input(product: Product) -> ProductInput {
    ProductInput {
        producer_id: Some(product.data.producer_id),
        name: product.data.name,
        category: product.data.category,
        unit: product.data.unit,
        description: product.data.description,
        photo_url: product.data.photo_url,
        gtin: product.data.gtin.map(|g| g.as_gtin14()),
        growing_area_code: product.data.growing_area_code,
    }
}

async fn update_product(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Path(id), _): WithRejection<Path<i64>, PageError>,
    WithRejection(Form(input), _): Posted<ProductInput>,
) -> PageResult {
    let errors = match input.validate() {
        Err(errors) => errors,
        Ok(product) => match registry::update_product(&s.app, &signed.caller, id, &product).await {
            Ok(_) => return Ok(Redirect::to("/console").into_response()),
            Err(e) => form_errors(e)?,
        },
    };
    product_form(&s, &signed, Some(id), input, errors).await
}

#[derive(Template)]
#[template(path = "console/invite.html")]
struct InvitePage {
    layout: Layout,
    csrf: String,
    organizations: Vec<Organization>,
    roles: Vec<Role>,
    link: Option<String>,
}

async fn invite_page(s: &AppState, signed: &Signed, link: Option<String>) -> PageResult {
    let organizations = readable_organizations(s, signed)
        .await?
        .into_iter()
        .filter(|o| {
            let target = Target::of(o);
            signed.caller.actor.may("person.invite", &target)
        })
        .collect::<Vec<_>>();
    // The roles of the kinds of organization offered (the operator role is given at the
    // command line only).
    let roles = Role::ALL
        .into_iter()
        .filter(|r| {
            organizations
                .iter()
                .any(|o| r.of_producer() == o.data.kind.is_producer() && *r != Role::Operator)
        })
        .collect();
    let layout = Layout::new(signed.lang, "", "/console/invite");
    render(&InvitePage {
        layout: Layout {
            title: layout.t.invite.to_owned(),
            ..layout
        },
        csrf: signed.csrf.clone(),
        organizations,
        roles,
        link,
    })
}

async fn invite_form(signed: Signed, State(s): State<AppState>) -> PageResult {
    invite_page(&s, &signed, None).await
}

#[derive(Deserialize)]
struct InviteForm {
    #[serde(default, deserialize_with = "crate::domain::int_or_blank")]
    organization_id: Option<i64>,
    #[serde(default)]
    role: String,
}

/// Makes an invitation link and shows it once.
async fn invite(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Form(form), _): Posted<InviteForm>,
) -> PageResult {
    let role: Role = form
        .role
        .parse()
        .map_err(|e: String| AppError::Invalid(Invalid::field("role", e)))?;
    let membership = Membership {
        organization_id: form.organization_id,
        role,
    };
    let secret = access::invite(&s.app, &signed.caller, &membership).await?;
    let link = format!("{}/link/{secret}", s.settings.base_url());
    invite_page(&s, &signed, Some(link)).await
}

#[derive(Template)]
#[template(path = "console/password.html")]
struct PasswordPage {
    layout: Layout,
    csrf: String,
    errors: Invalid,
}

fn password_page(signed: &Signed, errors: Invalid) -> PageResult {
    let layout = Layout::new(signed.lang, "", "/console/password");
    let failed = !errors.errors.is_empty();
    let page = render(&PasswordPage {
        layout: Layout {
            title: layout.t.change_password.to_owned(),
            ..layout
        },
        csrf: signed.csrf.clone(),
        errors,
    })?;
    if failed { refused(page) } else { Ok(page) }
}

async fn password_form(signed: Signed) -> PageResult {
    password_page(&signed, Invalid::default())
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// Changes the signed-in person's password: every session of theirs ends, this browser gets
/// a new one. The current password is asked for (and throttled like a sign-in), so that a
/// borrowed session cannot lock its owner out.
async fn change_password(
    signed: Signed,
    State(s): State<AppState>,
    WithRejection(Form(form), _): Posted<PasswordForm>,
) -> PageResult {
    let login = signed.person.login.clone();
    if let Err(wait) = s.login_by_account.check(&login) {
        return Err(AppError::TooMany(wait).into());
    }
    match accounts::authenticate(&s.app, &login, &form.current_password).await {
        Ok(_) => {}
        Err(app::Error::Unauthorized) => {
            tracing::warn!(
                person = signed.person.id,
                "password change: wrong current password"
            );
            let t = signed.lang.texts();
            let errors = Invalid::field("current_password", t.wrong_current_password);
            return password_page(&signed, errors);
        }
        Err(e) => return Err(e.into()),
    }
    let person_id = signed.person.id;
    match accounts::set_password(&s.app, &signed.caller, person_id, &form.new_password).await {
        Ok(()) => {}
        Err(e) => {
            let errors = form_errors(e)?;
            let errors = Invalid {
                errors: errors
                    .errors
                    .into_iter()
                    .map(|mut e| {
                        e.field = "new_password".into();
                        e
                    })
                    .collect(),
            };
            return password_page(&signed, errors);
        }
    }
    tracing::info!(person = person_id, "password changed");
    let cookie = auth::start_session(&s, &signed.person).await?;
    let mut response = Redirect::to("/console").into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// A form shown again with its errors answers 422, so that scripts and tests see the refusal.
fn refused(page: Response) -> PageResult {
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
