//! People who sign in, and what they may do: a person has a login (an e-mail address or a
//! phone number), a display name, a password (kept only as an argon2id hash) and
//! memberships, each a role in an organization (or the province-wide `operator` role).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::validation::{Invalid, Refusal, Rule, Validator};

/// What a membership lets a person do (the matrix is `docs/permissions.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Of a producer: manages its members, and does all an editor and a printer do.
    Owner,
    /// Of a producer: products, certificates, lots, imports.
    Editor,
    /// Of a producer: mints, activates, voids and prints labels.
    Printer,
    /// Of a producer: reads its records.
    Viewer,
    /// Of an authority: reads every producer of the authority's province, verifies or
    /// rejects certificates, recalls lots.
    Inspector,
    /// The province's IT team: everything.
    Operator,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Owner,
        Role::Editor,
        Role::Printer,
        Role::Viewer,
        Role::Inspector,
        Role::Operator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Editor => "editor",
            Role::Printer => "printer",
            Role::Viewer => "viewer",
            Role::Inspector => "inspector",
            Role::Operator => "operator",
        }
    }

    /// The Vietnamese name a person reads.
    pub fn label_vi(self) -> &'static str {
        match self {
            Role::Owner => "Chủ nhiệm (quản lý thành viên)",
            Role::Editor => "Biên tập (sản phẩm, chứng nhận, lô)",
            Role::Printer => "In tem",
            Role::Viewer => "Xem",
            Role::Inspector => "Thanh tra",
            Role::Operator => "Vận hành hệ thống",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Owner => "Owner (manages members)",
            Role::Editor => "Editor (products, certificates, lots)",
            Role::Printer => "Label printer",
            Role::Viewer => "Viewer",
            Role::Inspector => "Inspector",
            Role::Operator => "Operator",
        }
    }

    /// Whether the role is held in a producer organization.
    pub fn of_producer(self) -> bool {
        matches!(
            self,
            Role::Owner | Role::Editor | Role::Printer | Role::Viewer
        )
    }

    /// Whether holding this role includes `other`, for "never more than one holds" (a token's
    /// role, an invitation, a grant): an owner's includes every producer role, an editor's
    /// and a printer's their own and viewer, the others only themselves.
    pub fn includes(self, other: Role) -> bool {
        match self {
            Role::Owner => other.of_producer(),
            Role::Editor | Role::Printer => other == self || other == Role::Viewer,
            Role::Viewer | Role::Inspector | Role::Operator => other == self,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                format!(
                    "'{s}' is not a role: owner, editor, printer, viewer, inspector or operator"
                )
            })
    }
}

/// A role in an organization; the operator role has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Membership {
    pub organization_id: Option<i64>,
    pub role: Role,
}

impl Membership {
    pub fn operator() -> Membership {
        Membership {
            organization_id: None,
            role: Role::Operator,
        }
    }

    pub fn of(organization_id: i64, role: Role) -> Membership {
        Membership {
            organization_id: Some(organization_id),
            role,
        }
    }
}

/// Whether a person may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    Active,
    Disabled,
}

impl PersonStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonStatus::Active => "active",
            PersonStatus::Disabled => "disabled",
        }
    }
}

impl FromStr for PersonStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "active" => Ok(PersonStatus::Active),
            "disabled" => Ok(PersonStatus::Disabled),
            other => Err(format!("'{other}' is not a status")),
        }
    }
}

/// A person as stored (never with the password hash, which only the store and the
/// password check see).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub status: PersonStatus,
    pub memberships: Vec<Membership>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new person as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct PersonInput {
    pub login: String,
    pub display_name: String,
}

/// A checked new person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewPerson {
    pub login: String,
    pub display_name: String,
}

impl PersonInput {
    pub fn validate(&self) -> Result<NewPerson, Invalid> {
        let mut v = Validator::default();
        let login = v.check_by("login", normalize_login(&self.login));
        let display_name = v.text("display_name", &self.display_name, 100);
        v.finish()?;
        Ok(NewPerson {
            login: login.unwrap_or_default(),
            display_name,
        })
    }
}

/// A login as stored: an e-mail address in lower case, or a Vietnamese phone number as
/// `+84` and its digits (`0912 345 678` and `+84 912-345-678` are the same login).
pub fn normalize_login(login: &str) -> Result<String, Refusal> {
    let login = login.trim();
    if login.contains('@') {
        let lower = login.to_lowercase();
        let (user, host) = lower.split_once('@').unwrap_or_default();
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
        };
        if plain(user) && plain(host) && host.contains('.') && lower.len() <= 200 {
            Ok(lower)
        } else {
            Err(Refusal::new(Rule::Email, None, "is not an e-mail address"))
        }
    } else {
        let digits: String = login
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
            .collect();
        let national = match (digits.strip_prefix("+84"), digits.strip_prefix('0')) {
            (Some(rest), _) => rest.to_owned(),
            (None, Some(rest)) => rest.to_owned(),
            _ => {
                return Err(Refusal::new(
                    Rule::Phone,
                    None,
                    "is neither an e-mail address nor a phone number",
                ));
            }
        };
        if (9..=10).contains(&national.len()) && national.chars().all(|c| c.is_ascii_digit()) {
            Ok(format!("+84{national}"))
        } else {
            Err(Refusal::new(
                Rule::Phone,
                None,
                "is not a Vietnamese phone number",
            ))
        }
    }
}

/// An API token as stored: never the token, only a prefix to tell it apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub prefix: String,
    pub person_id: i64,
    /// The organization it acts for (none for an operator's token), with `role`.
    pub organization_id: Option<i64>,
    pub role: Role,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Whether the token may be used at `now`.
    pub fn usable(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// What a one-time link is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinkPurpose {
    /// Joining an organization with a role (or becoming an operator): the person opening it
    /// makes an account, or adds the role to theirs.
    Invitation {
        organization_id: Option<i64>,
        role: Role,
    },
    /// Setting a new password for an account.
    Reset { person_id: i64 },
}

/// A one-time link as stored (its token only as a hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessLink {
    pub purpose: LinkPurpose,
    pub made_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl AccessLink {
    /// Whether the link may be opened at `now`: not used, not revoked, not expired.
    pub fn open(&self, now: DateTime<Utc>) -> bool {
        self.used_at.is_none() && self.revoked_at.is_none() && now < self.expires_at
    }
}

/// How long a one-time link lasts.
pub const LINK_DAYS: i64 = 7;

/// The shortest password taken.
pub const MIN_PASSWORD: usize = 10;

/// Checks a new password: long enough, not too long to hash, not the login itself.
pub fn check_password(password: &str, login: &str) -> Result<(), Invalid> {
    let length = password.chars().count();
    if length < MIN_PASSWORD {
        return Err(Invalid::by(
            "password",
            Refusal::new(
                Rule::PasswordTooShort,
                Some(MIN_PASSWORD.to_string()),
                format!("must be at least {MIN_PASSWORD} characters"),
            ),
        ));
    }
    if length > 200 {
        return Err(Invalid::by(
            "password",
            Refusal::new(
                Rule::TooLong,
                Some("200".into()),
                "must be at most 200 characters",
            ),
        ));
    }
    if password.eq_ignore_ascii_case(login) {
        return Err(Invalid::by(
            "password",
            Refusal::new(Rule::PasswordIsLogin, None, "must not be the login"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_are_one_spelling_of_an_address_or_a_number() {
        assert_eq!(
            normalize_login(" An.Nguyen@HTX.vn ").unwrap(),
            "an.nguyen@htx.vn"
        );
        assert_eq!(normalize_login("0912 345 678").unwrap(), "+84912345678");
        assert_eq!(normalize_login("+84 912-345-678").unwrap(), "+84912345678");
        assert!(normalize_login("an@localhost").is_err());
        assert!(normalize_login("12345").is_err());
        assert!(normalize_login("<script>@x.vn").is_err());
    }

    #[test]
    fn passwords_are_long_enough_and_not_the_login() {
        assert!(check_password("ngắn", "an@htx.vn").is_err());
        assert!(check_password("an@htx.vn", "an@htx.vn").is_err());
        assert!(check_password("mật khẩu dài đủ", "an@htx.vn").is_ok());
    }
}
