//! People on both databases: created with their roles, signed in by password, signed out
//! everywhere when their password changes, when they are disabled or lose a role; every
//! change recorded, no password or hash in the audit log.

use std::sync::Arc;

use truyxuat::app::{Error, accounts};
use truyxuat::domain::people::{Membership, PersonInput, PersonStatus, Role};
use truyxuat::store::Store;

use crate::on_both_databases;
use crate::support::changes::{Changes, app_at};
use crate::support::fixtures::*;

on_both_databases!(
    people_sign_in_with_their_roles_and_are_signed_out_when_they_change,
    memberships_name_an_organization_of_the_right_kind,
    tokens_and_links_leave_one_entry_each_and_no_secret,
    nobody_gives_more_than_they_hold,
);

async fn people_sign_in_with_their_roles_and_are_signed_out_when_they_change(
    store: Arc<dyn Store>,
) {
    let app = app_at(&store, now());
    let cli = truyxuat::app::Caller::cli();
    let coop = store
        .create_organization(&cooperative("HTX Chè").build(), now())
        .await
        .unwrap();
    let person = PersonInput {
        login: " An@HTX.vn ".into(),
        display_name: "Nguyễn Văn An".into(),
    }
    .validate()
    .unwrap();
    let password = "chè ô long cầu đất";
    let an = accounts::create_person(
        &app,
        &cli,
        &person,
        &[Membership::of(coop.id, Role::Editor)],
        Some(password),
    )
    .await
    .unwrap();
    assert_eq!(an.login, "an@htx.vn");
    assert_eq!(an.memberships, vec![Membership::of(coop.id, Role::Editor)]);
    // The same login twice is a conflict on the login.
    match accounts::create_person(&app, &cli, &person, &[], None).await {
        Err(Error::Conflict(i)) => assert_eq!(i.errors[0].field, "login"),
        other => panic!("{other:?}"),
    }

    // Signing in: right password, any spelling of the login; all else the same refusal.
    let signed = accounts::authenticate(&app, "AN@htx.vn", password)
        .await
        .unwrap();
    assert_eq!(signed.id, an.id);
    for (login, password) in [
        ("an@htx.vn", "chè ô long cầu đất "),
        ("nobody@htx.vn", password),
        ("not a login", password),
    ] {
        assert!(matches!(
            accounts::authenticate(&app, login, password).await,
            Err(Error::Unauthorized)
        ));
    }

    // Each of these ends every session of the person.
    let session = |n: u8| vec![n; 32];
    for (n, change) in ["password", "disable", "revoke"].into_iter().enumerate() {
        let id = session(n as u8);
        store
            .start_session(&id, an.id, "csrf", now())
            .await
            .unwrap();
        assert!(
            store
                .session(&id)
                .await
                .unwrap()
                .unwrap()
                .ended_at
                .is_none()
        );
        match change {
            "password" => accounts::set_password(&app, &cli, an.id, "một mật khẩu mới")
                .await
                .unwrap(),
            "disable" => {
                accounts::set_status(&app, &cli, an.id, PersonStatus::Disabled)
                    .await
                    .unwrap();
                assert!(matches!(
                    accounts::authenticate(&app, "an@htx.vn", "một mật khẩu mới").await,
                    Err(Error::Unauthorized)
                ));
                accounts::set_status(&app, &cli, an.id, PersonStatus::Active)
                    .await
                    .unwrap();
            }
            _ => {
                accounts::revoke_role(&app, &cli, an.id, Some(coop.id))
                    .await
                    .unwrap();
            }
        }
        assert_eq!(
            store.session(&id).await.unwrap().unwrap().ended_at,
            Some(now()),
            "{change}"
        );
    }
    assert!(
        store
            .person(an.id)
            .await
            .unwrap()
            .unwrap()
            .memberships
            .is_empty()
    );
    assert!(
        accounts::authenticate(&app, "an@htx.vn", "một mật khẩu mới")
            .await
            .is_ok()
    );

    // Recorded, without the password or its hash.
    let entries = store.audit_entries(0, 100).await.unwrap();
    let actions: Vec<String> = entries.iter().map(|e| e.entry().unwrap().action).collect();
    assert_eq!(
        actions,
        [
            "organization.create",
            "person.create",
            "person.password",
            "person.status",
            "person.status",
            "person.revoke"
        ]
    );
    for e in &entries {
        let text = String::from_utf8_lossy(&e.bytes);
        assert!(
            !text.contains("mật khẩu") && !text.contains("argon2"),
            "{text}"
        );
    }
}

async fn memberships_name_an_organization_of_the_right_kind(store: Arc<dyn Store>) {
    let app = app_at(&store, now());
    let cli = truyxuat::app::Caller::cli();
    let coop = store
        .create_organization(&cooperative("HTX Chè").build(), now())
        .await
        .unwrap();
    let dept = store
        .create_organization(&department("Sở NN&MT").build(), now())
        .await
        .unwrap();
    let person = |login: &str| {
        PersonInput {
            login: login.into(),
            display_name: "Người".into(),
        }
        .validate()
        .unwrap()
    };
    for (n, membership, ok) in [
        (0, Membership::of(coop.id, Role::Owner), true),
        (1, Membership::of(dept.id, Role::Inspector), true),
        (2, Membership::operator(), true),
        (3, Membership::of(dept.id, Role::Editor), false),
        (4, Membership::of(coop.id, Role::Inspector), false),
        (5, Membership::of(999, Role::Viewer), false),
    ] {
        let made = accounts::create_person(
            &app,
            &cli,
            &person(&format!("p{n}@htx.vn")),
            &[membership],
            None,
        )
        .await;
        assert_eq!(made.is_ok(), ok, "{membership:?}: {made:?}");
    }
    // A refused person is not half made.
    assert!(store.person_by_login("p3@htx.vn").await.unwrap().is_none());
}

/// Every token and link change appends exactly one audit entry, and no entry holds the
/// token, the link's secret or a password.
async fn tokens_and_links_leave_one_entry_each_and_no_secret(store: Arc<dyn Store>) {
    use truyxuat::app::access::{self, TokenRequest};
    let app = app_at(&store, now());
    let cli = truyxuat::app::Caller::cli();
    let coop = store
        .create_organization(&cooperative("HTX Chè").build(), now())
        .await
        .unwrap();
    let owner = accounts::create_person(
        &app,
        &cli,
        &PersonInput {
            login: "chu@htx.vn".into(),
            display_name: "Chủ nhiệm".into(),
        }
        .validate()
        .unwrap(),
        &[Membership::of(coop.id, Role::Owner)],
        Some("mật khẩu chủ nhiệm"),
    )
    .await
    .unwrap();
    let count = async || store.audit_entries(0, 1000).await.unwrap().len();
    let mut secrets: Vec<String> = vec!["mật khẩu chủ nhiệm".into(), "mật khẩu biên tập".into()];
    let expect = async |action: &str, before: usize| {
        let entries = store.audit_entries(0, 1000).await.unwrap();
        assert_eq!(entries.len(), before + 1, "{action}: one entry");
        assert_eq!(entries.last().unwrap().entry().unwrap().action, action);
    };

    let before = count().await;
    let request = TokenRequest {
        organization_id: Some(coop.id),
        role: Role::Viewer,
        name: "kế toán".into(),
        days: 30,
    };
    let (token, record) = access::create_token(&app, &cli, owner.id, &request)
        .await
        .unwrap();
    expect("token.create", before).await;
    secrets.push(token);
    let before = count().await;
    access::revoke_token(&app, &cli, record.id).await.unwrap();
    expect("token.revoke", before).await;

    let before = count().await;
    let invitation = access::invite(&app, &cli, &Membership::of(coop.id, Role::Editor))
        .await
        .unwrap();
    expect("link.invite", before).await;
    secrets.push(invitation.clone());
    let before = count().await;
    let editor = PersonInput {
        login: "bientap@htx.vn".into(),
        display_name: "Biên tập".into(),
    }
    .validate()
    .unwrap();
    let joined = access::accept_invitation(&app, &invitation, &editor, "mật khẩu biên tập", None)
        .await
        .unwrap();
    expect("link.accept", before).await;
    // A link is used once.
    let again =
        access::accept_invitation(&app, &invitation, &editor, "mật khẩu biên tập", None).await;
    assert!(again.is_err());
    assert_eq!(count().await, before + 1);

    let before = count().await;
    let reset = access::reset_link(&app, &cli, joined.id).await.unwrap();
    expect("link.reset", before).await;
    secrets.push(reset.clone());
    let before = count().await;
    access::revoke_link(&app, &cli, &reset).await.unwrap();
    expect("link.revoke", before).await;
    assert!(
        access::reset_password(&app, &reset, "mật khẩu mới nữa", None)
            .await
            .is_err()
    );
    assert_eq!(count().await, before + 1, "a refused reset leaves no entry");

    let entries = store.audit_entries(0, 1000).await.unwrap();
    for entry in &entries {
        let text = String::from_utf8_lossy(&entry.bytes);
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "an entry holds a secret: {text}"
            );
        }
        assert!(
            !text.contains("$argon2"),
            "an entry holds a password hash: {text}"
        );
    }
}

/// Makes a person with `memberships` and a password; returns them.
async fn member(
    app: &truyxuat::app::App,
    login: &str,
    memberships: &[Membership],
) -> truyxuat::domain::people::Person {
    let input = PersonInput {
        login: login.into(),
        display_name: format!("Người {login}"),
    }
    .validate()
    .unwrap();
    let cli = truyxuat::app::Caller::cli();
    accounts::create_person(app, &cli, &input, memberships, Some("mật khẩu dài dài"))
        .await
        .unwrap()
}

/// The caller a signed-in person is.
async fn as_person(
    app: &truyxuat::app::App,
    person: &truyxuat::domain::people::Person,
) -> truyxuat::app::Caller {
    let person = app.store.person(person.id).await.unwrap().unwrap();
    let actor = truyxuat::app::access::signed_in_actor(app, &person)
        .await
        .unwrap();
    truyxuat::app::Caller::new(actor, None)
}

/// Invitations, grants, tokens and reset links give no more than their maker holds, and a
/// link is worth no more than what its maker may still give when it is used.
async fn nobody_gives_more_than_they_hold(store: Arc<dyn Store>) {
    use truyxuat::app::access::{self, TokenRequest};
    let app = app_at(&store, now());
    let cli = truyxuat::app::Caller::cli();
    let coop = store
        .create_organization(&cooperative("HTX Chè").build(), now())
        .await
        .unwrap()
        .id;
    let other = store
        .create_organization(&cooperative("HTX Rau").build(), now())
        .await
        .unwrap()
        .id;
    let owner = member(&app, "chu@htx.vn", &[Membership::of(coop, Role::Owner)]).await;
    let editor = member(
        &app,
        "bientap@htx.vn",
        &[Membership::of(coop, Role::Editor)],
    )
    .await;
    let both = member(
        &app,
        "hai@htx.vn",
        &[
            Membership::of(coop, Role::Viewer),
            Membership::of(other, Role::Owner),
        ],
    )
    .await;
    let operator = member(&app, "vanhanh@tinh.vn", &[Membership::operator()]).await;
    let outsider = member(&app, "ngoai@rau.vn", &[Membership::of(other, Role::Viewer)]).await;
    let as_owner = as_person(&app, &owner).await;

    // An owner invites to the producer roles of their own cooperative only.
    for role in [Role::Owner, Role::Editor, Role::Printer, Role::Viewer] {
        let made = access::invite(&app, &as_owner, &Membership::of(coop, role)).await;
        assert!(made.is_ok(), "{role}: {made:?}");
    }
    for (membership, what) in [
        (
            Membership::of(coop, Role::Inspector),
            "an inspector of their cooperative",
        ),
        (Membership::operator(), "an operator"),
        (Membership::of(other, Role::Viewer), "a role elsewhere"),
    ] {
        let made = access::invite(&app, &as_owner, &membership).await;
        assert!(matches!(made, Err(Error::Forbidden(_))), "{what}: {made:?}");
    }
    // The operator's invitation must name a role that fits the organization (422, not 500).
    let nowhere = Membership {
        organization_id: None,
        role: Role::Owner,
    };
    let made = access::invite(&app, &cli, &nowhere).await;
    assert!(matches!(made, Err(Error::Invalid(_))), "{made:?}");

    // A link made by an owner who then loses the role gives nothing.
    let link = access::invite(&app, &as_owner, &Membership::of(coop, Role::Owner))
        .await
        .unwrap();
    accounts::revoke_role(&app, &cli, owner.id, Some(coop))
        .await
        .unwrap();
    let newcomer = PersonInput {
        login: "moi@htx.vn".into(),
        display_name: "Người mới".into(),
    }
    .validate()
    .unwrap();
    let accepted =
        access::accept_invitation(&app, &link, &newcomer, "mật khẩu dài dài", None).await;
    assert!(matches!(accepted, Err(Error::NotFound(_))), "{accepted:?}");
    assert!(store.person_by_login("moi@htx.vn").await.unwrap().is_none());
    accounts::grant(&app, &cli, owner.id, &Membership::of(coop, Role::Owner))
        .await
        .unwrap();
    let as_owner = as_person(&app, &owner).await;

    // Tokens: at most the maker's role, by what the role includes.
    let token = |org, role| TokenRequest {
        organization_id: Some(org),
        role,
        name: "thử".into(),
        days: 30,
    };
    let as_editor = as_person(&app, &editor).await;
    for (caller, person, request, ok) in [
        (&as_editor, editor.id, token(coop, Role::Editor), true),
        (&as_editor, editor.id, token(coop, Role::Viewer), true),
        (&as_editor, editor.id, token(coop, Role::Printer), false),
        (&as_owner, owner.id, token(coop, Role::Printer), true),
        (&as_owner, owner.id, token(coop, Role::Inspector), false),
        (&as_owner, owner.id, token(other, Role::Viewer), false),
    ] {
        let made = access::create_token(&app, caller, person, &request).await;
        assert_eq!(made.is_ok(), ok, "{:?}: {made:?}", request.role);
    }

    // Reset links: an owner resets only people all of whose roles they manage.
    assert!(access::reset_link(&app, &as_owner, editor.id).await.is_ok());
    for (person, what) in [
        (both.id, "a member of another producer too"),
        (outsider.id, "an outsider"),
    ] {
        let made = access::reset_link(&app, &as_owner, person).await;
        assert!(matches!(made, Err(Error::Forbidden(_))), "{what}: {made:?}");
    }
    // Not even an operator who also holds a role in the cooperative.
    accounts::grant(&app, &cli, operator.id, &Membership::of(coop, Role::Viewer))
        .await
        .unwrap();
    let made = access::reset_link(&app, &as_owner, operator.id).await;
    assert!(matches!(made, Err(Error::Forbidden(_))), "{made:?}");

    // Grants: an owner changes the role of their own people, and invites everyone else.
    let granted = accounts::grant(
        &app,
        &as_owner,
        outsider.id,
        &Membership::of(coop, Role::Viewer),
    )
    .await;
    assert!(matches!(granted, Err(Error::Forbidden(_))), "{granted:?}");
    let promoted = accounts::grant(
        &app,
        &as_owner,
        editor.id,
        &Membership::of(coop, Role::Printer),
    )
    .await
    .unwrap();
    assert_eq!(
        promoted.memberships,
        vec![Membership::of(coop, Role::Printer)]
    );

    // A reset link stops working when its person is disabled.
    let reset = access::reset_link(&app, &as_owner, editor.id)
        .await
        .unwrap();
    accounts::set_status(&app, &cli, editor.id, PersonStatus::Disabled)
        .await
        .unwrap();
    let used = access::reset_password(&app, &reset, "một mật khẩu mới", None).await;
    assert!(matches!(used, Err(Error::NotFound(_))), "{used:?}");
}
