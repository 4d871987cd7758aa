// The registry's storage contract in SQL; part of the store compiled by `include!` (see
// `common.rs`, which holds the imports and helpers).

#[async_trait]
impl OrganizationStore for ThisStore {
    async fn organization(&self, id: i64) -> Result<Option<Organization>, StoreError> {
        fetch_organization(&mut *self.pool.acquire().await?, id).await
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

    async fn authorities(&self) -> Result<Vec<Organization>, StoreError> {
        use strum::IntoEnumIterator;
        let mut query = sqlx::QueryBuilder::<Db>::new(ORGANIZATION_SELECT);
        query.push(" AND kind IN (");
        let mut kinds = query.separated(", ");
        for kind in OrgKind::iter().filter(|k| k.is_authority()) {
            kinds.push_bind(kind.as_str());
        }
        query.push(") ORDER BY search_text, id");
        let rows: Vec<OrganizationRow> = query.build_query_as().fetch_all(&self.pool).await?;
        convert_all(rows)
    }
}

#[async_trait]
impl ProductStore for ThisStore {
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

    async fn taken_gtins(&self, gtins: &[String]) -> Result<Vec<String>, StoreError> {
        let mut taken = Vec::new();
        for chunk in gtins.chunks(ROWS_PER_INSERT) {
            let mut query =
                sqlx::QueryBuilder::<Db>::new("SELECT gtin FROM products WHERE gtin IN (");
            let mut list = query.separated(", ");
            for gtin in chunk {
                list.push_bind(gtin.as_str());
            }
            query.push(")");
            let found: Vec<String> = query.build_query_scalar().fetch_all(&self.pool).await?;
            taken.extend(found);
        }
        Ok(taken)
    }

    async fn products_of(&self, producer_id: i64) -> Result<Vec<Product>, StoreError> {
        let rows: Vec<ProductRow> = sqlx::query_as(&format!(
            "{PRODUCT_SELECT} AND p.producer_id = $1 ORDER BY p.id"
        ))
        .bind(producer_id)
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
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
    async fn certification(&self, id: i64) -> Result<Option<Certification>, StoreError> {
        fetch_certification(&mut *self.pool.acquire().await?, id).await
    }

    async fn certifications_of(&self, holder_id: i64) -> Result<Vec<Certification>, StoreError> {
        let rows: Vec<CertificationRow> = sqlx::query_as(&format!(
            "{CERTIFICATION_SELECT} AND c.holder_id = $1 ORDER BY c.valid_until, c.id"
        ))
        .bind(holder_id)
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
    }

    async fn certification_by_number(
        &self,
        issuer_id: i64,
        number: &str,
    ) -> Result<Option<Certification>, StoreError> {
        sqlx::query_as::<_, CertificationRow>(&format!(
            "{CERTIFICATION_SELECT} AND c.issuer_id = $1 AND c.number = $2"
        ))
        .bind(issuer_id)
        .bind(number)
        .fetch_optional(&self.pool)
        .await?
        .map(Certification::try_from)
        .transpose()
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
}

#[async_trait]
impl LotStore for ThisStore {
    async fn lot(&self, id: i64) -> Result<Option<Lot>, StoreError> {
        fetch_lot(&mut *self.pool.acquire().await?, id).await
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

    async fn lots_of_producer(&self, producer_id: i64) -> Result<Vec<Lot>, StoreError> {
        let rows: Vec<LotRow> = sqlx::query_as(&format!(
            "{LOT_SELECT} AND l.product_id IN (SELECT id FROM products WHERE producer_id = $1) \
             ORDER BY l.id"
        ))
        .bind(producer_id)
        .fetch_all(&self.pool)
        .await?;
        convert_all(rows)
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

    async fn recall(&self, id: i64) -> Result<Option<Recall>, StoreError> {
        fetch_recall(&mut *self.pool.acquire().await?, id).await
    }

    async fn recalls_of_lot(&self, lot_id: i64) -> Result<Vec<Recall>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<RecallRow> = sqlx::query_as(&format!(
            "{RECALL_SELECT} AND id IN (SELECT recall_id FROM recall_lots WHERE lot_id = $1) \
             ORDER BY id DESC"
        ))
        .bind(lot_id)
        .fetch_all(&mut *conn)
        .await?;
        recalls_with_lots(&mut conn, rows).await
    }

    async fn list_recalls(
        &self,
        q: &ListQuery,
        open_only: bool,
    ) -> Result<Vec<Recall>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let open = if open_only {
            " AND closed_at IS NULL"
        } else {
            ""
        };
        let rows: Vec<RecallRow> = sqlx::query_as(&format!(
            "{RECALL_SELECT}{open} ORDER BY id DESC LIMIT $1 OFFSET $2"
        ))
        .bind(q.limit())
        .bind(q.offset())
        .fetch_all(&mut *conn)
        .await?;
        recalls_with_lots(&mut conn, rows).await
    }
}
