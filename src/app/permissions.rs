//! Who may do what: the matrix of `docs/permissions.md`, read from the document itself (it
//! is compiled in), so that the code, the tests and the documentation cannot drift apart.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::domain::people::Role;

/// Which records a role may do an action to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Those of the organization where the role is held.
    Own,
    /// Those of the producers in the province of the inspector's authority.
    Province,
    /// The person's own account.
    OwnAccount,
    /// Every record.
    All,
}

/// The matrix: for each action, the scope of each role (None: refused).
#[derive(Debug, Clone, Default)]
pub struct Matrix {
    rows: BTreeMap<String, [Option<Scope>; 6]>,
}

fn column(role: Role) -> usize {
    Role::ALL.iter().position(|r| *r == role).unwrap_or(0)
}

impl Matrix {
    /// Reads the table under `## Matrix` of the permissions document.
    pub fn parse(document: &str) -> Result<Matrix, String> {
        let table = document
            .split("## Matrix")
            .nth(1)
            .ok_or("the document has no '## Matrix' section")?;
        let mut lines = table
            .lines()
            .map(str::trim)
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'));
        let cells = |line: &str| -> Vec<String> {
            line.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect()
        };
        let header = cells(lines.next().ok_or("the matrix has no header")?);
        let roles: Vec<Role> = header[1..]
            .iter()
            .map(|r| r.parse())
            .collect::<Result<_, _>>()?;
        if roles != Role::ALL {
            return Err(format!("the matrix's columns must be {:?}", Role::ALL));
        }
        let mut rows = BTreeMap::new();
        for line in lines.skip(1) {
            let cells = cells(line);
            let mut scopes = [None; 6];
            for (i, cell) in cells[1..].iter().enumerate().take(6) {
                scopes[i] = match cell.as_str() {
                    "" => None,
                    "own" => Some(Scope::Own),
                    "province" => Some(Scope::Province),
                    "self" => Some(Scope::OwnAccount),
                    "all" => Some(Scope::All),
                    other => return Err(format!("'{other}' is not a scope ({})", cells[0])),
                };
            }
            if rows.insert(cells[0].clone(), scopes).is_some() {
                return Err(format!("action {} is listed twice", cells[0]));
            }
        }
        Ok(Matrix { rows })
    }

    /// The scope of `role` for `action`; None when refused (or the action is unknown).
    pub fn scope(&self, action: &str, role: Role) -> Option<Scope> {
        self.rows.get(action).and_then(|r| r[column(role)])
    }

    /// The actions the matrix lists.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.rows.keys().map(String::as_str)
    }
}

/// The permissions document, compiled in.
pub const DOCUMENT: &str = include_str!("../../docs/permissions.md");

/// The matrix in force. (A document that does not parse refuses everything, and a unit
/// test keeps that from shipping.)
pub fn matrix() -> &'static Matrix {
    static MATRIX: LazyLock<Matrix> = LazyLock::new(|| {
        Matrix::parse(DOCUMENT).unwrap_or_else(|e| {
            tracing::error!(error = %e, "docs/permissions.md does not parse: refusing all");
            Matrix::default()
        })
    });
    &MATRIX
}

/// A role as an actor holds it: where, and for an inspector, over which province.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub organization: Option<i64>,
    /// The province of the organization (an inspector acts on its producers).
    pub province: Option<&'static str>,
}

impl Grant {
    pub fn operator() -> Grant {
        Grant {
            role: Role::Operator,
            organization: None,
            province: None,
        }
    }
}

/// What an action is done to, as far as permissions care.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// The organization whose record it is (a producer, or an authority itself).
    pub organization: Option<i64>,
    /// That organization's province.
    pub province: Option<&'static str>,
    /// The person whose account it is.
    pub person: Option<i64>,
    /// A record that belongs to no organization (an evidence document): `own` and
    /// `province` are met by holding the role anywhere.
    pub unowned: bool,
    /// The organization is suspended: its own roles may only read.
    pub suspended: bool,
}

impl Target {
    /// Something of the whole province: only `all` covers it.
    pub fn everything() -> Target {
        Target::default()
    }

    /// A record of organization `id` in `province`.
    pub fn organization(id: i64, province: &'static str) -> Target {
        Target {
            organization: Some(id),
            province: Some(province),
            ..Target::default()
        }
    }

    /// A record of `org` (suspended or not).
    pub fn of(org: &crate::domain::organization::Organization) -> Target {
        Target {
            suspended: org.suspended_at.is_some(),
            ..Target::organization(org.id, org.data.province.slug)
        }
    }

    /// Person `id`'s own account.
    pub fn person(id: i64) -> Target {
        Target {
            person: Some(id),
            ..Target::default()
        }
    }

    pub fn unowned() -> Target {
        Target {
            unowned: true,
            ..Target::default()
        }
    }
}

/// The one action a suspended organization's own roles keep.
const READ: &str = "registry.read";

/// Whether an actor with `grants` (and, for `self`, person id `me`) may do `action` to
/// `target`.
pub fn allows(grants: &[Grant], me: Option<i64>, action: &str, target: &Target) -> bool {
    grants.iter().any(|grant| {
        let Some(scope) = matrix().scope(action, grant.role) else {
            return false;
        };
        match scope {
            Scope::All => true,
            Scope::OwnAccount => me.is_some() && target.person == me,
            Scope::Own => {
                let own =
                    target.organization.is_some() && target.organization == grant.organization;
                // A suspended producer's people read its records but change none.
                target.unowned || (own && (!target.suspended || action == READ))
            }
            Scope::Province => {
                target.unowned
                    || (grant.role == Role::Inspector
                        && target.province.is_some()
                        && target.province == grant.province
                        && target.organization.is_some())
            }
        }
    })
}

/// Whether an actor with `grants` may do `action` to every producer's records, or to those
/// of some provinces and organizations only: what a list asks the store for.
pub fn reach(grants: &[Grant], action: &str) -> crate::store::Reach {
    let mut provinces = Vec::new();
    let mut organizations = Vec::new();
    for grant in grants {
        match matrix().scope(action, grant.role) {
            Some(Scope::All) => return crate::store::Reach::All,
            Some(Scope::Own) => organizations.extend(grant.organization),
            Some(Scope::Province) if grant.role == Role::Inspector => {
                provinces.extend(grant.province.map(str::to_owned))
            }
            _ => {}
        }
    }
    crate::store::Reach::Within {
        provinces,
        organizations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_parses_and_scopes_hold() {
        let m = Matrix::parse(DOCUMENT).unwrap();
        assert_eq!(m.scope("product.update", Role::Editor), Some(Scope::Own));
        assert_eq!(m.scope("product.update", Role::Viewer), None);
        assert_eq!(
            m.scope("certification.status", Role::Inspector),
            Some(Scope::Province)
        );
        assert_eq!(m.scope("certification.status", Role::Owner), None);
        assert_eq!(
            m.scope("organization.create", Role::Operator),
            Some(Scope::All)
        );
        assert_eq!(m.scope("no.such.action", Role::Operator), None);

        let editor = |org| Grant {
            role: Role::Editor,
            organization: Some(org),
            province: Some("lam-dong"),
        };
        let inspector = Grant {
            role: Role::Inspector,
            organization: Some(9),
            province: Some("lam-dong"),
        };
        let here = Target::organization(1, "lam-dong");
        let there = Target::organization(2, "tay-ninh");
        assert!(allows(&[editor(1)], Some(5), "product.update", &here));
        assert!(!allows(&[editor(2)], Some(5), "product.update", &here));
        assert!(!allows(
            std::slice::from_ref(&inspector),
            Some(5),
            "product.update",
            &here
        ));
        assert!(allows(
            std::slice::from_ref(&inspector),
            Some(5),
            "lot.recall",
            &here
        ));
        assert!(!allows(&[inspector], Some(5), "lot.recall", &there));
        assert!(!allows(
            &[editor(1)],
            Some(5),
            "organization.create",
            &Target::everything()
        ));
        assert!(allows(
            &[Grant::operator()],
            None,
            "organization.create",
            &Target::everything()
        ));
        assert!(allows(
            &[editor(1)],
            Some(5),
            "person.password",
            &Target::person(5)
        ));
        assert!(!allows(
            &[editor(1)],
            Some(5),
            "person.password",
            &Target::person(6)
        ));
        assert!(allows(
            &[editor(1)],
            Some(5),
            "document.store",
            &Target::unowned()
        ));
    }

    /// Every action the application layer asks about is in the document, and the document
    /// lists no action the code does not know.
    #[test]
    fn the_document_and_the_code_name_the_same_actions() {
        let sources = [
            include_str!("registry.rs"),
            include_str!("labels/mod.rs"),
            include_str!("accounts.rs"),
            include_str!("keys.rs"),
            include_str!("access.rs"),
            include_str!("auditlog.rs"),
            include_str!("reports.rs"),
            include_str!("recalls.rs"),
            include_str!("events.rs"),
        ];
        let mut used: std::collections::BTreeSet<&str> = sources
            .iter()
            .flat_map(|s| {
                let asked = s.split("require(\"").skip(1);
                asked.chain(s.split("require_giving(caller, \"").skip(1))
            })
            .filter_map(|rest| rest.split('"').next())
            .collect();
        // Passed in by the key commands rather than written at a `require`.
        used.extend(["key.create", "key.rotate", "key.revoke"]);
        // Reads are asked about by the web layer; reset links per organization; suspending
        // and reinstating share one operation.
        used.extend(["registry.read", "person.reset"]);
        used.extend(["organization.suspend", "organization.reinstate"]);
        // A recall asks about each lot it covers, through one helper.
        used.extend(["lot.recall", "recall.close"]);
        let listed: std::collections::BTreeSet<&str> = matrix().actions().collect();
        assert_eq!(used, listed);
    }

    #[test]
    fn a_matrix_that_does_not_parse_is_refused() {
        assert!(Matrix::parse("no table").is_err());
        let bad = "## Matrix\n| action | owner | editor | printer | viewer | inspector | operator |\n|---|\n| x | mine | | | | | |\n";
        assert!(Matrix::parse(bad).unwrap_err().contains("'mine'"));
    }
}
