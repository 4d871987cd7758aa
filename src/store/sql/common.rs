// The storage contract in SQL that SQLite and PostgreSQL both speak (`$N` placeholders,
// `RETURNING`, `LIKE ... ESCAPE`). The files of this folder are compiled once per database
// by `include!` from `sqlite.rs` and `postgres.rs`, which define `Db`, `ThisStore` (with
// `pool`, `batches` and `changes` fields) and `MIGRATOR`; sqlx's generic bounds over databases would
// bury the SQL, so these files are written against those names instead. This one holds the
// imports and the helpers the others share. `make lint` checks their formatting.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::error::ErrorKind;

use super::rows::*;
use super::*;
use crate::domain::batch::{LabelBatch, LabelState, NewBatch, RangeChange, profile_name};
use crate::domain::certification::{CertStatus, Certification, NewCertification};
use crate::domain::gtin::Gtin;
use crate::domain::job::{NewPrintJob, PrintJob};
use crate::domain::lot::{Lot, NewLot};
use crate::domain::organization::{NewOrganization, OrgKind, Organization};
use crate::domain::people::{
    AccessLink, ApiToken, LinkPurpose, Membership, NewPerson, Person, PersonStatus, Role,
};
use crate::domain::product::{NewProduct, Product};
use crate::domain::recall::{NewRecall, Recall};
use crate::domain::scan::{
    BatchScans, NewReport, NewScan, Report, ReportState, ScanSummary, SuspiciousLabel,
};
use crate::domain::validation::Invalid;

type Conn = <Db as sqlx::Database>::Connection;

impl ChangeCounter for ThisStore {
    fn local_changes(&self) -> u64 {
        self.changes.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// Turns a unique-key violation into a conflict on `field`; other errors pass through.
fn unique_conflict(e: sqlx::Error, field: &str, message: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.kind() == ErrorKind::UniqueViolation => {
            let taken = crate::domain::validation::Refusal::new(
                crate::domain::validation::Rule::Taken,
                None,
                message,
            );
            StoreError::Conflict(Invalid::by(field, taken))
        }
        _ => StoreError::Database(e),
    }
}

async fn fetch_organization(conn: &mut Conn, id: i64) -> Result<Option<Organization>, StoreError> {
    sqlx::query_as::<_, OrganizationRow>(&format!("{ORGANIZATION_SELECT} AND id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(Organization::try_from)
        .transpose()
}

async fn fetch_product(conn: &mut Conn, id: i64) -> Result<Option<Product>, StoreError> {
    sqlx::query_as::<_, ProductRow>(&format!("{PRODUCT_SELECT} AND p.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(Product::try_from)
        .transpose()
}

async fn fetch_certification(
    conn: &mut Conn,
    id: i64,
) -> Result<Option<Certification>, StoreError> {
    sqlx::query_as::<_, CertificationRow>(&format!("{CERTIFICATION_SELECT} AND c.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(Certification::try_from)
        .transpose()
}

async fn fetch_lot(conn: &mut Conn, id: i64) -> Result<Option<Lot>, StoreError> {
    sqlx::query_as::<_, LotRow>(&format!("{LOT_SELECT} AND l.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(Lot::try_from)
        .transpose()
}

/// A list query: `select` narrowed by an optional equality filter and the search words,
/// ordered and paged.
async fn fetch_list<R>(
    pool: &sqlx::Pool<Db>,
    select: &str,
    filter: Option<(&str, i64)>,
    search_column: &str,
    q: &ListQuery,
    order: &str,
) -> Result<Vec<R>, StoreError>
where
    R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    let patterns = like_patterns(q);
    let mut sql = select.to_owned();
    let mut next = 1;
    if let Some((column, _)) = filter {
        sql.push_str(&format!(" AND {column} = $1"));
        next = 2;
    }
    sql.push_str(&like_clause(search_column, patterns.len(), next));
    next += patterns.len();
    sql.push_str(&format!(
        " ORDER BY {order} LIMIT ${next} OFFSET ${}",
        next + 1
    ));
    let mut query = sqlx::query_as::<_, R>(&sql);
    if let Some((_, value)) = filter {
        query = query.bind(value);
    }
    for p in &patterns {
        query = query.bind(p);
    }
    Ok(query
        .bind(q.limit())
        .bind(q.offset())
        .fetch_all(pool)
        .await?)
}

/// Fails with NotFound when an UPDATE touched no row.
fn require_updated(result: <Db as sqlx::Database>::QueryResult) -> Result<(), StoreError> {
    if result.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

// Each entity is written by one `save_*` function: an INSERT for a new row, an UPDATE of row
// `id` otherwise. Both statements take the entity's fields as $1..$n and the time as $n+1,
// bound once by the entity's `*_fields` function; the INSERT then takes the time again (as
// created_at), the UPDATE the row id. Both return the id, so a missing row reads as None.

type Scalar<'q> = sqlx::query::QueryScalar<'q, Db, i64, <Db as sqlx::Database>::Arguments<'q>>;

/// The row written, or NotFound for an UPDATE of no row, or a conflict on `field`.
fn saved(
    written: Result<Option<i64>, sqlx::Error>,
    field: &str,
    conflict: &str,
) -> Result<i64, StoreError> {
    written
        .map_err(|e| unique_conflict(e, field, conflict))?
        .ok_or(StoreError::NotFound)
}

/// Runs the INSERT (`existing` None) or the UPDATE of row `existing` of one entity.
async fn insert_or_update<'q>(
    conn: &mut Conn,
    existing: Option<i64>,
    fields: impl FnOnce(&'static str) -> Scalar<'q>,
    (insert, update): (&'static str, &'static str),
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    let query = match existing {
        None => fields(insert).bind(now),
        Some(id) => fields(update).bind(id),
    };
    query.fetch_optional(&mut *conn).await
}

const ORGANIZATION_SQL: (&str, &str) = (
    "INSERT INTO organizations (kind, name, province, address, phone, email, search_text, \
     updated_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    "UPDATE organizations SET kind = $1, name = $2, province = $3, address = $4, phone = $5, \
     email = $6, search_text = $7, updated_at = $8 WHERE id = $9 RETURNING id",
);

async fn save_organization(
    conn: &mut Conn,
    existing: Option<i64>,
    o: &NewOrganization,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let fields = |sql: &'static str| {
        sqlx::query_scalar(sql)
            .bind(o.kind.as_str())
            .bind(&o.name)
            .bind(o.province.slug)
            .bind(&o.address)
            .bind(&o.phone)
            .bind(&o.email)
            .bind(organization_search_text(o))
            .bind(now)
    };
    // Organizations have no unique key, so the conflict never arises.
    saved(
        insert_or_update(conn, existing, fields, ORGANIZATION_SQL, now).await,
        "name",
        "",
    )
}

const PRODUCT_SQL: (&str, &str) = (
    "INSERT INTO products (producer_id, name, category, unit, description, photo_url, gtin, \
     growing_area_code, search_text, updated_at, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    "UPDATE products SET producer_id = $1, name = $2, category = $3, unit = $4, \
     description = $5, photo_url = $6, gtin = $7, growing_area_code = $8, search_text = $9, \
     updated_at = $10 WHERE id = $11 RETURNING id",
);

/// Writes a product.
async fn save_product(
    conn: &mut Conn,
    existing: Option<i64>,
    p: &NewProduct,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let fields = |sql: &'static str| {
        sqlx::query_scalar(sql)
            .bind(p.producer_id)
            .bind(&p.name)
            .bind(&p.category)
            .bind(&p.unit)
            .bind(&p.description)
            .bind(&p.photo_url)
            .bind(p.gtin.map(|g| g.as_gtin14()))
            .bind(&p.growing_area_code)
            .bind(product_search_text(p))
            .bind(now)
    };
    saved(
        insert_or_update(conn, existing, fields, PRODUCT_SQL, now).await,
        "gtin",
        "another product already has this GTIN",
    )
}

const CERTIFICATION_SQL: (&str, &str) = (
    "INSERT INTO certifications (holder_id, product_id, issuer_id, kind, ocop_stars, number, \
     scope, issued_on, valid_until, evidence_sha256, search_text, updated_at, status, \
     created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'submitted', $13) \
     RETURNING id",
    "UPDATE certifications SET holder_id = $1, product_id = $2, issuer_id = $3, kind = $4, \
     ocop_stars = $5, number = $6, scope = $7, issued_on = $8, valid_until = $9, \
     evidence_sha256 = $10, search_text = $11, updated_at = $12 WHERE id = $13 RETURNING id",
);

/// Writes a certificate (a new one as submitted).
async fn save_certification(
    conn: &mut Conn,
    existing: Option<i64>,
    c: &NewCertification,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let fields = |sql: &'static str| {
        sqlx::query_scalar(sql)
            .bind(c.holder_id)
            .bind(c.product_id)
            .bind(c.issuer_id)
            .bind(c.kind.as_str())
            .bind(c.ocop_stars)
            .bind(&c.number)
            .bind(&c.scope)
            .bind(c.issued_on)
            .bind(c.valid_until)
            .bind(&c.evidence_sha256)
            .bind(certification_search_text(c))
            .bind(now)
    };
    saved(
        insert_or_update(conn, existing, fields, CERTIFICATION_SQL, now).await,
        "number",
        "this issuer already has a certificate with this number",
    )
}

const LOT_SQL: (&str, &str) = (
    "INSERT INTO lots (product_id, code, produced_on, expires_on, quantity, growing_area, \
     commune, province, search_text, updated_at, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    "UPDATE lots SET product_id = $1, code = $2, produced_on = $3, expires_on = $4, \
     quantity = $5, growing_area = $6, commune = $7, province = $8, search_text = $9, \
     updated_at = $10 WHERE id = $11 RETURNING id",
);

/// Writes a lot.
async fn save_lot(
    conn: &mut Conn,
    existing: Option<i64>,
    l: &NewLot,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let fields = |sql: &'static str| {
        sqlx::query_scalar(sql)
            .bind(l.product_id)
            .bind(&l.code)
            .bind(l.produced_on)
            .bind(l.expires_on)
            .bind(l.quantity)
            .bind(&l.growing_area)
            .bind(&l.commune)
            .bind(l.province.map(|p| p.slug))
            .bind(lot_search_text(l))
            .bind(now)
    };
    saved(
        insert_or_update(conn, existing, fields, LOT_SQL, now).await,
        "code",
        "this product already has a lot with this code",
    )
}

/// The batches whose `column` (`product_id` or `lot_id`) is `id`: what their labels print.
async fn batches_of(conn: &mut Conn, column: &str, id: i64) -> Result<Vec<i64>, StoreError> {
    Ok(sqlx::query_scalar(&format!(
        "SELECT id FROM label_batches WHERE {column} = $1 ORDER BY id"
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?)
}

/// The batches with labels activated on lot `id`.
async fn batches_with_ranges_of_lot(conn: &mut Conn, id: i64) -> Result<Vec<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT batch_id FROM label_ranges WHERE lot_id = $1 ORDER BY batch_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?)
}

async fn fetch_recall(conn: &mut Conn, id: i64) -> Result<Option<Recall>, StoreError> {
    let Some(row) = sqlx::query_as::<_, RecallRow>(&format!("{RECALL_SELECT} AND id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let lots: Vec<i64> =
        sqlx::query_scalar("SELECT lot_id FROM recall_lots WHERE recall_id = $1 ORDER BY lot_id")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    row.with_lots(lots).map(Some)
}

/// Recalls of `rows`, each with its lots.
async fn recalls_with_lots(
    conn: &mut Conn,
    rows: Vec<RecallRow>,
) -> Result<Vec<Recall>, StoreError> {
    let mut recalls = Vec::with_capacity(rows.len());
    for row in rows {
        let lots: Vec<i64> = sqlx::query_scalar(
            "SELECT lot_id FROM recall_lots WHERE recall_id = $1 ORDER BY lot_id",
        )
        .bind(row.id)
        .fetch_all(&mut *conn)
        .await?;
        recalls.push(row.with_lots(lots)?);
    }
    Ok(recalls)
}
