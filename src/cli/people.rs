//! People commands: `users`, `invite` and `tokens`, made by the local operator
//! (`cli:<unix user>` in the audit log). Secrets (a link, a token) are printed once, to
//! standard output; nothing else prints them.

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use crate::app::access::{self, TokenRequest};
use crate::app::{App, Caller, accounts};
use crate::domain::people::{Membership, PersonInput, PersonStatus, Role, normalize_login};

/// `truyxuat users ...`
#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// Add a person, with a role in an organization or as an operator.
    Add {
        /// E-mail address or phone number.
        #[arg(long)]
        login: String,
        /// Display name.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        role: RoleArgs,
        /// Read the password from standard input (otherwise make a link with
        /// `users reset-link`).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List people, with their roles.
    List {
        /// Only those with a role in this organization.
        #[arg(long)]
        org: Option<i64>,
    },
    /// Disable a person: they are signed out everywhere and cannot sign in.
    Disable { login: String },
    /// Enable a disabled person.
    Enable { login: String },
    /// Print a one-time link (7 days) with which a person sets a new password.
    ResetLink { login: String },
}

/// A role: in an organization, or the operator role.
#[derive(Args, Debug)]
pub struct RoleArgs {
    /// The organization of the role.
    #[arg(long, requires = "role_name", conflicts_with = "operator")]
    org: Option<i64>,
    /// owner, editor, printer, viewer (producers) or inspector (authorities).
    #[arg(long = "role", id = "role_name")]
    role: Option<String>,
    /// The operator role (the province's IT team).
    #[arg(long)]
    operator: bool,
}

impl RoleArgs {
    fn membership(&self) -> anyhow::Result<Option<Membership>> {
        match (&self.org, &self.role, self.operator) {
            (None, None, false) => Ok(None),
            (None, _, true) => Ok(Some(Membership::operator())),
            (Some(org), Some(role), false) => {
                let role: Role = role.parse().map_err(anyhow::Error::msg)?;
                Ok(Some(Membership::of(*org, role)))
            }
            _ => bail!("give --org ID --role ROLE, or --operator"),
        }
    }
}

/// `truyxuat tokens ...`
#[derive(Subcommand, Debug)]
pub enum TokensCommand {
    /// Make an API token for a person, acting for one organization (prints it once).
    Create {
        #[arg(long)]
        login: String,
        /// The organization it acts for (none: an operator's token).
        #[arg(long)]
        org: Option<i64>,
        /// Its role: at most the person's there (by default the same).
        #[arg(long)]
        role: Option<String>,
        /// Days until it expires.
        #[arg(long, default_value_t = 90)]
        expires: i64,
        /// What it is for.
        #[arg(long, default_value = "integration")]
        name: String,
    },
    /// List a person's tokens (never the tokens themselves).
    List {
        #[arg(long)]
        login: String,
    },
    /// Revoke a token by its id.
    Revoke { id: i64 },
}

async fn person_id(app: &App, login: &str) -> anyhow::Result<i64> {
    let login = normalize_login(login).map_err(|e| anyhow::anyhow!("login {e}"))?;
    Ok(app
        .store
        .person_by_login(&login)
        .await?
        .with_context(|| format!("there is no person with login {login}"))?
        .0
        .id)
}

pub async fn users(app: &App, base_url: &str, command: UsersCommand) -> anyhow::Result<()> {
    let cli = Caller::cli();
    match command {
        UsersCommand::Add {
            login,
            name,
            role,
            password_stdin,
        } => {
            let person = PersonInput {
                login,
                display_name: name,
            }
            .validate()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                None
            };
            let memberships: Vec<Membership> = role.membership()?.into_iter().collect();
            let created =
                accounts::create_person(app, &cli, &person, &memberships, password.as_deref())
                    .await?;
            println!("{}", created.id);
            eprintln!("{} ({}) added", created.login, created.display_name);
        }
        UsersCommand::List { org } => {
            for p in app.store.list_people(org).await? {
                let roles: Vec<String> = p
                    .memberships
                    .iter()
                    .map(|m| match m.organization_id {
                        Some(org) => format!("{}@{org}", m.role),
                        None => m.role.to_string(),
                    })
                    .collect();
                println!(
                    "{:>5}  {:<32}  {:<8}  {}  {}",
                    p.id,
                    super::terminal::safe(&p.login),
                    p.status.as_str(),
                    super::terminal::safe(&p.display_name),
                    roles.join(", ")
                );
            }
        }
        UsersCommand::Disable { login } => {
            let id = person_id(app, &login).await?;
            accounts::set_status(app, &cli, id, PersonStatus::Disabled).await?;
            eprintln!("{login} disabled and signed out everywhere");
        }
        UsersCommand::Enable { login } => {
            let id = person_id(app, &login).await?;
            accounts::set_status(app, &cli, id, PersonStatus::Active).await?;
            eprintln!("{login} enabled");
        }
        UsersCommand::ResetLink { login } => {
            let id = person_id(app, &login).await?;
            let secret = access::reset_link(app, &cli, id).await?;
            println!("{}", link(base_url, &secret));
            eprintln!("send this link to {login}: it works once, for 7 days");
        }
    }
    Ok(())
}

/// The address of a one-time link.
fn link(base_url: &str, secret: &str) -> String {
    format!("{base_url}/link/{secret}")
}

/// `truyxuat invite`: prints a one-time link to a role.
pub async fn invite(app: &App, base_url: &str, role: RoleArgs) -> anyhow::Result<()> {
    let membership = role
        .membership()?
        .context("give --org ID --role ROLE, or --operator")?;
    let secret = access::invite(app, &Caller::cli(), &membership).await?;
    println!("{}", link(base_url, &secret));
    eprintln!("send this link by Zalo or SMS: it works once, for 7 days");
    Ok(())
}

pub async fn tokens(app: &App, command: TokensCommand) -> anyhow::Result<()> {
    let cli = Caller::cli();
    match command {
        TokensCommand::Create {
            login,
            org,
            role,
            expires,
            name,
        } => {
            let id = person_id(app, &login).await?;
            let person = app.store.person(id).await?.context("the person is gone")?;
            let role = match role {
                Some(r) => r.parse().map_err(anyhow::Error::msg)?,
                None => person
                    .memberships
                    .iter()
                    .find(|m| m.organization_id == org)
                    .map(|m| m.role)
                    .or_else(|| {
                        person
                            .memberships
                            .iter()
                            .any(|m| m.role == Role::Operator)
                            .then_some(if org.is_some() {
                                Role::Owner
                            } else {
                                Role::Operator
                            })
                    })
                    .with_context(|| format!("{login} has no role there"))?,
            };
            let request = TokenRequest {
                organization_id: org,
                role,
                name,
                days: expires,
            };
            let (token, record) = access::create_token(app, &cli, id, &request).await?;
            println!("{token}");
            eprintln!(
                "token {} ({}) for {login}: {} until {}; it is shown only now",
                record.id,
                record.prefix,
                record.role,
                record.expires_at.date_naive()
            );
        }
        TokensCommand::List { login } => {
            let id = person_id(app, &login).await?;
            for t in app.store.api_tokens_of(id).await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{:>5}  {}…  {:<9}  {:<8}  until {}  {}",
                    t.id,
                    t.prefix,
                    t.role,
                    state,
                    t.expires_at.date_naive(),
                    super::terminal::safe(&t.name)
                );
            }
        }
        TokensCommand::Revoke { id } => {
            access::revoke_token(app, &cli, id).await?;
            eprintln!("token {id} revoked");
        }
    }
    Ok(())
}
