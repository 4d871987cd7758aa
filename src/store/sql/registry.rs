// The registry's storage contract in SQL; part of the store compiled by `include!` (see
// `common.rs`, which holds the imports and helpers).

#[async_trait]
impl OrganizationStore for ThisStore {
    async fn create_organization(
        &self,
        org: &NewOrganization,
        now: DateTime<Utc>,
    ) -> Result<Organization, StoreError> {
        self.change(async |c| {
            let id = save_organization(c, None, org, now).await?;
            fetch_organization(c, id).await?.ok_or(StoreError::NotFound)
        })
        .await
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
        self.change(async |c| {
            save_organization(c, Some(id), o, now).await?;
            fetch_organization(c, id).await?.ok_or(StoreError::NotFound)
        })
        .await
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
        self.change(async |c| {
            let id = save_product(c, None, product, now).await?;
            fetch_product(c, id).await?.ok_or(StoreError::NotFound)
        })
        .await
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
        self.change(async |c| {
            let before = fetch_product(c, id).await?.ok_or(StoreError::NotFound)?;
            if before.data.gtin != p.gtin {
                let batches = batches_of(c, "product_id", id).await?;
                refuse_if_printed(&batches, "gtin", "the GTIN")?;
            }
            save_product(c, Some(id), p, now).await?;
            fetch_product(c, id).await?.ok_or(StoreError::NotFound)
        })
        .await
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
        self.change(async |c| {
            let id = save_certification(c, None, cert, now).await?;
            fetch_certification(c, id)
                .await?
                .ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn certification(&self, id: i64) -> Result<Option<Certification>, StoreError> {
        fetch_certification(&mut *self.pool.acquire().await?, id).await
    }

    async fn update_certification(
        &self,
        id: i64,
        cert: &NewCertification,
        now: DateTime<Utc>,
    ) -> Result<Certification, StoreError> {
        self.change(async |c| {
            save_certification(c, Some(id), cert, now).await?;
            fetch_certification(c, id)
                .await?
                .ok_or(StoreError::NotFound)
        })
        .await
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
        self.change(async |c| {
            change_certification_status(c, id, status, by, now).await?;
            fetch_certification(c, id)
                .await?
                .ok_or(StoreError::NotFound)
        })
        .await
    }
}

#[async_trait]
impl LotStore for ThisStore {
    async fn create_lot(&self, lot: &NewLot, now: DateTime<Utc>) -> Result<Lot, StoreError> {
        self.change(async |c| {
            let id = save_lot(c, None, lot, now).await?;
            fetch_lot(c, id).await?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn lot(&self, id: i64) -> Result<Option<Lot>, StoreError> {
        fetch_lot(&mut *self.pool.acquire().await?, id).await
    }

    async fn update_lot(&self, id: i64, l: &NewLot, now: DateTime<Utc>) -> Result<Lot, StoreError> {
        self.change(async |c| {
            let before = fetch_lot(c, id).await?.ok_or(StoreError::NotFound)?;
            if before.data.code != l.code {
                let batches = batches_of(c, "lot_id", id).await?;
                refuse_if_printed(&batches, "code", "the lot code")?;
            }
            if before.data.product_id != l.product_id {
                let mut batches = batches_of(c, "lot_id", id).await?;
                batches.extend(batches_with_ranges_of_lot(c, id).await?);
                batches.sort_unstable();
                batches.dedup();
                refuse_if_printed(&batches, "product_id", "the lot's product")?;
            }
            save_lot(c, Some(id), l, now).await?;
            fetch_lot(c, id).await?.ok_or(StoreError::NotFound)
        })
        .await
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
        self.change(async |c| {
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
                .execute(&mut *c)
                .await?,
            )?;
            fetch_lot(c, id).await?.ok_or(StoreError::NotFound)
        })
        .await
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
