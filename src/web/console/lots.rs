//! A producer's lots in the console: each harvest or production run with its dates,
//! quantity and origin, and a form to record a new one (from a phone at the field, too).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use serde::Deserialize;

use super::{PageResult, Posted, form_errors, readable_organizations};
use crate::app::permissions::Target;
use crate::app::registry;
use crate::domain::lot::{Lot, LotInput};
use crate::domain::product::Product;
use crate::domain::province::{PROVINCES, Province};
use crate::domain::validation::{Invalid, parse_quantity};
use crate::web::AppState;
use crate::web::auth::Signed;
use crate::web::layout::{Layout, render};

pub fn router() -> Router<AppState> {
    Router::new().route("/console/lots", get(list).post(create))
}

/// The lot form's fields as typed (a quantity may be blank or written "1.200,5").
#[derive(Deserialize, Default, Clone)]
pub struct LotForm {
    #[serde(default, deserialize_with = "crate::domain::int_or_blank")]
    pub product_id: Option<i64>,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub produced_on: String,
    #[serde(default)]
    pub expires_on: String,
    #[serde(default)]
    pub quantity: String,
    #[serde(default)]
    pub growing_area: String,
    #[serde(default)]
    pub commune: String,
    #[serde(default)]
    pub province: String,
}

#[derive(Template)]
#[template(path = "console/lots.html")]
struct LotsPage {
    layout: Layout,
    csrf: String,
    /// Lots with their product's name, newest production first.
    lots: Vec<(Lot, String)>,
    /// Products the person may record lots of.
    products: Vec<Product>,
    provinces: &'static [Province],
    input: LotForm,
    errors: Invalid,
}

async fn page(s: &AppState, signed: &Signed, input: LotForm, errors: Invalid) -> PageResult {
    let mut lots = Vec::new();
    let mut products = Vec::new();
    for org in readable_organizations(s, signed)
        .await?
        .iter()
        .filter(|o| o.data.kind.is_producer())
    {
        let own = s.store.products_of(org.id).await?;
        for lot in s.store.lots_of_producer(org.id).await? {
            let name = own
                .iter()
                .find(|p| p.id == lot.data.product_id)
                .map(|p| p.data.name.clone())
                .unwrap_or_default();
            lots.push((lot, name));
        }
        if signed.caller.actor.may("lot.create", &Target::of(org)) {
            products.extend(own);
        }
    }
    lots.sort_by_key(|l| std::cmp::Reverse(l.0.data.produced_on));
    let status = crate::web::layout::form_status(&errors);
    let layout = Layout::new(signed.lang, "", "/console/lots");
    let page = render(&LotsPage {
        layout: Layout {
            title: layout.t.lot_page.title.to_owned(),
            ..layout
        },
        csrf: signed.csrf.clone(),
        lots,
        products,
        provinces: &PROVINCES,
        input,
        errors,
    })?;
    Ok((status, page).into_response())
}

async fn list(signed: Signed, State(s): State<AppState>) -> PageResult {
    page(&s, &signed, LotForm::default(), Invalid::default()).await
}

/// The form as a lot's input; a quantity that is no number is refused beside its field.
fn lot_input(form: &LotForm) -> Result<LotInput, Invalid> {
    let blank = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let quantity = match blank(&form.quantity) {
        Some(q) => Some(parse_quantity(&q).map_err(|refusal| Invalid::by("quantity", refusal))?),
        None => None,
    };
    Ok(LotInput {
        product_id: form.product_id,
        code: form.code.clone(),
        produced_on: form.produced_on.clone(),
        expires_on: blank(&form.expires_on),
        quantity,
        growing_area: blank(&form.growing_area),
        commune: blank(&form.commune),
        province: blank(&form.province),
    })
}

async fn create(
    signed: Signed,
    State(s): State<AppState>,
    axum_extra::extract::WithRejection(axum::Form(form), _): Posted<LotForm>,
) -> PageResult {
    let checked = lot_input(&form).and_then(|input| input.validate());
    let errors = match checked {
        Err(errors) => errors,
        Ok(lot) => match registry::create_lot(&s.app, &signed.caller, &lot).await {
            Ok(_) => return Ok(Redirect::to("/console/lots").into_response()),
            Err(e) => form_errors(e)?,
        },
    };
    page(&s, &signed, form, errors).await
}
