//! Why an operation of the application layer did not happen: mapped once to pages and
//! problem+json by the web, to a message and an exit code by the command line.

use crate::domain::validation::{Invalid, Refusal, Rule};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input breaks a rule; the fields say which.
    #[error("{0}")]
    Invalid(Invalid),
    /// The input clashes with what is stored (a duplicate, a printed GTIN).
    #[error("{0}")]
    Conflict(Invalid),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The actor is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// No actor: sign in first.
    #[error("sign in first")]
    Unauthorized,
    /// The database is out of reach or out of room for now; nothing was changed.
    #[error("{0}")]
    Unavailable(String),
    /// A fault of ours; the text is logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(i) => Error::Conflict(i),
            StoreError::Invalid(i) => Error::Invalid(i),
            StoreError::NotFound => Error::NotFound("record"),
            other if other.is_unavailable() => {
                tracing::error!(error = %other, "the database is unavailable");
                Error::Unavailable(
                    "the database is unavailable for now; nothing was stored: try again".into(),
                )
            }
            other => Error::Internal(other.to_string()),
        }
    }
}

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Self {
        Error::Invalid(e)
    }
}

/// A refusal of one field.
pub(crate) fn refuse(field: &str, message: impl Into<String>) -> Error {
    Error::Invalid(Invalid::field(field, message))
}

/// A refusal of one field by a rule the edges put into words.
pub(crate) fn refuse_by(
    field: &str,
    code: Rule,
    argument: Option<String>,
    message: impl Into<String>,
) -> Error {
    Error::Invalid(Invalid::by(field, Refusal::new(code, argument, message)))
}
