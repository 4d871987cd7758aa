//! The application layer: every change to the records, between the edges (web, cli) and the
//! store. Each operation takes the caller (who acts, in which request), checks that the
//! actor may, applies the rules of `domain`, and runs one store transaction in which it
//! writes the change and one audit entry recording it. Nothing else writes to the store
//! (but for what the public leaves behind: scans and reports).

pub mod access;
pub mod accounts;
pub mod auditlog;
pub mod capture_jobs;
pub mod events;
pub mod finding;
pub mod imports;
pub mod keys;
pub mod labels;
pub mod permissions;
pub mod recalls;
pub mod registry;
pub mod reports;
pub mod suspicious;

mod error;

pub use error::Error;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::clock::Clock;
use crate::domain::audit::{ActorRecord, AuditEntry, EntityRef};
use crate::store::{Store, Writes};
use permissions::{Grant, Target};

/// What the application layer works with.
#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// The service's public address, where records point partners (a certificate's page);
    /// None where no server is configured.
    pub base_url: Option<String>,
}

impl App {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> App {
        App {
            store,
            clock,
            base_url: None,
        }
    }

    /// The same, pointing partners to `base_url`.
    pub fn with_base_url(self, base_url: String) -> App {
        App {
            base_url: Some(base_url),
            ..self
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The local operator at the command line, by Unix user name.
    Cli { user: String },
    /// A person signed in, with their roles.
    Person {
        id: i64,
        login: String,
        display_name: String,
        grants: Vec<Grant>,
    },
    /// An API token, acting for its maker with one role in one organization.
    Token {
        id: i64,
        person_id: i64,
        display_name: String,
        grant: Grant,
    },
}

impl Actor {
    /// The operator at this machine's command line.
    pub fn cli() -> Actor {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".into());
        Actor::Cli { user }
    }

    /// How audit entries record the actor.
    pub fn record(&self) -> ActorRecord {
        match self {
            Actor::Cli { user } => ActorRecord::Cli { user: user.clone() },
            Actor::Person { id, login, .. } => ActorRecord::Person {
                id: *id,
                login: login.clone(),
            },
            Actor::Token { id, person_id, .. } => ActorRecord::Token {
                id: *id,
                person: *person_id,
            },
        }
    }

    /// The name a change shows as made by (a certificate's "verified by").
    pub fn display_name(&self) -> String {
        match self {
            Actor::Cli { user } => format!("cli:{user}"),
            Actor::Person { display_name, .. } | Actor::Token { display_name, .. } => {
                display_name.clone()
            }
        }
    }

    /// The roles the actor acts with: the command line is the province's operator.
    pub fn grants(&self) -> Vec<Grant> {
        match self {
            Actor::Cli { .. } => vec![Grant::operator()],
            Actor::Person { grants, .. } => grants.clone(),
            Actor::Token { grant, .. } => vec![grant.clone()],
        }
    }

    /// The person acting, if a person is.
    pub fn person_id(&self) -> Option<i64> {
        match self {
            Actor::Person { id, .. } => Some(*id),
            Actor::Token { person_id, .. } => Some(*person_id),
            _ => None,
        }
    }

    /// The producers' records the actor may do `action` to.
    pub fn reach(&self, action: &str) -> crate::store::Reach {
        permissions::reach(&self.grants(), action)
    }

    /// Whether the actor may do `action` to `target` (see `docs/permissions.md`).
    pub fn may(&self, action: &str, target: &Target) -> bool {
        permissions::allows(&self.grants(), self.person_id(), action, target)
    }
}

/// Who asks for a change, and in which request: what its audit entry records.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    /// The HTTP request's id; None at the command line.
    pub request_id: Option<String>,
}

impl Caller {
    pub fn new(actor: Actor, request_id: Option<String>) -> Caller {
        Caller { actor, request_id }
    }

    /// The local operator at the command line.
    pub fn cli() -> Caller {
        Caller::new(Actor::cli(), None)
    }

    /// Refuses `action` on `target` unless the actor may do it.
    fn require(&self, action: &str, target: &Target) -> Result<(), Error> {
        if self.actor.may(action, target) {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "{} may not do {action} here",
                self.actor.display_name()
            )))
        }
    }
}

/// What a record of organization `id` is, for permissions: the organization and its
/// province.
async fn organization_target(tx: &mut dyn Writes, id: i64) -> Result<Target, Error> {
    Ok(match tx.organization(id).await? {
        Some(org) => Target::of(&org),
        // A record of no organization: only those who may act on everything.
        None => Target::everything(),
    })
}

/// The same as [`organization_target`] read outside a transaction: for refusing early, before
/// costly work, or for reads.
async fn organization_target_now(app: &App, id: i64) -> Result<Target, Error> {
    Ok(match app.store.organization(id).await? {
        Some(org) => Target::of(&org),
        None => Target::everything(),
    })
}

/// Where a role is held: an organization's records, or everything (the operator role).
async fn role_target(tx: &mut dyn Writes, organization_id: Option<i64>) -> Result<Target, Error> {
    match organization_id {
        Some(id) => organization_target(tx, id).await,
        None => Ok(Target::everything()),
    }
}

/// Appends the audit entry of a change to the transaction that makes it.
async fn audit(
    tx: &mut dyn Writes,
    caller: &Caller,
    at: DateTime<Utc>,
    action: &str,
    entity: EntityRef,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<i64, Error> {
    let entry = AuditEntry::new(
        at,
        caller.actor.record(),
        action,
        entity,
        before,
        after,
        caller.request_id.clone(),
    );
    Ok(tx.append_audit(&entry).await?)
}

/// A record as an audit entry holds it.
fn json(value: &impl Serialize) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::Internal(format!("audit entry: {e}")))
}
