//! Ways in besides a password: API tokens for integrations, and one-time links that invite
//! a person to a role or let them set a new password. The secret is shown once, to whoever
//! makes it, and kept only as its SHA-256; every token and link made, used or revoked is in
//! the audit log (without the secret).

use chrono::Duration;

use super::accounts::{check_membership, hash_password, may_give, require_giving};
use super::error::refuse;
use super::permissions::{Grant, Target};
use super::{Actor, App, Caller, Error, audit, json, organization_target, role_target};
use crate::domain::audit::EntityRef;
use crate::domain::people::{
    AccessLink, ApiToken, LINK_DAYS, LinkPurpose, Membership, NewPerson, Person, PersonStatus,
    Role, check_password,
};
use crate::domain::secrets::{
    is_api_token, new_api_token, random_secret, secret_hash, token_prefix,
};

/// What a token is to do.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// The organization it acts for; None for an operator's token.
    pub organization_id: Option<i64>,
    pub role: Role,
    /// What it is for, to tell tokens apart ("cổng tỉnh", "shop").
    pub name: String,
    /// Days until it expires.
    pub days: i64,
}

/// Whether an active `person` holds `role` in `organization_id`, or a role that includes
/// it (an operator's includes everything).
fn covers(person: &Person, organization_id: Option<i64>, role: Role) -> bool {
    person.status == PersonStatus::Active
        && person.memberships.iter().any(|m| {
            m.role == Role::Operator
                || (m.organization_id.is_some()
                    && m.organization_id == organization_id
                    && m.role.includes(role))
        })
}

/// Makes an API token for `person_id`, acting with at most that person's role; returns the
/// token (shown once) and its record.
pub async fn create_token(
    app: &App,
    caller: &Caller,
    person_id: i64,
    request: &TokenRequest,
) -> Result<(String, ApiToken), Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let target = role_target(&mut *tx, request.organization_id).await?;
    let person = tx
        .person(person_id)
        .await?
        .ok_or(Error::NotFound("person"))?;
    // Only for oneself, unless an operator makes it.
    if caller.actor.person_id() != Some(person_id) {
        caller.require("person.status", &Target::everything())?;
    }
    caller.require("token.create", &target)?;
    if !covers(&person, request.organization_id, request.role) {
        return Err(refuse(
            "role",
            format!(
                "{} does not hold the role {} there: a token acts with at most its maker's role",
                person.display_name, request.role
            ),
        ));
    }
    let mut v = crate::domain::validation::Validator::default();
    let name = v.text("name", &request.name, 100);
    if !(1..=366).contains(&request.days) {
        v.refuse_by(
            "days",
            crate::domain::validation::Rule::OutOfRange,
            Some("1–366".into()),
            "must be from 1 to 366",
        );
    }
    v.finish()?;
    let token = new_api_token(&mut rand::rngs::OsRng);
    let record = ApiToken {
        id: 0,
        prefix: token_prefix(&token),
        person_id,
        organization_id: request.organization_id,
        role: request.role,
        name,
        created_at: now,
        expires_at: now + Duration::days(request.days),
        last_used_at: None,
        revoked_at: None,
    };
    let stored = tx.insert_api_token(&secret_hash(&token), &record).await?;
    let entity = EntityRef::new("api_token", stored.id);
    audit(
        &mut *tx,
        caller,
        now,
        "token.create",
        entity,
        None,
        Some(json(&stored)?),
    )
    .await?;
    tx.commit().await?;
    Ok((token, stored))
}

/// Revokes a token: refused from its next request on.
pub async fn revoke_token(app: &App, caller: &Caller, id: i64) -> Result<ApiToken, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let before = tx.api_token(id).await?.ok_or(Error::NotFound("token"))?;
    caller.require("token.revoke", &Target::person(before.person_id))?;
    let after = tx.revoke_api_token(id, now).await?;
    let entity = EntityRef::new("api_token", id);
    let (b, a) = (Some(json(&before)?), Some(json(&after)?));
    audit(&mut *tx, caller, now, "token.revoke", entity, b, a).await?;
    tx.commit().await?;
    Ok(after)
}

/// The actor a presented API token stands for: unexpired, unrevoked, its maker active and
/// still holding the role it acts with.
pub async fn token_actor(app: &App, presented: &str) -> Result<Actor, Error> {
    if !is_api_token(presented) {
        return Err(Error::Unauthorized);
    }
    let now = app.now();
    let token = app
        .store
        .api_token_by_hash(&secret_hash(presented))
        .await?
        .filter(|t| t.usable(now))
        .ok_or(Error::Unauthorized)?;
    let maker = app
        .store
        .person(token.person_id)
        .await?
        .filter(|p| covers(p, token.organization_id, token.role))
        .ok_or(Error::Unauthorized)?;
    // Noted at most once a minute: a busy integration should not write on every call.
    if token
        .last_used_at
        .is_none_or(|at| now - at > Duration::minutes(1))
    {
        app.store.touch_api_token(token.id, now).await?;
    }
    let grant = match token.organization_id {
        Some(org) => Grant {
            role: token.role,
            organization: Some(org),
            province: app
                .store
                .organization(org)
                .await?
                .map(|o| o.data.province.slug),
        },
        None => Grant::operator(),
    };
    Ok(Actor::Token {
        id: token.id,
        person_id: maker.id,
        display_name: format!("{} ({})", maker.display_name, token.name),
        grant,
    })
}

/// Makes a one-time link inviting someone to `membership`; returns its secret (shown once,
/// to pass on by Zalo or SMS).
pub async fn invite(app: &App, caller: &Caller, membership: &Membership) -> Result<String, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let target = role_target(&mut *tx, membership.organization_id).await?;
    require_giving(caller, "person.invite", &target, membership)?;
    check_membership(&mut *tx, membership).await?;
    let link = AccessLink {
        purpose: LinkPurpose::Invitation {
            organization_id: membership.organization_id,
            role: membership.role,
        },
        made_by: caller.actor.person_id(),
        created_at: now,
        expires_at: now + Duration::days(LINK_DAYS),
        used_at: None,
        revoked_at: None,
    };
    let secret = make_link(&mut *tx, caller, now, "link.invite", &link).await?;
    tx.commit().await?;
    Ok(secret)
}

/// Makes a one-time link for `person_id` to set a new password.
pub async fn reset_link(app: &App, caller: &Caller, person_id: i64) -> Result<String, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let person = tx
        .person(person_id)
        .await?
        .ok_or(Error::NotFound("person"))?;
    let roles = role_targets(&mut *tx, &person).await?;
    if !may_reset(&caller.actor, &roles) {
        return Err(Error::Forbidden(format!(
            "{} may not reset this person's password",
            caller.actor.display_name()
        )));
    }
    let link = AccessLink {
        purpose: LinkPurpose::Reset { person_id },
        made_by: caller.actor.person_id(),
        created_at: now,
        expires_at: now + Duration::days(LINK_DAYS),
        used_at: None,
        revoked_at: None,
    };
    let secret = make_link(&mut *tx, caller, now, "link.reset", &link).await?;
    tx.commit().await?;
    Ok(secret)
}

/// Where each of a person's roles is held.
async fn role_targets(
    tx: &mut dyn crate::store::Writes,
    person: &Person,
) -> Result<Vec<Target>, Error> {
    let mut targets = Vec::new();
    for m in &person.memberships {
        targets.push(role_target(tx, m.organization_id).await?);
    }
    Ok(targets)
}

/// Whether `actor` may make a reset link for a person whose roles are held at `roles`: an
/// operator for anyone; an owner only for someone all of whose roles are in organizations
/// the owner manages (not an operator, nor a member of another producer too).
fn may_reset(actor: &Actor, roles: &[Target]) -> bool {
    actor.may("person.reset", &Target::everything())
        || (!roles.is_empty() && roles.iter().all(|t| actor.may("person.reset", t)))
}

async fn make_link(
    tx: &mut dyn crate::store::Writes,
    caller: &Caller,
    now: chrono::DateTime<chrono::Utc>,
    action: &str,
    link: &AccessLink,
) -> Result<String, Error> {
    let secret = random_secret(&mut rand::rngs::OsRng, 20);
    let hash = secret_hash(&secret);
    tx.insert_access_link(&hash, link).await?;
    // The entry names the link by the start of its hash, never by the secret.
    let entity = EntityRef::new("link", hex::encode(&hash[..8]));
    audit(tx, caller, now, action, entity, None, Some(json(link)?)).await?;
    Ok(secret)
}

/// Revokes a link not yet used (an invitation sent to the wrong number, say).
pub async fn revoke_link(app: &App, caller: &Caller, secret: &str) -> Result<(), Error> {
    let now = app.now();
    let hash = secret_hash(secret);
    let mut tx = app.store.begin().await?;
    let link = tx
        .access_link(&hash)
        .await?
        .ok_or(Error::NotFound("link"))?;
    let target = match link.purpose {
        LinkPurpose::Invitation {
            organization_id: Some(org),
            ..
        } => organization_target(&mut *tx, org).await?,
        _ => Target::everything(),
    };
    caller.require("link.revoke", &target)?;
    tx.revoke_access_link(&hash, now).await?;
    let entity = EntityRef::new("link", hex::encode(&hash[..8]));
    audit(
        &mut *tx,
        caller,
        now,
        "link.revoke",
        entity,
        Some(json(&link)?),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The link a secret opens, if it is still open.
pub async fn open_link(app: &App, secret: &str) -> Result<AccessLink, Error> {
    app.store
        .access_link_by_hash(&secret_hash(secret))
        .await?
        .filter(|l| l.open(app.now()))
        .ok_or(Error::NotFound("link"))
}

/// Accepts an invitation: makes the account it invites (with `password`) and gives it the
/// role; the link is used once.
pub async fn accept_invitation(
    app: &App,
    secret: &str,
    person: &NewPerson,
    password: &str,
    request_id: Option<String>,
) -> Result<Person, Error> {
    check_password(password, &person.login)?;
    let hash = hash_password(password).await?;
    let now = app.now();
    let link_hash = secret_hash(secret);
    let mut tx = app.store.begin().await?;
    let link = tx
        .access_link(&link_hash)
        .await?
        .filter(|l| l.open(now))
        .ok_or(Error::NotFound("link"))?;
    let LinkPurpose::Invitation {
        organization_id,
        role,
    } = link.purpose
    else {
        return Err(Error::NotFound("link"));
    };
    let membership = Membership {
        organization_id,
        role,
    };
    // The link gives what its maker may give now: not after they are disabled or lose
    // the role.
    let target = role_target(&mut *tx, organization_id).await?;
    maker_still_may(&mut *tx, &link, |maker| {
        may_give(maker, "person.invite", &target, &membership)
    })
    .await?;
    check_membership(&mut *tx, &membership).await?;
    tx.use_access_link(&link_hash, now).await?;
    let created = tx.insert_person(person, now).await?;
    let created = tx.insert_membership(created.id, &membership, now).await?;
    tx.set_password_hash(created.id, &hash, now).await?;
    // The newcomer is the one who acts: they open the link.
    let caller = Caller::new(person_actor(&created, &[]), request_id);
    let entity = EntityRef::new("person", created.id);
    let after = Some(json(&created)?);
    audit(&mut *tx, &caller, now, "link.accept", entity, None, after).await?;
    tx.commit().await?;
    Ok(created)
}

/// Refuses a link whose maker (a person; the command line makes links too) is no longer
/// active or no longer holds what made the link possible.
async fn maker_still_may(
    tx: &mut dyn crate::store::Writes,
    link: &AccessLink,
    may: impl Fn(&Actor) -> bool,
) -> Result<(), Error> {
    let Some(maker) = link.made_by else {
        return Ok(());
    };
    let maker = tx
        .person(maker)
        .await?
        .filter(|m| m.status == PersonStatus::Active)
        .ok_or(Error::NotFound("link"))?;
    let mut provinces = Vec::new();
    for org in maker.memberships.iter().filter_map(|m| m.organization_id) {
        if let Some(o) = tx.organization(org).await? {
            provinces.push((org, o.data.province.slug));
        }
    }
    if may(&person_actor(&maker, &provinces)) {
        Ok(())
    } else {
        Err(Error::NotFound("link"))
    }
}

/// Sets a new password through a reset link, and signs the person out everywhere. The
/// link must still be open, its person active, and its maker still allowed to make it.
pub async fn reset_password(
    app: &App,
    secret: &str,
    password: &str,
    request_id: Option<String>,
) -> Result<Person, Error> {
    let now = app.now();
    let link_hash = secret_hash(secret);
    let link = open_link(app, secret).await?;
    let LinkPurpose::Reset { person_id } = link.purpose else {
        return Err(Error::NotFound("link"));
    };
    let person = app
        .store
        .person(person_id)
        .await?
        .filter(|p| p.status == PersonStatus::Active)
        .ok_or(Error::NotFound("link"))?;
    check_password(password, &person.login)?;
    let hash = hash_password(password).await?;
    let mut tx = app.store.begin().await?;
    let roles = role_targets(&mut *tx, &person).await?;
    maker_still_may(&mut *tx, &link, |maker| may_reset(maker, &roles)).await?;
    tx.use_access_link(&link_hash, now).await?;
    tx.set_password_hash(person_id, &hash, now).await?;
    tx.end_sessions_of(person_id, now).await?;
    let caller = Caller::new(person_actor(&person, &[]), request_id);
    let entity = EntityRef::new("person", person_id);
    let after = Some(serde_json::json!({ "password": "changed" }));
    audit(
        &mut *tx,
        &caller,
        now,
        "link.reset_password",
        entity,
        None,
        after,
    )
    .await?;
    tx.commit().await?;
    Ok(person)
}

/// A signed-in person as an actor, with the provinces of their organizations (given as
/// `(organization id, province slug)`).
pub fn person_actor(person: &Person, provinces: &[(i64, &'static str)]) -> Actor {
    let grants = person
        .memberships
        .iter()
        .map(|m| Grant {
            role: m.role,
            organization: m.organization_id,
            province: m.organization_id.and_then(|org| {
                provinces
                    .iter()
                    .find(|(id, _)| *id == org)
                    .map(|(_, slug)| *slug)
            }),
        })
        .collect();
    Actor::Person {
        id: person.id,
        login: person.login.clone(),
        display_name: person.display_name.clone(),
        grants,
    }
}

/// The actor a signed-in person is, their organizations' provinces read from the store.
pub async fn signed_in_actor(app: &App, person: &Person) -> Result<Actor, Error> {
    let mut provinces = Vec::new();
    for org in person.memberships.iter().filter_map(|m| m.organization_id) {
        if let Some(o) = app.store.organization(org).await? {
            provinces.push((org, o.data.province.slug));
        }
    }
    Ok(person_actor(person, &provinces))
}
