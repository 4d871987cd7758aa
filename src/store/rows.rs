//! Rows as the databases return them, and their conversion to domain types. The same
//! structs decode from SQLite and PostgreSQL (`FromRow` is derived for any database).

use chrono::{DateTime, NaiveDate, Utc};

use super::StoreError;
use crate::domain::batch::{IndexRange, LabelBatch, LabelState, RangeChange, parse_profile};
use crate::domain::certification::{CertStatus, Certification, NewCertification};
use crate::domain::gtin::Gtin;
use crate::domain::lot::{Lot, NewLot};
use crate::domain::organization::{NewOrganization, OrgKind, Organization};
use crate::domain::product::{NewProduct, Product};
use crate::domain::province::{self, Province};
use crate::domain::recall::{NewRecall, Recall};
use crate::domain::scan::Report;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} '{value}'"))
}

fn province_of(slug: &str) -> Result<Province, StoreError> {
    province::by_slug(slug).ok_or_else(|| corrupt("province", slug))
}

#[derive(sqlx::FromRow)]
pub(super) struct OrganizationRow {
    id: i64,
    kind: String,
    name: String,
    province: String,
    address: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    suspended_at: Option<DateTime<Utc>>,
    suspension_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<OrganizationRow> for Organization {
    type Error = StoreError;
    fn try_from(r: OrganizationRow) -> Result<Self, StoreError> {
        Ok(Organization {
            id: r.id,
            data: NewOrganization {
                kind: r
                    .kind
                    .parse::<OrgKind>()
                    .map_err(|_| corrupt("kind", &r.kind))?,
                name: r.name,
                province: province_of(&r.province)?,
                address: r.address,
                phone: r.phone,
                email: r.email,
            },
            suspended_at: r.suspended_at,
            suspension_reason: r.suspension_reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ProductRow {
    id: i64,
    producer_id: i64,
    producer_name: String,
    name: String,
    category: String,
    unit: String,
    description: Option<String>,
    photo_url: Option<String>,
    gtin: Option<String>,
    growing_area_code: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ProductRow> for Product {
    type Error = StoreError;
    fn try_from(r: ProductRow) -> Result<Self, StoreError> {
        let gtin = r
            .gtin
            .as_deref()
            .map(|g| Gtin::parse(g).map_err(|_| corrupt("GTIN", g)))
            .transpose()?;
        Ok(Product {
            id: r.id,
            data: NewProduct {
                producer_id: r.producer_id,
                name: r.name,
                category: r.category,
                unit: r.unit,
                description: r.description,
                photo_url: r.photo_url,
                gtin,
                growing_area_code: r.growing_area_code,
            },
            producer_name: r.producer_name,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct CertificationRow {
    id: i64,
    holder_id: i64,
    product_id: Option<i64>,
    issuer_id: i64,
    issuer_name: String,
    kind: String,
    ocop_stars: Option<i64>,
    number: String,
    scope: Option<String>,
    issued_on: NaiveDate,
    valid_until: NaiveDate,
    evidence_sha256: Option<String>,
    status: String,
    status_changed_by: Option<String>,
    status_changed_at: Option<DateTime<Utc>>,
    status_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CertificationRow> for Certification {
    type Error = StoreError;
    fn try_from(r: CertificationRow) -> Result<Self, StoreError> {
        Ok(Certification {
            id: r.id,
            data: NewCertification {
                holder_id: r.holder_id,
                product_id: r.product_id,
                issuer_id: r.issuer_id,
                kind: r.kind.parse().map_err(|_| corrupt("kind", &r.kind))?,
                ocop_stars: r.ocop_stars,
                number: r.number,
                scope: r.scope,
                issued_on: r.issued_on,
                valid_until: r.valid_until,
                evidence_sha256: r.evidence_sha256,
            },
            issuer_name: r.issuer_name,
            status: r
                .status
                .parse::<CertStatus>()
                .map_err(|_| corrupt("status", &r.status))?,
            status_changed_by: r.status_changed_by,
            status_changed_at: r.status_changed_at,
            status_reason: r.status_reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct LotRow {
    id: i64,
    product_id: i64,
    code: String,
    produced_on: NaiveDate,
    expires_on: Option<NaiveDate>,
    quantity: Option<f64>,
    growing_area: Option<String>,
    commune: Option<String>,
    province: Option<String>,
    recalled_at: Option<DateTime<Utc>>,
    recall_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<LotRow> for Lot {
    type Error = StoreError;
    fn try_from(r: LotRow) -> Result<Self, StoreError> {
        Ok(Lot {
            id: r.id,
            data: NewLot {
                product_id: r.product_id,
                code: r.code,
                produced_on: r.produced_on,
                expires_on: r.expires_on,
                quantity: r.quantity,
                growing_area: r.growing_area,
                commune: r.commune,
                province: r.province.as_deref().map(province_of).transpose()?,
            },
            recalled_at: r.recalled_at,
            recall_reason: r.recall_reason,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Converts every row, failing on the first that cannot be read.
pub(super) fn convert_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// The folded words a search of an organization matches.
pub(super) fn organization_search_text(o: &NewOrganization) -> String {
    crate::domain::text::fold(&format!(
        "{} {} {}",
        o.name,
        o.province.name,
        o.address.as_deref().unwrap_or_default()
    ))
}

pub(super) fn product_search_text(p: &NewProduct) -> String {
    crate::domain::text::fold(&format!(
        "{} {} {} {}",
        p.name,
        p.category,
        p.gtin.map(|g| g.as_gtin14()).unwrap_or_default(),
        p.growing_area_code.as_deref().unwrap_or_default()
    ))
}

pub(super) fn certification_search_text(c: &NewCertification) -> String {
    crate::domain::text::fold(&format!(
        "{} {} {} {}",
        c.number,
        c.kind.as_str(),
        c.kind.label(),
        c.scope.as_deref().unwrap_or_default()
    ))
}

pub(super) fn lot_search_text(l: &NewLot) -> String {
    crate::domain::text::fold(&format!(
        "{} {} {}",
        l.code,
        l.growing_area.as_deref().unwrap_or_default(),
        l.commune.as_deref().unwrap_or_default()
    ))
}

pub(super) const ORGANIZATION_SELECT: &str = "SELECT id, kind, name, province, address, phone, \
     email, suspended_at, suspension_reason, created_at, updated_at FROM organizations o \
     WHERE 1 = 1";

pub(super) const PRODUCT_SELECT: &str = "SELECT p.id, p.producer_id, o.name AS producer_name, \
     p.name, p.category, p.unit, p.description, p.photo_url, p.gtin, p.growing_area_code, \
     p.created_at, p.updated_at FROM products p JOIN organizations o ON o.id = p.producer_id \
     WHERE 1 = 1";

pub(super) const CERTIFICATION_SELECT: &str = "SELECT c.id, c.holder_id, c.product_id, \
     c.issuer_id, o.name AS issuer_name, c.kind, c.ocop_stars, c.number, c.scope, c.issued_on, \
     c.valid_until, c.evidence_sha256, c.status, c.status_changed_by, c.status_changed_at, \
     c.status_reason, c.created_at, c.updated_at FROM certifications c JOIN organizations o ON o.id = c.issuer_id \
     WHERE 1 = 1";

pub(super) const LOT_SELECT: &str = "SELECT l.id, l.product_id, l.code, l.produced_on, \
     l.expires_on, l.quantity, l.growing_area, l.commune, l.province, l.recalled_at, \
     l.recall_reason, l.created_at, \
     l.updated_at FROM lots l WHERE 1 = 1";

pub(super) const RECALL_SELECT: &str = "SELECT id, reason_code, reason, risk_class, contact, \
     opened_at, closed_at, close_note FROM recalls WHERE 1 = 1";

#[derive(sqlx::FromRow)]
pub(super) struct RecallRow {
    pub(super) id: i64,
    reason_code: String,
    reason: String,
    risk_class: i64,
    contact: String,
    opened_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    close_note: Option<String>,
}

impl RecallRow {
    pub(super) fn with_lots(self, lot_ids: Vec<i64>) -> Result<Recall, StoreError> {
        Ok(Recall {
            id: self.id,
            data: NewRecall {
                lot_ids,
                reason_code: self.reason_code.parse().map_err(|_| {
                    StoreError::Corrupt(format!("recall reason {}", self.reason_code))
                })?,
                reason: self.reason,
                risk_class: self.risk_class,
                contact: self.contact,
            },
            opened_at: self.opened_at,
            closed_at: self.closed_at,
            close_note: self.close_note,
        })
    }
}

pub(super) const BATCH_SELECT: &str = "SELECT id, product_id, lot_id, kid, key_slot, \
     first_number, count, profile, state, created_at FROM label_batches WHERE 1 = 1";

#[derive(sqlx::FromRow)]
pub(super) struct BatchRow {
    id: i64,
    product_id: i64,
    lot_id: Option<i64>,
    kid: String,
    key_slot: i64,
    first_number: i64,
    count: i64,
    profile: String,
    state: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<BatchRow> for LabelBatch {
    type Error = StoreError;
    fn try_from(r: BatchRow) -> Result<Self, StoreError> {
        let number = |v: i64| u32::try_from(v).map_err(|_| corrupt("label number", &v.to_string()));
        Ok(LabelBatch {
            id: r.id,
            product_id: r.product_id,
            lot_id: r.lot_id,
            kid: r.kid,
            key_slot: u8::try_from(r.key_slot)
                .map_err(|_| corrupt("key slot", &r.key_slot.to_string()))?,
            first_number: number(r.first_number)?,
            count: number(r.count)?,
            profile: parse_profile(&r.profile).map_err(|_| corrupt("profile", &r.profile))?,
            state: r.state.parse().map_err(|_| corrupt("state", &r.state))?,
            created_at: r.created_at,
        })
    }
}

/// A batch's range changes (`RangeRow`), given the batch id as `$1`.
pub(super) const RANGE_SELECT: &str =
    "SELECT first_index, end_index, state, lot_id FROM label_ranges WHERE batch_id = $1";

#[derive(sqlx::FromRow)]
pub(super) struct RangeRow {
    first_index: i64,
    end_index: i64,
    state: String,
    lot_id: Option<i64>,
}

impl TryFrom<RangeRow> for RangeChange {
    type Error = StoreError;
    fn try_from(r: RangeRow) -> Result<Self, StoreError> {
        let index = |v: i64| u32::try_from(v).map_err(|_| corrupt("index", &v.to_string()));
        Ok(RangeChange {
            range: IndexRange {
                first: index(r.first_index)?,
                end: index(r.end_index)?,
            },
            state: r
                .state
                .parse::<LabelState>()
                .map_err(|_| corrupt("state", &r.state))?,
            lot_id: r.lot_id,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ReportRow {
    id: i64,
    batch_id: Option<i64>,
    label_index: Option<i64>,
    product_id: Option<i64>,
    message: String,
    contact: Option<String>,
    created_at: DateTime<Utc>,
    state: String,
    assigned_to: Option<i64>,
    handling_note: Option<String>,
}

/// The columns of a report, as `ReportRow` reads them.
pub(super) const REPORT_COLUMNS: &str = "id, batch_id, label_index, product_id, message, \
     contact, created_at, state, assigned_to, handling_note";

impl TryFrom<ReportRow> for Report {
    type Error = StoreError;
    fn try_from(r: ReportRow) -> Result<Self, StoreError> {
        let label_index = r
            .label_index
            .map(u32::try_from)
            .transpose()
            .map_err(|_| StoreError::Corrupt(format!("report {}: label index", r.id)))?;
        Ok(Report {
            id: r.id,
            batch_id: r.batch_id,
            label_index,
            product_id: r.product_id,
            message: r.message,
            contact: r.contact,
            created_at: r.created_at,
            state: r
                .state
                .parse()
                .map_err(|_| corrupt("report state", &r.state))?,
            assigned_to: r.assigned_to,
            handling_note: r.handling_note,
        })
    }
}
