//! People and their roles: creating a person, setting a password, disabling and enabling,
//! granting and removing roles, and checking a password at sign-in. Passwords are kept as
//! argon2id hashes (19 MiB, 2 passes, 1 lane: OWASP's recommendation); a change that
//! could leave someone signed in who should not be (a new password, disabling, a removed
//! role) ends that person's sessions in the same transaction.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::error::refuse;
use super::permissions::Target;
use super::{Actor, App, Caller, Error, audit, json, role_target};
use crate::domain::audit::EntityRef;
use crate::domain::people::{Membership, NewPerson, Person, PersonStatus, Role, check_password};
use crate::store::Writes;

fn argon2() -> Result<Argon2<'static>, Error> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| Error::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The argon2id hash of `password`, as a PHC string. Hashing takes tens of milliseconds of
/// CPU, so it runs off the async workers.
pub async fn hash_password(password: &str) -> Result<String, Error> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()?
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing task: {e}")))?
}

/// Whether `password` is the one `hash` was made from.
pub async fn password_matches(hash: &str, password: &str) -> bool {
    let (hash, password) = (hash.to_owned(), password.to_owned());
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        argon2().is_ok_and(|a| a.verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A hash no password matches, checked when a login is unknown so that an unknown login
/// and a wrong password take the same time.
const UNKNOWN_LOGIN_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ";

/// The person a login and password sign in, if they are right and the person is active.
/// Unknown logins, wrong passwords and disabled people get the same answer, after the same
/// work.
pub async fn authenticate(app: &App, login: &str, password: &str) -> Result<Person, Error> {
    let found = match crate::domain::people::normalize_login(login) {
        Ok(login) => app.store.person_by_login(&login).await?,
        Err(_) => None,
    };
    let (person, hash) = match found {
        Some((person, Some(hash))) => (Some(person), hash),
        _ => (None, UNKNOWN_LOGIN_HASH.to_owned()),
    };
    let matches = password_matches(&hash, password).await;
    match person {
        Some(p) if matches && p.status == PersonStatus::Active => Ok(p),
        _ => Err(Error::Unauthorized),
    }
}

/// Checks that a membership names an organization of the right kind: a producer for the
/// producer roles, an authority for inspectors, none for operators.
pub(super) async fn check_membership(
    tx: &mut dyn Writes,
    membership: &Membership,
) -> Result<(), Error> {
    let Some(org_id) = membership.organization_id else {
        return if membership.role == Role::Operator {
            Ok(())
        } else {
            Err(refuse(
                "organization_id",
                "choose the organization of the role",
            ))
        };
    };
    if membership.role == Role::Operator {
        return Err(refuse(
            "role",
            "the operator role belongs to no organization",
        ));
    }
    let org = tx.organization(org_id).await?.ok_or_else(|| {
        refuse(
            "organization_id",
            format!("there is no organization {org_id}"),
        )
    })?;
    match (membership.role.of_producer(), org.data.kind.is_producer()) {
        (true, false) => Err(refuse(
            "role",
            format!(
                "{} is not a producer: its people are inspectors",
                org.data.name
            ),
        )),
        (false, true) => Err(refuse(
            "role",
            format!(
                "{} is a producer: an inspector belongs to an authority",
                org.data.name
            ),
        )),
        _ => Ok(()),
    }
}

/// Creates a person with `memberships` and, when given, a password (otherwise they set
/// one through a link).
pub async fn create_person(
    app: &App,
    caller: &Caller,
    person: &NewPerson,
    memberships: &[Membership],
    password: Option<&str>,
) -> Result<Person, Error> {
    caller.require("person.create", &Target::everything())?;
    let hash = match password {
        Some(p) => {
            check_password(p, &person.login)?;
            Some(hash_password(p).await?)
        }
        None => None,
    };
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let mut created = tx.insert_person(person, now).await?;
    for membership in memberships {
        check_membership(&mut *tx, membership).await?;
        created = tx.insert_membership(created.id, membership, now).await?;
    }
    if let Some(hash) = &hash {
        tx.set_password_hash(created.id, hash, now).await?;
    }
    let entity = EntityRef::new("person", created.id);
    let after = Some(json(&created)?);
    audit(&mut *tx, caller, now, "person.create", entity, None, after).await?;
    tx.commit().await?;
    Ok(created)
}

/// Sets a person's password and signs them out everywhere.
pub async fn set_password(
    app: &App,
    caller: &Caller,
    person_id: i64,
    password: &str,
) -> Result<(), Error> {
    caller.require("person.password", &Target::person(person_id))?;
    let person = app
        .store
        .person(person_id)
        .await?
        .ok_or(Error::NotFound("person"))?;
    check_password(password, &person.login)?;
    let hash = hash_password(password).await?;
    let now = app.now();
    let mut tx = app.store.begin().await?;
    tx.set_password_hash(person_id, &hash, now).await?;
    tx.end_sessions_of(person_id, now).await?;
    let entity = EntityRef::new("person", person_id);
    // The entry says that the password changed, never what it is.
    let after = Some(serde_json::json!({ "password": "changed" }));
    audit(
        &mut *tx,
        caller,
        now,
        "person.password",
        entity,
        None,
        after,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Disables (signing them out everywhere) or enables a person.
pub async fn set_status(
    app: &App,
    caller: &Caller,
    person_id: i64,
    status: PersonStatus,
) -> Result<Person, Error> {
    caller.require("person.status", &Target::everything())?;
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let before = tx
        .person(person_id)
        .await?
        .ok_or(Error::NotFound("person"))?;
    let after = tx.set_person_status(person_id, status, now).await?;
    if status == PersonStatus::Disabled {
        tx.end_sessions_of(person_id, now).await?;
    }
    let entity = EntityRef::new("person", person_id);
    let (b, a) = (Some(json(&before)?), Some(json(&after)?));
    audit(&mut *tx, caller, now, "person.status", entity, b, a).await?;
    tx.commit().await?;
    Ok(after)
}

/// Refuses `action` (a grant, an invitation) unless the caller may do it to `target` and
/// holds a role there that includes the one given.
pub(super) fn require_giving(
    caller: &Caller,
    action: &str,
    target: &Target,
    membership: &Membership,
) -> Result<(), Error> {
    caller.require(action, target)?;
    if holds_what_it_gives(&caller.actor, membership) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "{} may not give the role {} here",
            caller.actor.display_name(),
            membership.role
        )))
    }
}

/// Whether `actor` may do `action` (a grant, an invitation) to `target`, giving `membership`.
pub(super) fn may_give(
    actor: &Actor,
    action: &str,
    target: &Target,
    membership: &Membership,
) -> bool {
    actor.may(action, target) && holds_what_it_gives(actor, membership)
}

/// Whether the actor holds, where `membership` is, a role that includes it: nobody gives
/// more than they hold (an operator holds everything).
fn holds_what_it_gives(actor: &Actor, membership: &Membership) -> bool {
    actor.grants().iter().any(|g| {
        g.role == Role::Operator
            || (g.organization.is_some()
                && g.organization == membership.organization_id
                && membership.role != Role::Operator
                && g.role.includes(membership.role))
    })
}

/// Gives a person a role, or a member of the organization another role there (an owner
/// gives roles only to their own people; others are invited).
pub async fn grant(
    app: &App,
    caller: &Caller,
    person_id: i64,
    membership: &Membership,
) -> Result<Person, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let target = role_target(&mut *tx, membership.organization_id).await?;
    require_giving(caller, "person.grant", &target, membership)?;
    let before = tx
        .person(person_id)
        .await?
        .ok_or(Error::NotFound("person"))?;
    // An owner changes the role of their own people; newcomers come by invitation, so that
    // nobody is handed a role (and then a reset link) in an account that is not theirs.
    let member_here = before
        .memberships
        .iter()
        .any(|m| m.organization_id.is_some() && m.organization_id == membership.organization_id);
    if !member_here && !caller.actor.may("person.grant", &Target::everything()) {
        return Err(Error::Forbidden(format!(
            "{} is not a member here: invite them instead",
            before.display_name
        )));
    }
    check_membership(&mut *tx, membership).await?;
    if member_here {
        // A new role where they have one: the old goes, and so do their sessions.
        tx.delete_membership(person_id, membership.organization_id)
            .await?;
        tx.end_sessions_of(person_id, now).await?;
    }
    let after = tx.insert_membership(person_id, membership, now).await?;
    let entity = EntityRef::new("person", person_id);
    let (b, a) = (Some(json(&before)?), Some(json(&after)?));
    audit(&mut *tx, caller, now, "person.grant", entity, b, a).await?;
    tx.commit().await?;
    Ok(after)
}

/// Takes a person's role in an organization (or the operator role, for None) away, and
/// signs them out everywhere.
pub async fn revoke_role(
    app: &App,
    caller: &Caller,
    person_id: i64,
    organization_id: Option<i64>,
) -> Result<Person, Error> {
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let target = role_target(&mut *tx, organization_id).await?;
    caller.require("person.revoke", &target)?;
    let before = tx
        .person(person_id)
        .await?
        .ok_or(Error::NotFound("person"))?;
    let after = tx.delete_membership(person_id, organization_id).await?;
    tx.end_sessions_of(person_id, now).await?;
    let entity = EntityRef::new("person", person_id);
    let (b, a) = (Some(json(&before)?), Some(json(&after)?));
    audit(&mut *tx, caller, now, "person.revoke", entity, b, a).await?;
    tx.commit().await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_are_argon2id_with_owasp_parameters() {
        let hash = hash_password("mật khẩu dài đủ").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(!hash.contains("mật khẩu"));
        assert!(password_matches(&hash, "mật khẩu dài đủ").await);
        assert!(!password_matches(&hash, "mật khẩu dài đủ ").await);
        assert!(!password_matches(UNKNOWN_LOGIN_HASH, "").await);
        assert!(!password_matches("not a hash", "x").await);
    }
}
