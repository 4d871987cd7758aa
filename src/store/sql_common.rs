// The storage contract in SQL that SQLite and PostgreSQL both speak (`$N` placeholders,
// `RETURNING`, `LIKE ... ESCAPE`). It is compiled once per database by `include!` from
// `sqlite.rs` and `postgres.rs`, which define `Db`, `ThisStore` (with a `pool` field) and
// `MIGRATOR`; sqlx's generic bounds over databases would bury the SQL, so this file is
// written against those names instead. `make lint` checks its formatting.

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
use crate::domain::lot::{Lot, NewLot};
use crate::domain::organization::{NewOrganization, OrgKind, Organization};
use crate::domain::product::{NewProduct, Product};
use crate::domain::scan::{NewReport, NewScan, ScanSummary};
use crate::domain::validation::Invalid;

type Conn = <Db as sqlx::Database>::Connection;

/// Turns a unique-key violation into a conflict on `field`; other errors pass through.
fn unique_conflict(e: sqlx::Error, field: &str, message: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.kind() == ErrorKind::UniqueViolation => {
            StoreError::Conflict(Invalid::field(field, message))
        }
        _ => StoreError::Database(e),
    }
}

fn invalid(field: &str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid(Invalid::field(field, message))
}

/// Puts `prefix.` before the field names of a refusal, for errors inside a bundle.
fn within(e: StoreError, prefix: &str) -> StoreError {
    match e {
        StoreError::Conflict(i) => StoreError::Conflict(i.within(prefix)),
        StoreError::Invalid(i) => StoreError::Invalid(i.within(prefix)),
        other => other,
    }
}

/// Requires organization `id` to exist and to be a producer (or an authority).
async fn require_organization(
    conn: &mut Conn,
    id: i64,
    field: &str,
    producer: bool,
) -> Result<(), StoreError> {
    let kind: Option<String> = sqlx::query_scalar("SELECT kind FROM organizations WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let kind = kind.ok_or_else(|| invalid(field, format!("there is no organization {id}")))?;
    let kind: OrgKind = kind
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("kind '{kind}'")))?;
    match (producer, kind.is_producer()) {
        (true, false) => Err(invalid(
            field,
            format!("organization {id} is not a producer"),
        )),
        (false, true) => Err(invalid(
            field,
            format!("organization {id} is not an authority"),
        )),
        _ => Ok(()),
    }
}

/// The producer of product `id`, or a refusal of `field` when there is no such product.
async fn producer_of(conn: &mut Conn, id: i64, field: &str) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT producer_id FROM products WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| invalid(field, format!("there is no product {id}")))
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

async fn insert_organization(
    conn: &mut Conn,
    o: &NewOrganization,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO organizations (kind, name, province, address, phone, email, search_text, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(o.kind.as_str())
    .bind(&o.name)
    .bind(o.province.slug)
    .bind(&o.address)
    .bind(&o.phone)
    .bind(&o.email)
    .bind(organization_search_text(o))
    .bind(now)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?)
}

async fn insert_product(
    conn: &mut Conn,
    p: &NewProduct,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    require_organization(conn, p.producer_id, "producer_id", true).await?;
    sqlx::query_scalar(
        "INSERT INTO products (producer_id, name, category, unit, description, photo_url, gtin, \
         growing_area_code, search_text, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
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
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| unique_conflict(e, "gtin", "another product already has this GTIN"))
}

/// Checks what a certificate refers to: a producer, an authority, a product of that
/// producer, and a stored evidence document.
async fn check_certification_links(
    conn: &mut Conn,
    c: &NewCertification,
) -> Result<(), StoreError> {
    require_organization(conn, c.holder_id, "holder_id", true).await?;
    require_organization(conn, c.issuer_id, "issuer_id", false).await?;
    if let Some(product_id) = c.product_id {
        if producer_of(conn, product_id, "product_id").await? != c.holder_id {
            return Err(invalid(
                "product_id",
                "the product belongs to another producer",
            ));
        }
    }
    if let Some(sha) = &c.evidence_sha256 {
        let found: Option<String> =
            sqlx::query_scalar("SELECT sha256 FROM documents WHERE sha256 = $1")
                .bind(sha)
                .fetch_optional(&mut *conn)
                .await?;
        if found.is_none() {
            return Err(invalid(
                "evidence_sha256",
                "no document with this SHA-256 is stored",
            ));
        }
    }
    Ok(())
}

const DUPLICATE_CERTIFICATE: &str = "this issuer already has a certificate with this number";

async fn insert_certification(
    conn: &mut Conn,
    c: &NewCertification,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    check_certification_links(conn, c).await?;
    sqlx::query_scalar(
        "INSERT INTO certifications (holder_id, product_id, issuer_id, kind, ocop_stars, number, \
         scope, issued_on, valid_until, evidence_sha256, status, search_text, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'submitted', $11, $12, $13) \
         RETURNING id",
    )
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
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| unique_conflict(e, "number", DUPLICATE_CERTIFICATE))
}

async fn change_certification_status(
    conn: &mut Conn,
    id: i64,
    to: CertStatus,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let current: String = sqlx::query_scalar("SELECT status FROM certifications WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let from: CertStatus = current
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("status '{current}'")))?;
    if !from.can_become(to) {
        return Err(invalid(
            "status",
            format!(
                "a {} certificate cannot become {}",
                from.as_str(),
                to.as_str()
            ),
        ));
    }
    // The status in the WHERE clause makes a concurrent change lose instead of overwrite.
    let changed = sqlx::query(
        "UPDATE certifications SET status = $1, status_changed_by = $2, status_changed_at = $3, \
         updated_at = $4 WHERE id = $5 AND status = $6",
    )
    .bind(to.as_str())
    .bind(by)
    .bind(now)
    .bind(now)
    .bind(id)
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?;
    if changed.rows_affected() == 0 {
        return Err(StoreError::Conflict(Invalid::field(
            "status",
            "the certificate changed meanwhile; reload and try again",
        )));
    }
    Ok(())
}

async fn insert_lot(conn: &mut Conn, l: &NewLot, now: DateTime<Utc>) -> Result<i64, StoreError> {
    producer_of(conn, l.product_id, "product_id").await?;
    sqlx::query_scalar(
        "INSERT INTO lots (product_id, code, produced_on, expires_on, quantity, growing_area, \
         commune, province, search_text, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
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
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| unique_conflict(e, "code", "this product already has a lot with this code"))
}

/// Fails with NotFound when an UPDATE touched no row.
fn require_updated(result: <Db as sqlx::Database>::QueryResult) -> Result<(), StoreError> {
    if result.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

#[async_trait]
impl OrganizationStore for ThisStore {
    async fn create_organization(
        &self,
        org: &NewOrganization,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id = insert_organization(&mut tx, org, now).await?;
        let stored = fetch_organization(&mut tx, id).await?;
        tx.commit().await?;
        stored.ok_or(StoreError::NotFound)
    }

    async fn organization(&self, id: i64) -> Result<Option<Organization>, StoreError> {
        fetch_organization(&mut *self.pool.acquire().await?, id).await
    }

    async fn update_organization(
        &self,
        id: i64,
        o: &NewOrganization,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError> {
        let mut tx = self.pool.begin().await?;
        require_updated(
            sqlx::query(
                "UPDATE organizations SET kind = $1, name = $2, province = $3, address = $4, \
                 phone = $5, email = $6, search_text = $7, updated_at = $8 WHERE id = $9",
            )
            .bind(o.kind.as_str())
            .bind(&o.name)
            .bind(o.province.slug)
            .bind(&o.address)
            .bind(&o.phone)
            .bind(&o.email)
            .bind(organization_search_text(o))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?,
        )?;
        let stored = fetch_organization(&mut tx, id).await?;
        tx.commit().await?;
        stored.ok_or(StoreError::NotFound)
    }

    async fn list_organizations(&self, q: &ListQuery) -> Result<Vec<Organization>, StoreError> {
        let rows: Vec<OrganizationRow> = fetch_list(
            &self.pool,
            ORGANIZATION_SELECT,
            None,
            "search_text",
            q,
            "search_text, id",
        )
        .await?;
        convert_all(rows)
    }
}

#[async_trait]
impl ProductStore for ThisStore {
    async fn create_product(
        &self,
        product: &NewProduct,
        now: DateTime<Utc>,
    ) -> Result<Product, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id = insert_product(&mut tx, product, now).await?;
        let stored = fetch_product(&mut tx, id).await?;
        tx.commit().await?;
        stored.ok_or(StoreError::NotFound)
    }

    async fn product(&self, id: i64) -> Result<Option<Product>, StoreError> {
        fetch_product(&mut *self.pool.acquire().await?, id).await
    }

    async fn product_by_gtin(&self, gtin: &Gtin) -> Result<Option<Product>, StoreError> {
        sqlx::query_as::<_, ProductRow>(&format!("{PRODUCT_SELECT} AND p.gtin = $1"))
            .bind(gtin.as_gtin14())
            .fetch_optional(&self.pool)
            .await?
            .map(Product::try_from)
            .transpose()
    }

    async fn update_product(
        &self,
        id: i64,
        p: &NewProduct,
        now: DateTime<Utc>,
    ) -> Result<Product, StoreError> {
        let mut tx = self.pool.begin().await?;
        require_organization(&mut tx, p.producer_id, "producer_id", true).await?;
        require_updated(
            sqlx::query(
                "UPDATE products SET producer_id = $1, name = $2, category = $3, unit = $4, \
                 description = $5, photo_url = $6, gtin = $7, growing_area_code = $8, \
                 search_text = $9, updated_at = $10 WHERE id = $11",
            )
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
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_conflict(e, "gtin", "another product already has this GTIN"))?,
        )?;
        let stored = fetch_product(&mut tx, id).await?;
        tx.commit().await?;
        stored.ok_or(StoreError::NotFound)
    }

    async fn list_products(
        &self,
        q: &ListQuery,
        producer_id: Option<i64>,
    ) -> Result<Vec<Product>, StoreError> {
        let filter = producer_id.map(|id| ("p.producer_id", id));
        let rows: Vec<ProductRow> = fetch_list(
            &self.pool,
            PRODUCT_SELECT,
            filter,
            "p.search_text",
            q,
            "p.search_text, p.id",
        )
        .await?;
        convert_all(rows)
    }
}

#[async_trait]
impl CertificationStore for ThisStore {
    async fn create_certification(
        &self,
        cert: &NewCertification,
        now: DateTime<Utc>,
    ) -> Result<Certification, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id = insert_certification(&mut tx, cert, now).await?;
        let stored = fetch_certification(&mut tx, id).await?;
        tx.commit().await?;
        stored.ok_or(StoreError::NotFound)
    }

    async fn certification(&self, id: i64) -> Result<Option<Certification>, StoreError> {
        fetch_certification(&mut *self.pool.acquire().await?, id).await
    }

    async fn update_certification(
        &self,
        id: i64,
        c: &NewCertification,
        now: DateTime<Utc>,
    ) -> Result<Certification, StoreError> {
        let mut tx = self.pool.begin().await?;
        check_certification_links(&mut tx, c).await?;
        require_updated(
            sqlx::query(
                "UPDATE certifications SET holder_id = $1, product_id = $2, issuer_id = $3, \
                 kind = $4, ocop_stars = $5, number = $6, scope = $7, issued_on = $8, \
                 valid_until = $9, evidence_sha256 = $10, search_text = $11, updated_at = $12 \
                 WHERE id = $13",
            )
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
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_conflict(e, "number", DUPLICATE_CERTIFICATE))?,
        )?;
        let stored = fetch_certification(&mut tx, id).await?;
        tx.commit().await?;
        stored.ok_or(StoreError::NotFound)
    }

    async fn list_certifications(
        &self,
        q: &ListQuery,
        product_id: Option<i64>,
    ) -> Result<Vec<Certification>, StoreError> {
        let filter = product_id.map(|id| ("c.product_id", id));
        let rows: Vec<CertificationRow> = fetch_list(
            &self.pool,
            CERTIFICATION_SELECT,
            filter,
            "c.search_text",
            q,
            "c.valid_until, c.id",
        )
        .await?;
        convert_all(rows)
    }

    async fn set_certification_status(
        &self,
        id: i64,
        status: CertStatus,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Certification, StoreError> {
        let mut tx = self.pool.begin().await?;
        change_certification_status(&mut tx, id, status, by, now).await?;
        let stored = fetch_certification(&mut tx, id).await?;
        tx.commit().await?;
        stored.ok_or(StoreError::NotFound)
    }
}

#[async_trait]
impl LotStore for ThisStore {
    async fn create_lot(&self, lot: &NewLot, now: DateTime<Utc>) -> Result<Lot, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id = insert_lot(&mut tx, lot, now).await?;
        let stored = fetch_lot(&mut tx, id).await?;
        tx.commit().await?;
        stored.ok_or(StoreError::NotFound)
    }

    async fn lot(&self, id: i64) -> Result<Option<Lot>, StoreError> {
        fetch_lot(&mut *self.pool.acquire().await?, id).await
    }

    async fn update_lot(&self, id: i64, l: &NewLot, now: DateTime<Utc>) -> Result<Lot, StoreError> {
        let mut tx = self.pool.begin().await?;
        producer_of(&mut tx, l.product_id, "product_id").await?;
        require_updated(
            sqlx::query(
                "UPDATE lots SET product_id = $1, code = $2, produced_on = $3, expires_on = $4, \
                 quantity = $5, growing_area = $6, commune = $7, province = $8, \
                 search_text = $9, updated_at = $10 WHERE id = $11",
            )
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
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                unique_conflict(e, "code", "this product already has a lot with this code")
            })?,
        )?;
        let stored = fetch_lot(&mut tx, id).await?;
        tx.commit().await?;
        stored.ok_or(StoreError::NotFound)
    }

    async fn lot_by_code(&self, product_id: i64, code: &str) -> Result<Option<Lot>, StoreError> {
        sqlx::query_as::<_, LotRow>(&format!(
            "{LOT_SELECT} AND l.product_id = $1 AND l.code = $2"
        ))
        .bind(product_id)
        .bind(code)
        .fetch_optional(&self.pool)
        .await?
        .map(Lot::try_from)
        .transpose()
    }

    async fn recall_lot(
        &self,
        id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Lot, StoreError> {
        let mut tx = self.pool.begin().await?;
        // The first recall's time stands; a second recall only adds nothing.
        require_updated(
            sqlx::query(
                "UPDATE lots SET recalled_at = COALESCE(recalled_at, $1), \
                 recall_reason = COALESCE(recall_reason, $2), updated_at = $3 WHERE id = $4",
            )
            .bind(now)
            .bind(reason)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?,
        )?;
        let stored = fetch_lot(&mut tx, id).await?;
        tx.commit().await?;
        stored.ok_or(StoreError::NotFound)
    }

    async fn list_lots(
        &self,
        q: &ListQuery,
        product_id: Option<i64>,
    ) -> Result<Vec<Lot>, StoreError> {
        let filter = product_id.map(|id| ("l.product_id", id));
        let rows: Vec<LotRow> = fetch_list(
            &self.pool,
            LOT_SELECT,
            filter,
            "l.search_text",
            q,
            "l.produced_on DESC, l.id DESC",
        )
        .await?;
        convert_all(rows)
    }
}

async fn fetch_batch(conn: &mut Conn, id: i64) -> Result<Option<LabelBatch>, StoreError> {
    sqlx::query_as::<_, BatchRow>(&format!("{BATCH_SELECT} AND id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(LabelBatch::try_from)
        .transpose()
}

#[async_trait]
impl LabelStore for ThisStore {
    async fn create_batch(
        &self,
        batch: &NewBatch,
        now: DateTime<Utc>,
    ) -> Result<LabelBatch, StoreError> {
        let mut tx = self.pool.begin().await?;
        producer_of(&mut tx, batch.product_id, "product_id").await?;
        let count = i64::from(batch.count);
        sqlx::query("INSERT INTO key_counters (kid, next_number) VALUES ($1, 0) ON CONFLICT (kid) DO NOTHING")
            .bind(&batch.kid)
            .execute(&mut *tx)
            .await?;
        // One statement moves the counter, so concurrent mints get disjoint ranges.
        let end: i64 = sqlx::query_scalar(
            "UPDATE key_counters SET next_number = next_number + $1 WHERE kid = $2 \
             RETURNING next_number",
        )
        .bind(count)
        .bind(&batch.kid)
        .fetch_one(&mut *tx)
        .await?;
        if u64::try_from(end).map_or(true, |end| end > crate::labels::LABEL_NUMBERS) {
            return Err(invalid(
                "count",
                "the signing key has no label numbers left: rotate to a new key",
            ));
        }
        let state = if batch.lot_id.is_some() {
            LabelState::Activated
        } else {
            LabelState::Minted
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO label_batches (product_id, lot_id, kid, key_slot, first_number, count, \
             profile, state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(batch.product_id)
        .bind(batch.lot_id)
        .bind(&batch.kid)
        .bind(i64::from(batch.key_slot))
        .bind(end - count)
        .bind(count)
        .bind(profile_name(batch.profile))
        .bind(state.as_str())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let stored = fetch_batch(&mut tx, id).await?;
        tx.commit().await?;
        stored.ok_or(StoreError::NotFound)
    }

    async fn batch(&self, id: i64) -> Result<Option<LabelBatch>, StoreError> {
        fetch_batch(&mut *self.pool.acquire().await?, id).await
    }

    async fn batch_of_label(
        &self,
        kid: &str,
        number: u32,
    ) -> Result<Option<LabelBatch>, StoreError> {
        if let Some(batch) = self.batches.find(kid, number) {
            return Ok(Some(batch));
        }
        let row: Option<BatchRow> = sqlx::query_as(&format!(
            "{BATCH_SELECT} AND kid = $1 AND first_number <= $2 ORDER BY first_number DESC LIMIT 1"
        ))
        .bind(kid)
        .bind(i64::from(number))
        .fetch_optional(&self.pool)
        .await?;
        let batch = row.map(LabelBatch::try_from).transpose()?;
        let batch = batch.filter(|b| b.index_of(number).is_some());
        if let Some(b) = &batch {
            self.batches.keep(b);
        }
        Ok(batch)
    }

    async fn list_batches(&self, product_id: Option<i64>) -> Result<Vec<LabelBatch>, StoreError> {
        let rows: Vec<BatchRow> = match product_id {
            Some(id) => {
                sqlx::query_as(&format!(
                    "{BATCH_SELECT} AND product_id = $1 ORDER BY id DESC"
                ))
                .bind(id)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(&format!("{BATCH_SELECT} ORDER BY id DESC"))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        convert_all(rows)
    }

    async fn change_labels(
        &self,
        batch_id: i64,
        change: &RangeChange,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO label_ranges (batch_id, first_index, end_index, state, lot_id, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(batch_id)
        .bind(i64::from(change.range.first))
        .bind(i64::from(change.range.end))
        .bind(change.state.as_str())
        .bind(change.lot_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn label_change(
        &self,
        batch_id: i64,
        index: u32,
    ) -> Result<Option<RangeChange>, StoreError> {
        let row: Option<RangeRow> = sqlx::query_as(
            "SELECT first_index, end_index, state, lot_id FROM label_ranges WHERE batch_id = $1 \
             AND first_index <= $2 AND end_index > $3 ORDER BY id DESC LIMIT 1",
        )
        .bind(batch_id)
        .bind(i64::from(index))
        .bind(i64::from(index))
        .fetch_optional(&self.pool)
        .await?;
        row.map(RangeChange::try_from).transpose()
    }
}

#[async_trait]
impl ScanStore for ThisStore {
    async fn record_scans(&self, scans: &[NewScan]) -> Result<Vec<ScanSummary>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut summaries = Vec::with_capacity(scans.len());
        for scan in scans {
            sqlx::query(
                "INSERT INTO scans (batch_id, label_index, verdict, client, scanned_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(scan.batch_id)
            .bind(i64::from(scan.label_index))
            .bind(scan.verdict)
            .bind(scan.client)
            .bind(scan.scanned_at)
            .execute(&mut *tx)
            .await?;
            let (count, first_at): (i64, DateTime<Utc>) = sqlx::query_as(
                "INSERT INTO label_scan_counts (batch_id, label_index, count, first_at, last_at) \
                 VALUES ($1, $2, 1, $3, $4) ON CONFLICT (batch_id, label_index) DO UPDATE \
                 SET count = label_scan_counts.count + 1, last_at = excluded.last_at \
                 RETURNING count, first_at",
            )
            .bind(scan.batch_id)
            .bind(i64::from(scan.label_index))
            .bind(scan.scanned_at)
            .bind(scan.scanned_at)
            .fetch_one(&mut *tx)
            .await?;
            summaries.push(ScanSummary {
                count,
                first_at: Some(first_at),
            });
        }
        tx.commit().await?;
        Ok(summaries)
    }

    async fn label_scans(&self, batch_id: i64, index: u32) -> Result<ScanSummary, StoreError> {
        let row: Option<(i64, DateTime<Utc>)> = sqlx::query_as(
            "SELECT count, first_at FROM label_scan_counts WHERE batch_id = $1 AND label_index = $2",
        )
        .bind(batch_id)
        .bind(i64::from(index))
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            row.map_or_else(ScanSummary::default, |(count, first_at)| ScanSummary {
                count,
                first_at: Some(first_at),
            }),
        )
    }

    async fn count_scans(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM scans")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn add_report(&self, r: &NewReport, now: DateTime<Utc>) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO problem_reports (batch_id, label_index, product_id, message, contact, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(r.batch_id)
        .bind(r.label_index.map(i64::from))
        .bind(r.product_id)
        .bind(&r.message)
        .bind(&r.contact)
        .bind(now)
        .fetch_one(&self.pool)
        .await?)
    }
}

#[async_trait]
impl DocumentStore for ThisStore {
    async fn put_document(
        &self,
        content: &[u8],
        media_type: &str,
        file_name: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let sha256 = hex::encode(Sha256::digest(content));
        sqlx::query(
            "INSERT INTO documents (sha256, media_type, file_name, size_bytes, content, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&sha256)
        .bind(media_type)
        .bind(file_name)
        .bind(i64::try_from(content.len()).unwrap_or(i64::MAX))
        .bind(content)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(sha256)
    }

    async fn document(&self, sha256: &str) -> Result<Option<Document>, StoreError> {
        let row: Option<(String, String, Option<String>, Vec<u8>)> = sqlx::query_as(
            "SELECT sha256, media_type, file_name, content FROM documents WHERE sha256 = $1",
        )
        .bind(sha256.to_ascii_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            row.map(|(sha256, media_type, file_name, content)| Document {
                sha256,
                media_type,
                file_name,
                content,
            }),
        )
    }
}

/// The id a bundle key stands for, or a refusal of `field`.
fn resolve(ids: &HashMap<&str, i64>, key: &str, field: &str) -> Result<i64, StoreError> {
    ids.get(key).copied().ok_or_else(|| {
        invalid(
            field,
            format!("'{key}' is not a key defined in this import"),
        )
    })
}

async fn pause(pace: Option<std::time::Duration>) {
    if let Some(d) = pace {
        tokio::time::sleep(d).await;
    }
}

#[async_trait]
impl RegistryStore for ThisStore {
    async fn import_registry(
        &self,
        bundle: &RegistryBundle,
        now: DateTime<Utc>,
        pace: Option<std::time::Duration>,
    ) -> Result<ImportSummary, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut orgs: HashMap<&str, i64> = HashMap::new();
        for (i, (key, org)) in bundle.organizations.iter().enumerate() {
            let id = insert_organization(&mut tx, org, now)
                .await
                .map_err(|e| within(e, &format!("organizations[{i}]")))?;
            orgs.insert(key, id);
            pause(pace).await;
        }
        let mut products: HashMap<&str, i64> = HashMap::new();
        for (i, (key, producer, product)) in bundle.products.iter().enumerate() {
            let at = format!("products[{i}]");
            let product = NewProduct {
                producer_id: resolve(&orgs, producer, "producer").map_err(|e| within(e, &at))?,
                ..product.clone()
            };
            let id = insert_product(&mut tx, &product, now)
                .await
                .map_err(|e| within(e, &at))?;
            products.insert(key, id);
            pause(pace).await;
        }
        for (i, c) in bundle.certifications.iter().enumerate() {
            let at = format!("certifications[{i}]");
            let link = |ids: &HashMap<&str, i64>, key: &str, field: &str| {
                resolve(ids, key, field).map_err(|e| within(e, &at))
            };
            let cert = NewCertification {
                holder_id: link(&orgs, &c.holder, "holder")?,
                issuer_id: link(&orgs, &c.issuer, "issuer")?,
                product_id: match &c.product {
                    Some(key) => Some(link(&products, key, "product")?),
                    None => None,
                },
                ..c.cert.clone()
            };
            let id = insert_certification(&mut tx, &cert, now)
                .await
                .map_err(|e| within(e, &at))?;
            if let Some(by) = &c.verified_by {
                change_certification_status(&mut tx, id, CertStatus::Verified, by, now).await?;
            }
            pause(pace).await;
        }
        for (i, (product, lot)) in bundle.lots.iter().enumerate() {
            let at = format!("lots[{i}]");
            let lot = NewLot {
                product_id: resolve(&products, product, "product").map_err(|e| within(e, &at))?,
                ..lot.clone()
            };
            insert_lot(&mut tx, &lot, now)
                .await
                .map_err(|e| within(e, &at))?;
            pause(pace).await;
        }
        tx.commit().await?;
        Ok(ImportSummary {
            organizations: bundle.organizations.len(),
            products: bundle.products.len(),
            certifications: bundle.certifications.len(),
            lots: bundle.lots.len(),
        })
    }

    async fn count_organizations(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
            .fetch_one(&self.pool)
            .await?)
    }
}

#[async_trait]
impl HealthStore for ThisStore {
    async fn readiness(&self) -> Result<(), String> {
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| format!("database not reachable or not migrated: {e}"))?;
        let missing: Vec<i64> = MIGRATOR
            .iter()
            .map(|m| m.version)
            .filter(|v| !applied.contains(v))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("migrations not applied: {missing:?}"))
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        BACKEND
    }
}
