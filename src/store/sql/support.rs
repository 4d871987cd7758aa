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
        self.change(async |c| {
            let mut orgs: HashMap<&str, i64> = HashMap::new();
            for (i, (key, org)) in bundle.organizations.iter().enumerate() {
                let id = save_organization(c, None, org, now)
                    .await
                    .map_err(|e| within(e, &format!("organizations[{i}]")))?;
                orgs.insert(key, id);
                pause(pace).await;
            }
            let mut products: HashMap<&str, i64> = HashMap::new();
            for (i, (key, producer, product)) in bundle.products.iter().enumerate() {
                let at = format!("products[{i}]");
                let product = NewProduct {
                    producer_id: resolve(&orgs, producer, "producer")
                        .map_err(|e| within(e, &at))?,
                    ..product.clone()
                };
                let id = save_product(c, None, &product, now)
                    .await
                    .map_err(|e| within(e, &at))?;
                products.insert(key, id);
                pause(pace).await;
            }
            for (i, linked) in bundle.certifications.iter().enumerate() {
                let at = format!("certifications[{i}]");
                let link = |ids: &HashMap<&str, i64>, key: &str, field: &str| {
                    resolve(ids, key, field).map_err(|e| within(e, &at))
                };
                let cert = NewCertification {
                    holder_id: link(&orgs, &linked.holder, "holder")?,
                    issuer_id: link(&orgs, &linked.issuer, "issuer")?,
                    product_id: match &linked.product {
                        Some(key) => Some(link(&products, key, "product")?),
                        None => None,
                    },
                    ..linked.cert.clone()
                };
                let id = save_certification(c, None, &cert, now)
                    .await
                    .map_err(|e| within(e, &at))?;
                if let Some(by) = &linked.verified_by {
                    change_certification_status(c, id, CertStatus::Verified, by, now).await?;
                }
                pause(pace).await;
            }
            for (i, (product, lot)) in bundle.lots.iter().enumerate() {
                let at = format!("lots[{i}]");
                let lot = NewLot {
                    product_id: resolve(&products, product, "product")
                        .map_err(|e| within(e, &at))?,
                    ..lot.clone()
                };
                save_lot(c, None, &lot, now)
                    .await
                    .map_err(|e| within(e, &at))?;
                pause(pace).await;
            }
            Ok(())
        })
        .await?;
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
