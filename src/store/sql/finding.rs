// The inspectors' search in SQL: one query per kind, narrowed by the producers the caller
// may read, the words, the filters; sorted by a column from a fixed list, then by id. Part
// of the store compiled by `include!` (see `common.rs`).

/// The SQL of one kind: its select, the expression of the producer whose record a row is,
/// its search column, and its sort columns by the names `FindKind::sorts` gives.
struct FindSql {
    select: &'static str,
    producer: &'static str,
    id: &'static str,
    search: &'static str,
    /// How a word matches a row through a related record (its product, its producer).
    related: &'static str,
    sort: fn(&str) -> &'static str,
}

fn find_sql(kind: FindKind) -> FindSql {
    match kind {
        FindKind::Producers => FindSql {
            select: ORGANIZATION_SELECT,
            producer: "o.id",
            id: "o.id",
            search: "o.search_text",
            related: "",
            sort: |s| match s {
                "province" => "o.province",
                "created" => "o.created_at",
                _ => "o.search_text",
            },
        },
        FindKind::Products => FindSql {
            select: PRODUCT_SELECT,
            producer: "p.producer_id",
            id: "p.id",
            search: "p.search_text",
            related: "p.producer_id IN (SELECT id FROM organizations WHERE search_text LIKE ",
            sort: |s| match s {
                "producer" => "o.search_text",
                "created" => "p.created_at",
                _ => "p.search_text",
            },
        },
        FindKind::Certificates => FindSql {
            select: CERTIFICATION_SELECT,
            producer: "c.holder_id",
            id: "c.id",
            search: "c.search_text",
            related: "c.product_id IN (SELECT id FROM products WHERE search_text LIKE ",
            sort: |s| match s {
                "number" => "c.number",
                "issued_on" => "c.issued_on",
                "status" => "c.status",
                "stars" => "c.ocop_stars",
                _ => "c.valid_until",
            },
        },
        FindKind::Lots => FindSql {
            select: LOT_SELECT,
            producer: "(SELECT producer_id FROM products WHERE products.id = l.product_id)",
            id: "l.id",
            search: "l.search_text",
            related: "l.product_id IN (SELECT id FROM products WHERE search_text LIKE ",
            sort: |s| match s {
                "code" => "l.code",
                "created" => "l.created_at",
                _ => "l.produced_on",
            },
        },
    }
}

/// The query of `kind` as `finder` and `page` ask.
fn find_query(kind: FindKind, finder: &Finder, page: Page) -> sqlx::QueryBuilder<'static, Db> {
    use strum::IntoEnumIterator;
    let sql = find_sql(kind);
    let mut q = sqlx::QueryBuilder::<Db>::new(sql.select);
    // Only producers, and of those only the ones the caller reaches (and the province asked).
    q.push(format!(
        " AND {} IN (SELECT id FROM organizations WHERE kind IN (",
        sql.producer
    ));
    let mut kinds = q.separated(", ");
    for k in OrgKind::iter().filter(|k| k.is_producer()) {
        kinds.push_bind(k.as_str());
    }
    q.push(")");
    if let Some(province) = &finder.province {
        q.push(" AND province = ").push_bind(province.clone());
    }
    push_reach(&mut q, &finder.reach);
    q.push(")");
    // Each word, in the record's own text or a related record's.
    let words = like_patterns(&ListQuery {
        search: finder.text.clone(),
        ..Default::default()
    });
    for w in words {
        q.push(format!(" AND ({} LIKE ", sql.search))
            .push_bind(w.clone())
            .push(" ESCAPE '\\'");
        if !sql.related.is_empty() {
            q.push(format!(" OR {}", sql.related))
                .push_bind(w)
                .push(" ESCAPE '\\')");
        }
        q.push(")");
    }
    push_filters(&mut q, kind, finder);
    match page {
        Page::Offset { offset, limit } => {
            let direction = if finder.descending { "DESC" } else { "ASC" };
            let column = (sql.sort)(&finder.sort);
            q.push(format!(
                " ORDER BY {column} {direction}, {} {direction} LIMIT ",
                sql.id
            ))
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        }
        Page::After { id, limit } => {
            q.push(format!(" AND {} > ", sql.id))
                .push_bind(id)
                .push(format!(" ORDER BY {} LIMIT ", sql.id))
                .push_bind(limit);
        }
    }
    q
}

/// Narrows a query of `organizations` to those `reach` covers.
fn push_reach(q: &mut sqlx::QueryBuilder<'_, Db>, reach: &Reach) {
    if let Reach::Within {
        provinces,
        organizations,
    } = reach
    {
        q.push(" AND (1 = 0");
        for p in provinces {
            q.push(" OR province = ").push_bind(p.clone());
        }
        for o in organizations {
            q.push(" OR id = ").push_bind(*o);
        }
        q.push(")");
    }
}

/// Narrows a query with a label batch `b` to the products of producers `reach` covers.
fn push_product_reach(q: &mut sqlx::QueryBuilder<'_, Db>, reach: &Reach) {
    if matches!(reach, Reach::All) {
        return;
    }
    q.push(
        " AND b.product_id IN (SELECT id FROM products WHERE producer_id IN \
         (SELECT id FROM organizations WHERE 1 = 1",
    );
    push_reach(q, reach);
    q.push("))");
}

/// Status, stars and expiry, as each kind reads them.
fn push_filters(q: &mut sqlx::QueryBuilder<'static, Db>, kind: FindKind, finder: &Finder) {
    // The certificates a product or a producer filter looks through.
    let certs_of = match kind {
        FindKind::Producers => Some("o.id IN (SELECT holder_id FROM certifications c WHERE 1 = 1"),
        FindKind::Products => Some("p.id IN (SELECT product_id FROM certifications c WHERE 1 = 1"),
        _ => None,
    };
    if let Some(status) = &finder.status {
        match (kind, status.as_str()) {
            (FindKind::Certificates, s) => {
                q.push(" AND c.status = ").push_bind(s.to_owned());
            }
            (FindKind::Lots, "recalled") => {
                q.push(" AND l.recalled_at IS NOT NULL");
            }
            (FindKind::Lots, _) => {
                q.push(" AND l.recalled_at IS NULL");
            }
            (FindKind::Producers, "suspended") => {
                q.push(" AND o.suspended_at IS NOT NULL");
            }
            (FindKind::Producers, _) => {
                q.push(" AND o.suspended_at IS NULL");
            }
            (FindKind::Products, _) => {}
        }
    }
    let on_certs = finder.stars.is_some() || finder.expiring.is_some();
    if !on_certs || kind == FindKind::Lots {
        return;
    }
    if let Some(head) = certs_of {
        q.push(format!(" AND {head}"));
    }
    if let Some(stars) = finder.stars {
        q.push(" AND c.ocop_stars = ").push_bind(stars);
    }
    if let Some((from, to)) = finder.expiring {
        q.push(" AND c.valid_until >= ")
            .push_bind(from)
            .push(" AND c.valid_until <= ")
            .push_bind(to);
    }
    if certs_of.is_some() {
        q.push(")");
    }
}

#[async_trait]
impl FindStore for ThisStore {
    async fn find(
        &self,
        kind: FindKind,
        finder: &Finder,
        page: Page,
    ) -> Result<FoundRecords, StoreError> {
        let mut q = find_query(kind, finder, page);
        Ok(match kind {
            FindKind::Producers => {
                let rows: Vec<OrganizationRow> = q.build_query_as().fetch_all(&self.pool).await?;
                FoundRecords::Producers(convert_all(rows)?)
            }
            FindKind::Products => {
                let rows: Vec<ProductRow> = q.build_query_as().fetch_all(&self.pool).await?;
                FoundRecords::Products(convert_all(rows)?)
            }
            FindKind::Certificates => {
                let rows: Vec<CertificationRow> = q.build_query_as().fetch_all(&self.pool).await?;
                FoundRecords::Certificates(convert_all(rows)?)
            }
            FindKind::Lots => {
                let rows: Vec<LotRow> = q.build_query_as().fetch_all(&self.pool).await?;
                FoundRecords::Lots(convert_all(rows)?)
            }
        })
    }
}
