// People, their memberships and sessions in SQL; part of the store compiled by `include!`
// (see `common.rs`).

#[derive(sqlx::FromRow)]
struct PersonRow {
    id: i64,
    login: String,
    display_name: String,
    status: String,
    password_hash: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const PERSON_SELECT: &str = "SELECT id, login, display_name, status, password_hash, created_at, \
     updated_at FROM people";

/// A person row with its memberships; and the password hash, kept apart.
async fn person_from(
    conn: &mut Conn,
    row: PersonRow,
) -> Result<(Person, Option<String>), StoreError> {
    let memberships: Vec<(Option<i64>, String)> = sqlx::query_as(
        "SELECT organization_id, role FROM memberships WHERE person_id = $1 \
         ORDER BY COALESCE(organization_id, 0)",
    )
    .bind(row.id)
    .fetch_all(&mut *conn)
    .await?;
    let memberships = memberships
        .into_iter()
        .map(|(organization_id, role)| {
            Ok(Membership {
                organization_id,
                role: role
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("role '{role}'")))?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    let status = row
        .status
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("status '{}'", row.status)))?;
    Ok((
        Person {
            id: row.id,
            login: row.login,
            display_name: row.display_name,
            status,
            memberships,
            created_at: row.created_at,
            updated_at: row.updated_at,
        },
        row.password_hash,
    ))
}

async fn fetch_person(conn: &mut Conn, id: i64) -> Result<Option<Person>, StoreError> {
    let row: Option<PersonRow> = sqlx::query_as(&format!("{PERSON_SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => Ok(Some(person_from(conn, row).await?.0)),
        None => Ok(None),
    }
}

#[async_trait]
impl PeopleStore for ThisStore {
    async fn person(&self, id: i64) -> Result<Option<Person>, StoreError> {
        fetch_person(&mut *self.pool.acquire().await?, id).await
    }

    async fn person_by_login(
        &self,
        login: &str,
    ) -> Result<Option<(Person, Option<String>)>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row: Option<PersonRow> = sqlx::query_as(&format!("{PERSON_SELECT} WHERE login = $1"))
            .bind(login)
            .fetch_optional(&mut *conn)
            .await?;
        match row {
            Some(row) => Ok(Some(person_from(&mut conn, row).await?)),
            None => Ok(None),
        }
    }

    async fn list_people(&self, organization_id: Option<i64>) -> Result<Vec<Person>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<PersonRow> = sqlx::query_as(&format!(
            "{PERSON_SELECT} WHERE $1 IS NULL OR id IN \
             (SELECT person_id FROM memberships WHERE organization_id = $1) ORDER BY login"
        ))
        .bind(organization_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut people = Vec::with_capacity(rows.len());
        for row in rows {
            people.push(person_from(&mut conn, row).await?.0);
        }
        Ok(people)
    }
}

#[async_trait]
impl SessionStore for ThisStore {
    async fn start_session(
        &self,
        id_hash: &[u8],
        person_id: i64,
        csrf_token: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write(async |c| {
            sqlx::query(
                "INSERT INTO sessions (id_hash, person_id, csrf_token, created_at, last_seen_at) \
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(id_hash)
            .bind(person_id)
            .bind(csrf_token)
            .bind(now)
            .execute(&mut *c)
            .await?;
            Ok(())
        })
        .await
    }

    async fn session(&self, id_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<(
            i64,
            String,
            DateTime<Utc>,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
        )> = sqlx::query_as(
            "SELECT person_id, csrf_token, created_at, last_seen_at, ended_at FROM sessions \
                 WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(person_id, csrf_token, created_at, last_seen_at, ended_at)| SessionRecord {
                person_id,
                csrf_token,
                created_at,
                last_seen_at,
                ended_at,
            },
        ))
    }

    async fn touch_session(&self, id_hash: &[u8], now: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(async |c| {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(now)
                .bind(id_hash)
                .execute(&mut *c)
                .await?;
            Ok(())
        })
        .await
    }

    async fn end_session(&self, id_hash: &[u8], now: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(async |c| {
            sqlx::query(
                "UPDATE sessions SET ended_at = $1 WHERE id_hash = $2 AND ended_at IS NULL",
            )
            .bind(now)
            .bind(id_hash)
            .execute(&mut *c)
            .await?;
            Ok(())
        })
        .await
    }
}

impl ThisWrites {
    async fn person_changed(&mut self, id: i64) -> Result<Person, StoreError> {
        fetch_person(&mut self.conn, id)
            .await?
            .ok_or(StoreError::NotFound)
    }
}

#[derive(sqlx::FromRow)]
struct ApiTokenRow {
    id: i64,
    prefix: String,
    person_id: i64,
    organization_id: Option<i64>,
    role: String,
    name: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

const API_TOKEN_SELECT: &str = "SELECT id, prefix, person_id, organization_id, role, name, \
     created_at, expires_at, last_used_at, revoked_at FROM api_tokens";

impl TryFrom<ApiTokenRow> for ApiToken {
    type Error = StoreError;
    fn try_from(r: ApiTokenRow) -> Result<Self, StoreError> {
        Ok(ApiToken {
            id: r.id,
            prefix: r.prefix,
            person_id: r.person_id,
            organization_id: r.organization_id,
            role: r
                .role
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("role '{}'", r.role)))?,
            name: r.name,
            created_at: r.created_at,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
    }
}

async fn fetch_api_token(conn: &mut Conn, id: i64) -> Result<Option<ApiToken>, StoreError> {
    let row: Option<ApiTokenRow> = sqlx::query_as(&format!("{API_TOKEN_SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(ApiToken::try_from).transpose()
}

#[derive(sqlx::FromRow)]
struct AccessLinkRow {
    kind: String,
    organization_id: Option<i64>,
    role: Option<String>,
    person_id: Option<i64>,
    made_by: Option<i64>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<AccessLinkRow> for AccessLink {
    type Error = StoreError;
    fn try_from(r: AccessLinkRow) -> Result<Self, StoreError> {
        let purpose = match (r.kind.as_str(), r.role, r.person_id) {
            ("invitation", Some(role), _) => LinkPurpose::Invitation {
                organization_id: r.organization_id,
                role: role
                    .parse::<Role>()
                    .map_err(|_| StoreError::Corrupt(format!("role '{role}'")))?,
            },
            ("reset", _, Some(person_id)) => LinkPurpose::Reset { person_id },
            (kind, ..) => return Err(StoreError::Corrupt(format!("link kind '{kind}'"))),
        };
        Ok(AccessLink {
            purpose,
            made_by: r.made_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
            revoked_at: r.revoked_at,
        })
    }
}

async fn fetch_access_link(conn: &mut Conn, hash: &[u8]) -> Result<Option<AccessLink>, StoreError> {
    let row: Option<AccessLinkRow> = sqlx::query_as(
        "SELECT kind, organization_id, role, person_id, made_by, created_at, expires_at, \
         used_at, revoked_at FROM access_links WHERE token_hash = $1",
    )
    .bind(hash)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(AccessLink::try_from).transpose()
}

#[async_trait]
impl AccessStore for ThisStore {
    async fn api_token_by_hash(&self, hash: &[u8]) -> Result<Option<ApiToken>, StoreError> {
        let row: Option<ApiTokenRow> =
            sqlx::query_as(&format!("{API_TOKEN_SELECT} WHERE token_hash = $1"))
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
        row.map(ApiToken::try_from).transpose()
    }

    async fn api_tokens_of(&self, person_id: i64) -> Result<Vec<ApiToken>, StoreError> {
        let rows: Vec<ApiTokenRow> = sqlx::query_as(&format!(
            "{API_TOKEN_SELECT} WHERE person_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ApiToken::try_from).collect()
    }

    async fn touch_api_token(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(async |c| {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *c)
                .await?;
            Ok(())
        })
        .await
    }

    async fn access_link_by_hash(&self, hash: &[u8]) -> Result<Option<AccessLink>, StoreError> {
        fetch_access_link(&mut *self.pool.acquire().await?, hash).await
    }
}
