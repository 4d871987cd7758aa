//! The frame every page shares: its language, its texts, its title and where it is.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};

use super::error::PageError;
use super::i18n::{Lang, Texts};

/// What the shared layout of every page needs.
pub struct Layout {
    pub lang: Lang,
    pub t: &'static Texts,
    pub title: String,
    /// The path of this page, for the language switch to come back to.
    pub path: String,
    pub asset_version: &'static str,
}

impl Layout {
    pub fn new(lang: Lang, title: &str, path: &str) -> Layout {
        Layout {
            lang,
            t: lang.texts(),
            title: title.to_owned(),
            path: if path.is_empty() {
                "/".into()
            } else {
                path.to_owned()
            },
            asset_version: env!("CARGO_PKG_VERSION"),
        }
    }

    /// A refused field's reason in the page's language.
    pub fn refusal<'e>(
        &self,
        error: &'e crate::domain::validation::FieldError,
    ) -> std::borrow::Cow<'e, str> {
        super::rules::words(self.lang, error)
    }

    /// A role's name in the page's language.
    pub fn role(&self, role: &crate::domain::people::Role) -> &'static str {
        match self.lang {
            Lang::Vi => role.label_vi(),
            Lang::En => role.label_en(),
        }
    }

    /// A kind of organization's name in the page's language.
    pub fn kind(&self, kind: &crate::domain::organization::OrgKind) -> &'static str {
        match self.lang {
            Lang::Vi => kind.label_vi(),
            Lang::En => kind.label_en(),
        }
    }
}

impl Layout {
    /// A step of a lot's journey in the page's language.
    pub fn step(&self, kind: &crate::domain::epcis::journey::StepKind) -> &'static str {
        match self.lang {
            Lang::Vi => kind.label_vi(),
            Lang::En => kind.label_en(),
        }
    }
}

/// Renders a typed template as an HTML response.
pub fn render(page: &impl Template) -> Result<Response, PageError> {
    Ok(Html(page.render()?).into_response())
}

/// The status of a form page: 422 when it comes back with refusals, 200 otherwise.
pub fn form_status(errors: &crate::domain::validation::Invalid) -> axum::http::StatusCode {
    if errors.errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    }
}
