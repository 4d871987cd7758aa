//! The inspectors' search: one box across producers, products, certificates and lots, with
//! filters (province within the caller's reach, status, OCOP stars, certificates expiring
//! within some days), sorted and paged, or read whole a piece at a time for an export. It
//! shows only the records the caller may read (`registry.read`), narrowed in the query itself.

use super::{App, Caller, Error};
use crate::domain::certification::CertStatus;
use crate::domain::validation::{Refusal, Rule, Validator};
use crate::store::{FindKind, Finder, FoundRecords, Page};

/// A search as a person asks it (a form's query string or an API call).
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct Search {
    #[serde(default)]
    pub q: String,
    /// `producers`, `products`, `certificates` or `lots`; blank for a few of each.
    #[serde(default)]
    pub kind: String,
    /// A province's name or slug; blank for every one the caller reaches.
    #[serde(default)]
    pub province: String,
    #[serde(default)]
    pub status: String,
    #[serde(default, deserialize_with = "crate::domain::int_or_blank")]
    pub stars: Option<i64>,
    /// Certificates ending within this many days from today (30, 60 or 90 in the form).
    #[serde(default, deserialize_with = "crate::domain::int_or_blank")]
    pub expiring: Option<i64>,
    #[serde(default)]
    pub sort: String,
    /// `desc` for the other way round.
    #[serde(default)]
    pub dir: String,
}

/// The statuses a kind can be filtered by.
pub fn statuses(kind: FindKind) -> Vec<&'static str> {
    use strum::IntoEnumIterator;
    match kind {
        FindKind::Certificates => CertStatus::iter().map(CertStatus::as_str).collect(),
        FindKind::Lots => vec!["on_sale", "recalled"],
        FindKind::Producers => vec!["active", "suspended"],
        FindKind::Products => Vec::new(),
    }
}

impl Search {
    /// The kind asked for, if one is.
    pub fn kind(&self) -> Option<FindKind> {
        FindKind::ALL
            .into_iter()
            .find(|k| k.as_str() == self.kind.trim())
    }

    /// Whether anything is asked at all (words or a filter).
    pub fn is_empty(&self) -> bool {
        self.q.trim().is_empty()
            && self.province.trim().is_empty()
            && self.status.trim().is_empty()
            && self.stars.is_none()
            && self.expiring.is_none()
    }

    /// The store's finder for `kind`, the filters checked, the reach `caller`'s.
    pub fn finder(
        &self,
        caller: &Caller,
        kind: FindKind,
        today: chrono::NaiveDate,
    ) -> Result<Finder, Error> {
        let mut v = Validator::default();
        let text = v.optional_text("q", Some(&self.q), 200);
        let province = match self.province.trim() {
            "" => None,
            typed => v
                .check_by("province", crate::domain::province::parse(typed))
                .map(|p| p.slug.to_owned()),
        };
        let status = match self.status.trim() {
            "" => None,
            s if statuses(kind).contains(&s) => Some(s.to_owned()),
            s => {
                v.refuse_with(
                    "status",
                    Refusal::new(
                        Rule::NotInList,
                        Some(s.to_owned()),
                        format!("'{s}' is not a status of {}", kind.as_str()),
                    ),
                );
                None
            }
        };
        if let Some(stars) = self.stars {
            if !(3..=5).contains(&stars) {
                v.refuse_by(
                    "stars",
                    Rule::OcopStars,
                    None,
                    "OCOP ratings have 3 to 5 stars",
                );
            }
        }
        let expiring = match self.expiring {
            None => None,
            Some(days @ 1..=366) => Some((today, today + chrono::Days::new(days as u64))),
            Some(_) => {
                v.refuse_by(
                    "expiring",
                    Rule::OutOfRange,
                    Some("1–366".into()),
                    "must be 1 to 366 days",
                );
                None
            }
        };
        v.finish()?;
        let sort = match kind.sorts().iter().find(|s| **s == self.sort.trim()) {
            Some(s) => s,
            None => kind.sorts()[0],
        };
        Ok(Finder {
            text,
            reach: caller.actor.reach("registry.read"),
            province,
            status,
            stars: self.stars,
            expiring,
            sort: sort.to_owned(),
            descending: self.dir == "desc",
        })
    }
}

/// The records of `kind` that `search` finds for `caller`, the page asked for.
pub async fn find(
    app: &App,
    caller: &Caller,
    search: &Search,
    kind: FindKind,
    page: Page,
) -> Result<FoundRecords, Error> {
    let finder = search.finder(caller, kind, app.now().date_naive())?;
    Ok(app.store.find(kind, &finder, page).await?)
}
