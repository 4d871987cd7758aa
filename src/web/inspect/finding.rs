//! The inspectors' search as pages and files: a few of each kind, or one kind as a sorted,
//! paged table with filters; any such list exported as CSV (UTF-8 with a BOM, for Excel),
//! XLSX or JSON, read from the store a thousand rows at a time and written as it goes, so
//! that the server's memory stays flat however long the list.

use std::collections::HashMap;

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use tokio::io::AsyncWriteExt;

use crate::app::finding::{self, Search};
use crate::app::{App, Caller};
use crate::domain::validation::Invalid;
use crate::store::{FindKind, FoundRecords, Page};
use crate::web::AppState;
use crate::web::auth::Signed;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, PageError};
use crate::web::i18n::Lang;
use crate::web::layout::{Layout, render};

/// Rows on a page of one kind, and of each kind when none is chosen.
const PER_PAGE: i64 = 50;
const PER_KIND: i64 = 10;
/// Rows read from the store at a time by an export.
const EXPORT_CHUNK: i64 = 1000;

/// A cell of a list, as the page, the CSV and the workbook show it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Empty,
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Text(t) => f.write_str(t),
            Cell::Number(n) => write!(f, "{n}"),
            Cell::Date(d) => write!(f, "{}", d.format("%d/%m/%Y")),
            Cell::Empty => Ok(()),
        }
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn maybe(s: &Option<String>) -> Cell {
    s.as_ref().map_or(Cell::Empty, |s| Cell::Text(s.clone()))
}

/// A list of one kind: its column heads, and each row with the page it links to.
pub struct Table {
    pub kind: FindKind,
    pub heads: Vec<&'static str>,
    /// Each row: the record's id, the page it links to, its cells.
    pub rows: Vec<(i64, String, Vec<Cell>)>,
}

/// The column heads of each kind, Vietnamese and English, and the sort each may take.
fn heads(kind: FindKind) -> &'static [(&'static str, &'static str, &'static str)] {
    match kind {
        FindKind::Producers => &[
            ("Mã", "Id", ""),
            ("Tên", "Name", "name"),
            ("Loại", "Kind", ""),
            ("Tỉnh", "Province", "province"),
            ("Địa chỉ", "Address", ""),
            ("Điện thoại", "Phone", ""),
            ("Thư điện tử", "E-mail", ""),
            ("Đình chỉ từ", "Suspended since", ""),
        ],
        FindKind::Products => &[
            ("Mã", "Id", ""),
            ("Tên", "Name", "name"),
            ("GTIN", "GTIN", ""),
            ("Nhóm", "Category", ""),
            ("Cơ sở sản xuất", "Producer", "producer"),
            ("Ngày tạo", "Created", "created"),
        ],
        FindKind::Certificates => &[
            ("Mã", "Id", ""),
            ("Loại", "Kind", ""),
            ("Số", "Number", "number"),
            ("Hạng OCOP", "OCOP stars", "stars"),
            ("Cơ sở được cấp", "Holder", ""),
            ("Nơi cấp", "Issuer", ""),
            ("Ngày cấp", "Issued on", "issued_on"),
            ("Hiệu lực đến", "Valid until", "valid_until"),
            ("Tình trạng", "Status", "status"),
            ("Người quyết định", "Decided by", ""),
            ("Lý do", "Reason", ""),
        ],
        FindKind::Lots => &[
            ("Mã", "Id", ""),
            ("Mã lô", "Lot code", "code"),
            ("Sản phẩm", "Product", ""),
            ("Ngày sản xuất", "Produced on", "produced_on"),
            ("Hạn dùng", "Expires on", ""),
            ("Số lượng", "Quantity", ""),
            ("Tỉnh", "Province", ""),
            ("Thu hồi từ", "Recalled since", ""),
            ("Lý do thu hồi", "Recall reason", ""),
        ],
    }
}

/// The names a row shows of records it refers to by id, each looked up once per list.
#[derive(Default)]
struct Names {
    organizations: HashMap<i64, String>,
    products: HashMap<i64, String>,
}

impl Names {
    async fn organization(&mut self, app: &App, id: i64) -> Result<String, AppError> {
        if let Some(name) = self.organizations.get(&id) {
            return Ok(name.clone());
        }
        let name = app
            .store
            .organization(id)
            .await?
            .map_or_else(|| format!("#{id}"), |o| o.data.name);
        self.organizations.insert(id, name.clone());
        Ok(name)
    }

    async fn product(&mut self, app: &App, id: i64) -> Result<String, AppError> {
        if let Some(name) = self.products.get(&id) {
            return Ok(name.clone());
        }
        let name = app
            .store
            .product(id)
            .await?
            .map_or_else(|| format!("#{id}"), |p| p.data.name);
        self.products.insert(id, name.clone());
        Ok(name)
    }
}

/// The rows of `found`, in `lang`, each with the page it links to.
async fn rows(
    app: &App,
    names: &mut Names,
    found: &FoundRecords,
    lang: Lang,
) -> Result<Vec<(i64, String, Vec<Cell>)>, AppError> {
    let t = lang.texts();
    let mut rows = Vec::with_capacity(found.len());
    match found {
        FoundRecords::Producers(list) => {
            for o in list {
                let kind = match lang {
                    Lang::Vi => o.data.kind.label_vi(),
                    Lang::En => o.data.kind.label_en(),
                };
                rows.push((
                    o.id,
                    format!("/inspect/producers/{}", o.id),
                    vec![
                        Cell::Number(o.id as f64),
                        text(&o.data.name),
                        text(kind),
                        text(o.data.province.name),
                        maybe(&o.data.address),
                        maybe(&o.data.phone),
                        maybe(&o.data.email),
                        o.suspended_at
                            .map_or(Cell::Empty, |at| Cell::Date(at.date_naive())),
                    ],
                ));
            }
        }
        FoundRecords::Products(list) => {
            for p in list {
                rows.push((
                    p.id,
                    format!("/inspect/history/product/{}", p.id),
                    vec![
                        Cell::Number(p.id as f64),
                        text(&p.data.name),
                        p.data
                            .gtin
                            .as_ref()
                            .map_or(Cell::Empty, |g| text(g.as_gtin14())),
                        text(&p.data.category),
                        text(&p.producer_name),
                        Cell::Date(p.created_at.date_naive()),
                    ],
                ));
            }
        }
        FoundRecords::Certificates(list) => {
            for c in list {
                let holder = names.organization(app, c.data.holder_id).await?;
                rows.push((
                    c.id,
                    format!("/inspect/certificates/{}", c.id),
                    vec![
                        Cell::Number(c.id as f64),
                        text(c.data.kind.label()),
                        text(&c.data.number),
                        c.data
                            .ocop_stars
                            .map_or(Cell::Empty, |s| Cell::Number(s as f64)),
                        text(holder),
                        text(&c.issuer_name),
                        Cell::Date(c.data.issued_on),
                        Cell::Date(c.data.valid_until),
                        text(t.certificates.status(&c.status)),
                        maybe(&c.status_changed_by),
                        maybe(&c.status_reason),
                    ],
                ));
            }
        }
        FoundRecords::Lots(list) => {
            for l in list {
                let product = names.product(app, l.data.product_id).await?;
                rows.push((
                    l.id,
                    format!("/inspect/lots/{}", l.id),
                    vec![
                        Cell::Number(l.id as f64),
                        text(&l.data.code),
                        text(product),
                        Cell::Date(l.data.produced_on),
                        l.data.expires_on.map_or(Cell::Empty, Cell::Date),
                        l.data.quantity.map_or(Cell::Empty, Cell::Number),
                        l.data.province.map_or(Cell::Empty, |p| text(p.name)),
                        l.recalled_at
                            .map_or(Cell::Empty, |at| Cell::Date(at.date_naive())),
                        maybe(&l.recall_reason),
                    ],
                ));
            }
        }
    }
    Ok(rows)
}

fn head_words(kind: FindKind, lang: Lang) -> Vec<&'static str> {
    heads(kind)
        .iter()
        .map(|(vi, en, _)| if lang == Lang::Vi { *vi } else { *en })
        .collect()
}

#[derive(Template)]
#[template(path = "inspect/search.html")]
struct SearchPage {
    layout: Layout,
    csrf: String,
    search: Search,
    /// What the revocation form held, when it comes back refused.
    revoke: RevokeForm,
    /// The chosen kind's table, or a few of each kind.
    tables: Vec<Table>,
    /// Whether a table's kind was chosen (paged, sortable, exportable).
    one_kind: bool,
    page: i64,
    more: bool,
    provinces: Vec<&'static str>,
    errors: Invalid,
}

impl SearchPage {
    /// This search's query string with `changes` made (empty values dropped).
    fn link(&self, changes: &[(&str, String)]) -> String {
        query_of(&self.search, changes)
    }

    fn expiring_is(&self, days: impl std::borrow::Borrow<i64>) -> bool {
        self.search.expiring == Some(*days.borrow())
    }

    /// This search's query string as it is.
    fn query(&self) -> String {
        self.link(&[])
    }

    /// Whether the list offers revoking its certificates by one decision.
    fn revocable(&self) -> bool {
        self.one_kind && self.search.kind() == Some(FindKind::Certificates)
    }

    fn nothing_found(&self) -> bool {
        self.errors.errors.is_empty() && self.tables.iter().all(|t| t.rows.is_empty())
    }

    fn kind_link(&self, kind: &FindKind) -> String {
        self.link(&[("kind", kind.as_str().to_owned()), ("sort", String::new())])
    }

    /// The link that sorts by column `index` (the other way when it is the sort already).
    fn sort_link(&self, kind: &FindKind, index: &usize) -> Option<String> {
        let key = heads(*kind).get(*index)?.2;
        if key.is_empty() {
            return None;
        }
        let current = self.search.sort == key
            || (self.search.sort.is_empty() && kind.sorts().first() == Some(&key));
        let dir = if current && self.search.dir != "desc" {
            "desc"
        } else {
            ""
        };
        Some(self.link(&[
            ("sort", key.to_owned()),
            ("dir", dir.to_owned()),
            ("page", String::new()),
        ]))
    }

    fn page_link(&self, page: i64) -> String {
        self.link(&[("page", page.to_string())])
    }

    fn kind_name(&self, kind: &FindKind) -> &'static str {
        let t = self.layout.t.finding;
        match kind {
            FindKind::Producers => t.producers,
            FindKind::Products => t.products,
            FindKind::Certificates => t.certificates,
            FindKind::Lots => t.lots,
        }
    }

    fn statuses(&self) -> Vec<(&'static str, &'static str)> {
        let kind = self.search.kind().unwrap_or_default();
        finding::statuses(kind)
            .into_iter()
            .map(|s| (s, self.layout.t.finding.status_name(kind, s)))
            .collect()
    }
}

/// `search`'s query string with `changes` made, empty values dropped.
fn query_of(search: &Search, changes: &[(&str, String)]) -> String {
    let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    let mut pairs: Vec<(&str, String)> = vec![
        ("q", search.q.clone()),
        ("kind", search.kind.clone()),
        ("province", search.province.clone()),
        ("status", search.status.clone()),
        ("stars", number(search.stars)),
        ("expiring", number(search.expiring)),
        ("sort", search.sort.clone()),
        ("dir", search.dir.clone()),
    ];
    for (name, value) in changes {
        match pairs.iter_mut().find(|(n, _)| n == name) {
            Some(pair) => pair.1 = value.clone(),
            None => pairs.push((name, value.clone())),
        }
    }
    let kept: Vec<&(&str, String)> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

#[derive(serde::Deserialize)]
pub struct PageQuery {
    #[serde(flatten)]
    search: Search,
    #[serde(default, deserialize_with = "crate::domain::int_or_blank")]
    page: Option<i64>,
}

/// `/inspect/search`: the search box, its filters and what they find.
pub async fn page(
    signed: Signed,
    ctx: RequestContext,
    State(s): State<AppState>,
    Query(query): Query<PageQuery>,
) -> Result<Response, PageError> {
    search_page(
        &s,
        &signed,
        &ctx,
        query,
        RevokeForm::default(),
        Invalid::default(),
    )
    .await
}

async fn search_page(
    s: &AppState,
    signed: &Signed,
    ctx: &RequestContext,
    query: PageQuery,
    revoke: RevokeForm,
    refused: Invalid,
) -> Result<Response, PageError> {
    let search = query.search;
    // Pages past a million are no page at all (and would overflow the offset).
    let page = query.page.unwrap_or(1).clamp(1, 1_000_000);
    let mut tables = Vec::new();
    let mut more = false;
    let mut errors = Invalid::default();
    let mut names = Names::default();
    let kinds: Vec<FindKind> = match search.kind() {
        Some(kind) => vec![kind],
        None if search.is_empty() => Vec::new(),
        None => FindKind::ALL.to_vec(),
    };
    let one_kind = search.kind().is_some();
    for kind in kinds {
        let wanted = if one_kind { PER_PAGE } else { PER_KIND };
        let ask = Page::Offset {
            offset: (page - 1) * wanted,
            limit: wanted + 1,
        };
        match finding::find(&s.app, &signed.caller, &search, kind, ask).await {
            Ok(found) => {
                let mut rows = rows(&s.app, &mut names, &found, ctx.lang).await?;
                if rows.len() as i64 > wanted {
                    rows.truncate(wanted as usize);
                    more = true;
                }
                tables.push(Table {
                    kind,
                    heads: head_words(kind, ctx.lang),
                    rows,
                });
            }
            Err(crate::app::Error::Invalid(invalid)) => {
                errors = invalid;
                break;
            }
            Err(e) => return Err(e.into()),
        }
    }
    errors.errors.extend(refused.errors);
    let status = crate::web::layout::form_status(&errors);
    let layout = Layout::new(ctx.lang, ctx.lang.texts().finding.title, "/inspect");
    let provinces = crate::domain::province::PROVINCES
        .iter()
        .map(|p| p.name)
        .collect();
    let body = render(&SearchPage {
        layout,
        csrf: signed.csrf.clone(),
        search,
        revoke,
        tables,
        one_kind,
        page,
        more: more && one_kind,
        provinces,
        errors,
    })?;
    Ok((status, body).into_response())
}

/// A decision revoking the certificates ticked in a list.
#[derive(Debug, Clone, Default)]
pub struct RevokeForm {
    ids: Vec<i64>,
    decision: String,
    reason: String,
    /// The list's query string, to come back to.
    back: String,
}

/// `POST /inspect/certificates/revoke`: one decision revokes every ticked certificate.
pub async fn revoke(
    signed: Signed,
    ctx: RequestContext,
    State(s): State<AppState>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut form = RevokeForm::default();
    for (name, value) in pairs {
        match name.as_str() {
            // A tampered id is no certificate: refused as not found.
            "ids" => form.ids.push(value.trim().parse().unwrap_or(-1)),
            "decision" => form.decision = value,
            "reason" => form.reason = value,
            "back" => form.back = value,
            _ => {}
        }
    }
    let revoked = crate::app::registry::revoke_by_decision(
        &s.app,
        &signed.caller,
        &form.ids,
        &form.decision,
        &form.reason,
    )
    .await;
    let query: PageQuery = serde_urlencoded::from_str(&form.back).unwrap_or(PageQuery {
        search: Search {
            kind: FindKind::Certificates.as_str().to_owned(),
            ..Default::default()
        },
        page: None,
    });
    match revoked {
        Ok(_) => {
            let back = query_of(&query.search, &[]);
            Ok(axum::response::Redirect::to(&format!("/inspect/search?{back}")).into_response())
        }
        Err(crate::app::Error::Invalid(errors) | crate::app::Error::Conflict(errors)) => {
            let errors = errors.within("revoke");
            search_page(&s, &signed, &ctx, query, form, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `/inspect/search/export.{csv,xlsx,json}`: the chosen kind's whole list, streamed.
pub async fn export(
    signed: Signed,
    ctx: RequestContext,
    State(s): State<AppState>,
    Path(format): Path<String>,
    Query(search): Query<Search>,
) -> Result<Response, PageError> {
    let kind = search.kind().unwrap_or_default();
    // Refuse a bad filter before any byte is sent.
    finding::find(
        &s.app,
        &signed.caller,
        &search,
        kind,
        Page::After { id: 0, limit: 1 },
    )
    .await?;
    let list = Export {
        app: s.app.clone(),
        caller: signed.caller.clone(),
        search,
        kind,
        lang: ctx.lang,
    };
    let name = format!(
        "truyxuat-{}-{}",
        kind.as_str(),
        s.clock.now().format("%Y%m%d")
    );
    let (content_type, extension) = match format.as_str() {
        "export.csv" => ("text/csv; charset=utf-8", "csv"),
        "export.json" => ("application/json", "json"),
        "export.xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        _ => return Err(AppError::NotFound("export").into()),
    };
    let body = match extension {
        "xlsx" => list.xlsx().await?,
        _ => {
            let (writer, reader) = tokio::io::duplex(64 * 1024);
            let json = extension == "json";
            tokio::spawn(async move {
                if let Err(e) = list.write_text(writer, json).await {
                    tracing::info!(error = %e, "an export ended early");
                }
            });
            Body::from_stream(tokio_util::io::ReaderStream::new(reader))
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.{extension}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

/// A list being exported: read from the store a chunk at a time, by id.
struct Export {
    app: App,
    caller: Caller,
    search: Search,
    kind: FindKind,
    lang: Lang,
}

impl Export {
    /// The list's chunks, in id order.
    fn chunks(&self) -> ChunkReader<'_> {
        ChunkReader {
            export: self,
            after: 0,
            done: false,
        }
    }

    /// CSV (a BOM first, so that Excel reads UTF-8) or a JSON array of the records.
    async fn write_text(
        self,
        mut out: tokio::io::DuplexStream,
        json: bool,
    ) -> Result<(), anyhow::Error> {
        let mut names = Names::default();
        let mut reader = self.chunks();
        let mut first = true;
        if json {
            out.write_all(b"[").await?;
        } else {
            let mut head = csv::Writer::from_writer(Vec::from(&b"\xEF\xBB\xBF"[..]));
            head.write_record(head_words(self.kind, self.lang))?;
            out.write_all(&head.into_inner()?).await?;
        }
        while let Some(found) = reader.next().await? {
            let mut buffer = Vec::with_capacity(64 * 1024);
            if json {
                for value in records_json(&found)? {
                    if !first {
                        buffer.push(b',');
                    }
                    first = false;
                    buffer.push(b'\n');
                    serde_json::to_writer(&mut buffer, &value)?;
                }
            } else {
                let mut csv = csv::Writer::from_writer(buffer);
                for (_, _, cells) in rows(&self.app, &mut names, &found, self.lang).await? {
                    csv.write_record(cells.iter().map(csv_cell))?;
                }
                buffer = csv.into_inner()?;
            }
            out.write_all(&buffer).await?;
        }
        if json {
            out.write_all(b"\n]\n").await?;
        }
        out.shutdown().await?;
        Ok(())
    }

    /// A workbook of the list, written row by row to a file in constant memory, then sent.
    async fn xlsx(self) -> Result<Body, AppError> {
        // A bounded channel the async side awaits on and the writer's thread blocks on.
        let (rows_in, rows_out) = tokio::sync::mpsc::channel::<Vec<Vec<Cell>>>(2);
        let heads = head_words(self.kind, self.lang);
        let sheet_name = match self.lang {
            Lang::Vi => "Danh sách",
            Lang::En => "List",
        };
        let writer =
            tokio::task::spawn_blocking(move || write_workbook(sheet_name, &heads, rows_out));
        let mut names = Names::default();
        let mut reader = self.chunks();
        while let Some(found) = reader.next().await? {
            let rows = rows(&self.app, &mut names, &found, self.lang).await?;
            let cells = rows.into_iter().map(|(_, _, cells)| cells).collect();
            if rows_in.send(cells).await.is_err() {
                break;
            }
        }
        drop(rows_in);
        let file = writer
            .await
            .map_err(|e| AppError::Internal(format!("workbook: {e}")))?
            .map_err(|e| AppError::Internal(format!("workbook: {e}")))?;
        let file = tokio::fs::File::from_std(file);
        Ok(Body::from_stream(tokio_util::io::ReaderStream::new(file)))
    }
}

struct ChunkReader<'a> {
    export: &'a Export,
    after: i64,
    done: bool,
}

impl ChunkReader<'_> {
    async fn next(&mut self) -> Result<Option<FoundRecords>, AppError> {
        if self.done {
            return Ok(None);
        }
        let e = self.export;
        let page = Page::After {
            id: self.after,
            limit: EXPORT_CHUNK,
        };
        let found = finding::find(&e.app, &e.caller, &e.search, e.kind, page).await?;
        if (found.len() as i64) < EXPORT_CHUNK {
            self.done = true;
        }
        match found.last_id() {
            Some(id) => {
                self.after = id;
                Ok(Some(found))
            }
            None => Ok(None),
        }
    }
}

/// A cell as CSV text: dates in ISO form (unambiguous in every spreadsheet's locale); a
/// text a spreadsheet would take for a formula (a producer may name a product
/// `=HYPERLINK(…)`) behind an apostrophe, as OWASP advises, so that it opens as text.
fn csv_cell(cell: &Cell) -> String {
    match cell {
        Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        Cell::Text(t) if t.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{t}"),
        other => other.to_string(),
    }
}

fn records_json(found: &FoundRecords) -> Result<Vec<serde_json::Value>, serde_json::Error> {
    match found {
        FoundRecords::Producers(v) => v.iter().map(serde_json::to_value).collect(),
        FoundRecords::Products(v) => v.iter().map(serde_json::to_value).collect(),
        FoundRecords::Certificates(v) => v.iter().map(serde_json::to_value).collect(),
        FoundRecords::Lots(v) => v.iter().map(serde_json::to_value).collect(),
    }
}

/// Writes the rows that arrive into a workbook in a temporary file; returns it, rewound.
fn write_workbook(
    sheet_name: &str,
    heads: &[&str],
    mut rows: tokio::sync::mpsc::Receiver<Vec<Vec<Cell>>>,
) -> Result<std::fs::File, anyhow::Error> {
    use rust_xlsxwriter::{Format, Workbook};
    use std::io::Seek;
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let sheet = workbook.add_worksheet_with_constant_memory();
    sheet.set_name(sheet_name)?;
    for (col, head) in heads.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *head, &bold)?;
    }
    let mut row = 1u32;
    while let Some(chunk) = rows.blocking_recv() {
        for cells in chunk {
            for (col, cell) in cells.iter().enumerate() {
                let col = col as u16;
                match cell {
                    Cell::Text(t) => {
                        sheet.write_string(row, col, t)?;
                    }
                    Cell::Number(n) => {
                        sheet.write_number(row, col, *n)?;
                    }
                    Cell::Date(d) => {
                        use chrono::Datelike;
                        let day = rust_xlsxwriter::ExcelDateTime::from_ymd(
                            d.year() as u16,
                            d.month() as u8,
                            d.day() as u8,
                        )?;
                        sheet.write_date_with_format(row, col, &day, &date)?;
                    }
                    Cell::Empty => {}
                }
            }
            row += 1;
        }
    }
    let mut file = tempfile::tempfile()?;
    workbook.save_to_writer(&mut file)?;
    file.rewind()?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_cell_a_spreadsheet_would_run_opens_as_text() {
        for formula in [
            "=HYPERLINK(\"http://x\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
        ] {
            assert_eq!(csv_cell(&text(formula)), format!("'{formula}"));
        }
        assert_eq!(csv_cell(&text("Gạo Nàng Thơm")), "Gạo Nàng Thơm");
        assert_eq!(csv_cell(&Cell::Number(-3.5)), "-3.5");
        let day = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
        assert_eq!(csv_cell(&Cell::Date(day)), "2026-03-31");
    }
}
