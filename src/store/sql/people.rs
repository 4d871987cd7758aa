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
