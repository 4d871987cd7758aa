// Evidence documents, bundle imports and readiness in SQL; part of the store compiled by
// `include!` (see `common.rs`).

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
        self.write(async |c| {
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
            .execute(&mut *c)
            .await?;
            Ok(())
        })
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

/// Rows in one multi-row INSERT: at most 16 parameters a row, far below both databases'
/// limits, and few enough statements that a 60,000-row import writes in well under a second.
const ROWS_PER_INSERT: usize = 500;

/// Inserts `items` with multi-row statements (`per_statement` rows each, a pause between
/// statements when `pace` is given, for crash tests) and returns their ids in `items`' order.
///
/// Ids are taken sorted: both databases give the rows of one INSERT increasing ids in the
/// order of its VALUES (SQLite as max(rowid) + 1 each, PostgreSQL by one nextval per row, in
/// order), whatever order RETURNING lists them in.
async fn insert_all<'a, T>(
    conn: &mut Conn,
    head: &'static str,
    items: &'a [T],
    per_statement: usize,
    pace: Option<std::time::Duration>,
    bind: impl Fn(&mut sqlx::query_builder::Separated<'_, 'a, Db, &'static str>, &'a T),
) -> Result<Vec<i64>, sqlx::Error> {
    let mut ids = Vec::with_capacity(items.len());
    for chunk in items.chunks(per_statement.max(1)) {
        let mut query = sqlx::QueryBuilder::<Db>::new(head);
        query.push_values(chunk, |mut row, item| bind(&mut row, item));
        query.push(" RETURNING id");
        let mut chunk_ids: Vec<i64> = query.build_query_scalar().fetch_all(&mut *conn).await?;
        chunk_ids.sort_unstable();
        ids.extend(chunk_ids);
        if let Some(d) = pace {
            tokio::time::sleep(d).await;
        }
    }
    Ok(ids)
}

impl ThisStore {
    /// Refuses a bundle whose GTINs are already taken, naming each product.
    async fn refuse_known_gtins(&self, bundle: &RegistryBundle) -> Result<(), StoreError> {
        let gtins: Vec<(usize, String)> = (bundle.products.iter().enumerate())
            .filter_map(|(i, (_, _, p))| p.gtin.map(|g| (i, g.as_gtin14())))
            .collect();
        let mut taken = std::collections::HashSet::new();
        for chunk in gtins.chunks(ROWS_PER_INSERT) {
            let mut query =
                sqlx::QueryBuilder::<Db>::new("SELECT gtin FROM products WHERE gtin IN (");
            let mut list = query.separated(", ");
            for (_, gtin) in chunk {
                list.push_bind(gtin.as_str());
            }
            query.push(")");
            let found: Vec<String> = query.build_query_scalar().fetch_all(&self.pool).await?;
            taken.extend(found);
        }
        let errors: Vec<FieldError> = (gtins.iter())
            .filter(|(_, gtin)| taken.contains(gtin))
            .map(|(i, _)| FieldError {
                field: format!("products[{i}].gtin"),
                message: "another product already has this GTIN".into(),
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Conflict(Invalid { errors }))
        }
    }

    /// Refuses certificates whose evidence document is not stored.
    async fn require_documents(&self, bundle: &RegistryBundle) -> Result<(), StoreError> {
        for (i, c) in bundle.certifications.iter().enumerate() {
            if let Some(sha) = &c.cert.evidence_sha256 {
                if self.document(sha).await?.is_none() {
                    return Err(invalid(
                        &format!("certifications[{i}].evidence_sha256"),
                        "no document with this SHA-256 is stored",
                    ));
                }
            }
        }
        Ok(())
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
        // All that needs no writing is done before the transaction opens (links resolved and
        // checked, GTINs and documents looked up), so that the transaction only writes and
        // the scans waiting for it wait briefly: 60,000 rows in about 130 statements.
        let links = bundle.resolve().map_err(StoreError::Invalid)?;
        self.refuse_known_gtins(bundle).await?;
        self.require_documents(bundle).await?;
        let rows = if pace.is_some() { 1 } else { ROWS_PER_INSERT };
        let started = std::time::Instant::now();
        self.change(async |c| {
            let orgs = insert_all(
                c,
                "INSERT INTO organizations (kind, name, province, address, phone, email, \
                 search_text, updated_at, created_at) ",
                &bundle.organizations,
                rows,
                pace,
                |row, (_, o)| {
                    row.push_bind(o.kind.as_str())
                        .push_bind(&o.name)
                        .push_bind(o.province.slug)
                        .push_bind(&o.address)
                        .push_bind(&o.phone)
                        .push_bind(&o.email)
                        .push_bind(organization_search_text(o))
                        .push_bind(now)
                        .push_bind(now);
                },
            )
            .await?;
            let products: Vec<(i64, &NewProduct)> = (links.product_producer.iter())
                .zip(&bundle.products)
                .map(|(&o, (_, _, p))| (orgs[o], p))
                .collect();
            let product_ids = insert_all(
                c,
                "INSERT INTO products (producer_id, name, category, unit, description, \
                 photo_url, gtin, growing_area_code, search_text, updated_at, created_at) ",
                &products,
                rows,
                pace,
                |row, &(producer_id, p)| {
                    row.push_bind(producer_id)
                        .push_bind(&p.name)
                        .push_bind(&p.category)
                        .push_bind(&p.unit)
                        .push_bind(&p.description)
                        .push_bind(&p.photo_url)
                        .push_bind(p.gtin.map(|g| g.as_gtin14()))
                        .push_bind(&p.growing_area_code)
                        .push_bind(product_search_text(p))
                        .push_bind(now)
                        .push_bind(now);
                },
            )
            .await
            // Only a write made since the GTINs were looked up can take one.
            .map_err(|e| {
                unique_conflict(e, "products", "a GTIN of this import was taken meanwhile")
            })?;
            let certs: Vec<(i64, i64, Option<i64>, &BundleCertification)> =
                (links.certification.iter())
                    .zip(&bundle.certifications)
                    .map(|(&(holder, issuer, product), c)| {
                        (
                            orgs[holder],
                            orgs[issuer],
                            product.map(|p| product_ids[p]),
                            c,
                        )
                    })
                    .collect();
            insert_all(
                c,
                "INSERT INTO certifications (holder_id, issuer_id, product_id, kind, ocop_stars, \
                 number, scope, issued_on, valid_until, evidence_sha256, search_text, status, \
                 status_changed_by, status_changed_at, updated_at, created_at) ",
                &certs,
                rows,
                pace,
                |row, &(holder, issuer, product, linked)| {
                    let cert = &linked.cert;
                    // A certificate imported with its verifier is verified from the import on.
                    let status = match linked.verified_by {
                        Some(_) => CertStatus::Verified,
                        None => CertStatus::Submitted,
                    };
                    row.push_bind(holder)
                        .push_bind(issuer)
                        .push_bind(product)
                        .push_bind(cert.kind.as_str())
                        .push_bind(cert.ocop_stars)
                        .push_bind(&cert.number)
                        .push_bind(&cert.scope)
                        .push_bind(cert.issued_on)
                        .push_bind(cert.valid_until)
                        .push_bind(&cert.evidence_sha256)
                        .push_bind(certification_search_text(cert))
                        .push_bind(status.as_str())
                        .push_bind(&linked.verified_by)
                        .push_bind(linked.verified_by.as_ref().map(|_| now))
                        .push_bind(now)
                        .push_bind(now);
                },
            )
            .await?;
            let lots: Vec<(i64, &NewLot)> = (links.lot_product.iter())
                .zip(&bundle.lots)
                .map(|(&p, (_, lot))| (product_ids[p], lot))
                .collect();
            insert_all(
                c,
                "INSERT INTO lots (product_id, code, produced_on, expires_on, quantity, \
                 growing_area, commune, province, search_text, updated_at, created_at) ",
                &lots,
                rows,
                pace,
                |row, &(product_id, l)| {
                    row.push_bind(product_id)
                        .push_bind(&l.code)
                        .push_bind(l.produced_on)
                        .push_bind(l.expires_on)
                        .push_bind(l.quantity)
                        .push_bind(&l.growing_area)
                        .push_bind(&l.commune)
                        .push_bind(l.province.map(|p| p.slug))
                        .push_bind(lot_search_text(l))
                        .push_bind(now)
                        .push_bind(now);
                },
            )
            .await?;
            Ok(())
        })
        .await?;
        tracing::info!(took = ?started.elapsed(), "import written");
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
impl KeyRecordStore for ThisStore {
    async fn key_first_seen(
        &self,
        kid: &str,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        self.write(async |c| {
            sqlx::query(
                "INSERT INTO env_signing_keys (kid, first_seen_at) VALUES ($1, $2) \
                 ON CONFLICT (kid) DO NOTHING",
            )
            .bind(kid)
            .bind(now)
            .execute(&mut *c)
            .await?;
            Ok(
                sqlx::query_scalar("SELECT first_seen_at FROM env_signing_keys WHERE kid = $1")
                    .bind(kid)
                    .fetch_one(&mut *c)
                    .await?,
            )
        })
        .await
    }
}

#[async_trait]
impl HealthStore for ThisStore {
    async fn readiness(&self) -> Result<(), String> {
        // Since a write failed, only a write that succeeds says writes work again: try one.
        if let Some(failure) = self.health.failure() {
            self.write(async |c| {
                sqlx::query(PROBE_WRITE)
                    .bind(Utc::now())
                    .execute(&mut *c)
                    .await?;
                Ok(())
            })
            .await
            .map_err(|e| format!("writes are failing ({failure}); a probe write: {e}"))?;
        }
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
