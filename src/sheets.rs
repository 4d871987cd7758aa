//! Spreadsheets a cooperative keeps its lists in: the template to fill in, reading a filled
//! XLSX or CSV into rows, and writing rows back out (an export of the registry, or the rows
//! an import refused with why). Pure: no store, no permissions; `app::imports` decides what
//! the rows mean.
//!
//! Every sheet has a header row, a description row and an example row; data starts on row
//! 4. The importer skips the description and example rows when they are as the template
//! wrote them, and any blank row.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader};
use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, Format, Formula, Workbook, Worksheet, XlsxError,
};
use unicode_normalization::UnicodeNormalization;

use strum::IntoEnumIterator;

use crate::domain::certification::CertKind;
use crate::domain::province::PROVINCES;

/// Which list a sheet holds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Products,
    Lots,
    Certificates,
    /// What happened to the lots: harvests, processing, packing, shipping, receiving.
    Events,
}

/// A column of a sheet: the field it fills, and what the template says about it.
pub struct Column {
    pub field: &'static str,
    pub header: &'static str,
    pub description: &'static str,
    pub example: &'static str,
    pub required: bool,
    /// The column of the hidden list sheet its dropdown offers, if any.
    pub list: Option<List>,
}

/// The dropdown lists, kept on a hidden sheet (34 province names exceed the 255
/// characters Excel allows in a list typed into the validation itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Categories,
    Provinces,
    /// The product names of the products sheet.
    ProductNames,
    /// The kinds of certificate, by the names a person reads.
    CertificateKinds,
    /// The authorities in truyxuat that issue certificates.
    Issuers,
    /// The steps a cooperative records.
    Steps,
}

const fn column(
    field: &'static str,
    header: &'static str,
    description: &'static str,
    example: &'static str,
    required: bool,
    list: Option<List>,
) -> Column {
    Column {
        field,
        header,
        description,
        example,
        required,
        list,
    }
}

pub const PRODUCT_COLUMNS: [Column; 7] = [
    column(
        "id",
        "Mã số",
        "Để trống khi thêm mới; tệp xuất từ truyxuat có sẵn mã số để sửa đúng sản phẩm",
        "",
        false,
        None,
    ),
    column(
        "name",
        "Tên sản phẩm",
        "Bắt buộc",
        "Chè Ô Long Cầu Đất",
        true,
        None,
    ),
    column(
        "category",
        "Nhóm hàng",
        "Bắt buộc; chọn trong danh sách hoặc gõ nhóm khác",
        "Đồ uống",
        true,
        Some(List::Categories),
    ),
    column("unit", "Đơn vị tính", "Bắt buộc", "gói 200 g", true, None),
    column(
        "gtin",
        "Mã GTIN",
        "8, 12, 13 hoặc 14 chữ số; để trống nếu chưa có",
        "8935000000019",
        false,
        None,
    ),
    column(
        "growing_area_code",
        "Mã vùng trồng",
        "Không bắt buộc",
        "",
        false,
        None,
    ),
    column("description", "Mô tả", "Không bắt buộc", "", false, None),
];

pub const LOT_COLUMNS: [Column; 8] = [
    column(
        "product",
        "Sản phẩm",
        "Bắt buộc: tên sản phẩm (như ở trang Sản phẩm) hoặc mã GTIN",
        "Chè Ô Long Cầu Đất",
        true,
        Some(List::ProductNames),
    ),
    column(
        "code",
        "Mã lô",
        "Bắt buộc; không trùng trong cùng sản phẩm",
        "CD-2026-11",
        true,
        None,
    ),
    column(
        "produced_on",
        "Ngày sản xuất / thu hoạch",
        "Bắt buộc; ngày/tháng/năm",
        "15/11/2026",
        true,
        None,
    ),
    column(
        "expires_on",
        "Hạn sử dụng",
        "Không bắt buộc; ngày/tháng/năm",
        "15/11/2027",
        false,
        None,
    ),
    column(
        "quantity",
        "Số lượng",
        "Không bắt buộc; một con số",
        "1200",
        false,
        None,
    ),
    column(
        "growing_area",
        "Vùng trồng",
        "Không bắt buộc",
        "Đồi chè Cầu Đất",
        false,
        None,
    ),
    column(
        "commune",
        "Xã / phường",
        "Không bắt buộc",
        "Xuân Trường",
        false,
        None,
    ),
    column(
        "province",
        "Tỉnh / thành phố",
        "Không bắt buộc; chọn trong danh sách",
        "Lâm Đồng",
        false,
        Some(List::Provinces),
    ),
];

pub const CERTIFICATE_COLUMNS: [Column; 9] = [
    column(
        "id",
        "Mã số",
        "Để trống khi thêm mới; tệp xuất từ truyxuat có sẵn mã số để sửa đúng giấy chứng nhận",
        "",
        false,
        None,
    ),
    column(
        "kind",
        "Loại chứng nhận",
        "Bắt buộc; chọn trong danh sách",
        "OCOP",
        true,
        Some(List::CertificateKinds),
    ),
    column(
        "number",
        "Số giấy chứng nhận",
        "Bắt buộc; không trùng với giấy khác của cùng cơ quan cấp",
        "1234/QĐ-UBND",
        true,
        None,
    ),
    column(
        "issuer",
        "Cơ quan cấp",
        "Bắt buộc; chọn trong danh sách các cơ quan có trong truyxuat",
        "UBND tỉnh Lâm Đồng",
        true,
        Some(List::Issuers),
    ),
    column(
        "product",
        "Sản phẩm",
        "Tên sản phẩm hoặc mã GTIN; để trống nếu giấy cấp cho cả cơ sở",
        "Chè Ô Long Cầu Đất",
        false,
        Some(List::ProductNames),
    ),
    column(
        "ocop_stars",
        "Số sao OCOP",
        "Chỉ với OCOP: 3, 4 hoặc 5",
        "4",
        false,
        None,
    ),
    column(
        "issued_on",
        "Ngày cấp",
        "Bắt buộc; ngày/tháng/năm",
        "20/03/2025",
        true,
        None,
    ),
    column(
        "valid_until",
        "Hiệu lực đến",
        "Bắt buộc; ngày/tháng/năm (OCOP tối đa 36 tháng, VietGAP 24 tháng)",
        "19/03/2028",
        true,
        None,
    ),
    column("scope", "Phạm vi", "Không bắt buộc", "", false, None),
];

pub const EVENT_COLUMNS: [Column; 12] = [
    column(
        "step",
        "Việc",
        "Bắt buộc: Thu hoạch, Chế biến, Đóng gói, Xuất hàng hoặc Nhận hàng",
        "Thu hoạch",
        true,
        Some(List::Steps),
    ),
    column(
        "product",
        "Sản phẩm",
        "Bắt buộc: tên sản phẩm hoặc mã GTIN",
        "Chè Ô Long Cầu Đất",
        true,
        Some(List::ProductNames),
    ),
    column(
        "lot",
        "Mã lô",
        "Bắt buộc: một lô của sản phẩm (ở trang Lô hàng, hoặc đã có trong truyxuat)",
        "CD-2026-11",
        true,
        None,
    ),
    column(
        "inputs",
        "Làm từ các lô",
        "Khi chế biến: mã các lô nguyên liệu, cách nhau bởi dấu ;",
        "",
        false,
        None,
    ),
    column(
        "date",
        "Ngày",
        "Bắt buộc; ngày/tháng/năm",
        "15/11/2026",
        true,
        None,
    ),
    column(
        "time",
        "Giờ",
        "Không bắt buộc; giờ:phút (để trống: 00:00)",
        "06:30",
        false,
        None,
    ),
    column(
        "quantity",
        "Số lượng",
        "Không bắt buộc; một con số",
        "950",
        false,
        None,
    ),
    column(
        "unit",
        "Đơn vị",
        "kg, tấn, g, lít hoặc cái (để trống: kg)",
        "kg",
        false,
        None,
    ),
    column(
        "place",
        "Nơi",
        "Không bắt buộc: vườn, xưởng, cửa hàng",
        "Đồi chè Cầu Đất",
        false,
        None,
    ),
    column(
        "plot",
        "Mã số vùng trồng",
        "Không bắt buộc",
        "VT-LD-0107",
        false,
        None,
    ),
    column(
        "commune",
        "Xã / phường",
        "Không bắt buộc",
        "Xuân Trường",
        false,
        None,
    ),
    column(
        "province",
        "Tỉnh / thành phố",
        "Không bắt buộc; chọn trong danh sách",
        "Lâm Đồng",
        false,
        Some(List::Provinces),
    ),
];

/// The steps as the events sheet's list offers them ("Thu hoạch").
pub fn step_names() -> Vec<&'static str> {
    crate::domain::epcis::record::RECORDABLE
        .iter()
        .map(|k| k.label_vi().split(", ").next().unwrap_or_default())
        .collect()
}

/// The product groups of the OCOP programme, offered (not imposed) as categories.
pub const CATEGORIES: [&str; 6] = [
    "Thực phẩm",
    "Đồ uống",
    "Thảo dược",
    "Vải và may mặc",
    "Lưu niệm, nội thất, trang trí",
    "Dịch vụ du lịch cộng đồng",
];

impl Kind {
    pub fn sheet(self) -> &'static str {
        match self {
            Kind::Products => "Sản phẩm",
            Kind::Lots => "Lô hàng",
            Kind::Certificates => "Chứng nhận",
            Kind::Events => "Nhật ký lô hàng",
        }
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            Kind::Products => &PRODUCT_COLUMNS,
            Kind::Lots => &LOT_COLUMNS,
            Kind::Certificates => &CERTIFICATE_COLUMNS,
            Kind::Events => &EVENT_COLUMNS,
        }
    }

    pub const ALL: [Kind; 4] = [Kind::Products, Kind::Lots, Kind::Certificates, Kind::Events];
}

/// The hidden sheet of dropdown lists.
const LISTS_SHEET: &str = "Danh mục";
/// The header of the column an error file adds.
pub const ERROR_HEADER: &str = "Lỗi";
/// Rows a template offers dropdowns on.
const TEMPLATE_ROWS: u32 = 10_000;
/// The first data row (0-based): after the header, description and example rows.
const FIRST_DATA_ROW: u32 = 3;

/// One row of a sheet as typed: its sheet, its row number as Excel shows it (from 1), and
/// its cells by field.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub kind: Kind,
    pub number: u32,
    pub cells: HashMap<&'static str, String>,
}

impl Row {
    /// The cell of `field`, trimmed; empty when absent.
    pub fn get(&self, field: &str) -> &str {
        self.cells.get(field).map_or("", |s| s.trim())
    }

    /// The cell of `field`, or None when blank.
    pub fn optional(&self, field: &str) -> Option<String> {
        Some(self.get(field).to_owned()).filter(|s| !s.is_empty())
    }
}

/// The rows of a file, by sheet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SheetFile {
    pub products: Vec<Row>,
    pub lots: Vec<Row>,
    pub certificates: Vec<Row>,
    pub events: Vec<Row>,
}

impl SheetFile {
    pub fn rows(&self, kind: Kind) -> &[Row] {
        match kind {
            Kind::Products => &self.products,
            Kind::Lots => &self.lots,
            Kind::Certificates => &self.certificates,
            Kind::Events => &self.events,
        }
    }

    fn rows_mut(&mut self, kind: Kind) -> &mut Vec<Row> {
        match kind {
            Kind::Products => &mut self.products,
            Kind::Lots => &mut self.lots,
            Kind::Certificates => &mut self.certificates,
            Kind::Events => &mut self.events,
        }
    }

    pub fn is_empty(&self) -> bool {
        Kind::ALL.iter().all(|k| self.rows(*k).is_empty())
    }
}

/// The spreadsheet column letter of column `index` (0: A).
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// Where `field` is in `kind`'s sheet, as "C (Nhóm hàng)".
pub fn column_name(kind: Kind, field: &str) -> String {
    match kind.columns().iter().position(|c| c.field == field) {
        Some(i) => format!("{} ({})", column_letter(i), kind.columns()[i].header),
        None => String::new(),
    }
}

/// Why a file could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Unreadable(String),
}

fn unreadable(message: impl Into<String>) -> ReadError {
    ReadError::Unreadable(message.into())
}

/// A header as compared: NFC, lower case, without the " *" that marks a required column.
fn normalized(s: &str) -> String {
    let s = s.trim().trim_end_matches('*').trim();
    s.nfc().collect::<String>().to_lowercase()
}

/// Maps a header row to the columns of a kind: for each cell position, the field it fills.
fn header_fields(kind: Kind, header: &[String]) -> Vec<Option<&'static str>> {
    header
        .iter()
        .map(|h| {
            let h = normalized(h);
            kind.columns()
                .iter()
                .find(|c| normalized(c.header) == h || c.field == h)
                .map(|c| c.field)
        })
        .collect()
}

/// The kind whose header this is, if any: it names every required column of the kind.
fn kind_of_header(header: &[String]) -> Option<Kind> {
    Kind::ALL.into_iter().find(|kind| {
        let fields = header_fields(*kind, header);
        kind.columns()
            .iter()
            .filter(|c| c.required)
            .all(|c| fields.contains(&Some(c.field)))
    })
}

/// Whether a row is the template's own description or example row.
fn is_template_row(kind: Kind, cells: &HashMap<&'static str, String>) -> bool {
    let matches = |text: fn(&Column) -> &'static str| {
        kind.columns()
            .iter()
            .all(|c| cells.get(c.field).map_or("", |s| s.trim()) == text(c))
    };
    matches(|c| c.description) || matches(|c| c.example)
}

/// Rows of one sheet's cells (already strings), numbered from `first_number`.
fn rows_of(kind: Kind, header: &[String], body: Vec<(u32, Vec<String>)>) -> Vec<Row> {
    let fields = header_fields(kind, header);
    let mut rows = Vec::new();
    for (number, cells) in body {
        let mut by_field = HashMap::new();
        for (i, value) in cells.into_iter().enumerate() {
            if let Some(Some(field)) = fields.get(i) {
                by_field.insert(*field, value);
            }
        }
        if by_field.values().all(|v| v.trim().is_empty()) || is_template_row(kind, &by_field) {
            continue;
        }
        rows.push(Row {
            kind,
            number,
            cells: by_field,
        });
    }
    rows
}

/// A cell as the text a person typed: whole numbers without ".0" (a GTIN typed as a
/// number), dates as YYYY-MM-DD.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        // A time of day alone is a date-time on Excel's day zero.
        Data::DateTime(d) => d
            .as_datetime()
            .map(|t| match t.date().to_string().as_str() {
                "1899-12-30" | "1899-12-31" => t.time().format("%H:%M").to_string(),
                _ => t.date().format("%Y-%m-%d").to_string(),
            })
            .unwrap_or_default(),
        Data::DateTimeIso(s) => s.chars().take(10).collect(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(_) | Data::Empty => String::new(),
    }
}

/// Reads an XLSX workbook: every sheet whose header names a kind's required columns.
pub fn read_xlsx(bytes: &[u8]) -> Result<SheetFile, ReadError> {
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| unreadable(format!("không đọc được tệp Excel (.xlsx): {e}")))?;
    let mut file = SheetFile::default();
    for name in workbook.sheet_names() {
        if name == LISTS_SHEET {
            continue;
        }
        let range = workbook
            .worksheet_range(&name)
            .map_err(|e| unreadable(format!("không đọc được trang '{name}': {e}")))?;
        let Some((first_row, _)) = range.start() else {
            continue;
        };
        let mut lines = range.rows().enumerate().map(|(i, cells)| {
            let number = first_row + i as u32 + 1;
            (number, cells.iter().map(cell_text).collect::<Vec<_>>())
        });
        let Some((_, header)) = lines.next() else {
            continue;
        };
        let Some(kind) = kind_of_header(&header) else {
            continue;
        };
        let rows = rows_of(kind, &header, lines.collect());
        file.rows_mut(kind).extend(rows);
    }
    if file.is_empty() {
        return Err(unreadable(
            "tệp không có trang nào có tiêu đề như tệp mẫu (Sản phẩm, Lô hàng, Chứng nhận, Nhật ký lô hàng), hoặc không có dòng dữ liệu nào",
        ));
    }
    Ok(file)
}

/// Reads a CSV file (UTF-8, as Excel's "CSV UTF-8" saves it): one list, told by its header.
pub fn read_csv(bytes: &[u8]) -> Result<SheetFile, ReadError> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        unreadable("tệp CSV không phải UTF-8: trong Excel, chọn Lưu thành \"CSV UTF-8\"")
    })?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    // Excel writes a semicolon-separated CSV where the decimal mark is a comma.
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut records = reader.records().enumerate().map(|(i, r)| {
        r.map(|r| {
            (
                i as u32 + 1,
                r.iter().map(str::to_owned).collect::<Vec<_>>(),
            )
        })
        .map_err(|e| unreadable(format!("dòng {} của tệp CSV: {e}", i + 1)))
    });
    let (_, header) = records
        .next()
        .ok_or_else(|| unreadable("tệp CSV trống"))??;
    let kind = kind_of_header(&header).ok_or_else(|| {
        unreadable(
            "dòng đầu của tệp CSV không phải tiêu đề như tệp mẫu (Sản phẩm, Lô hàng, Chứng nhận hoặc Nhật ký lô hàng)",
        )
    })?;
    let body = records.collect::<Result<Vec<_>, _>>()?;
    let mut file = SheetFile::default();
    *file.rows_mut(kind) = rows_of(kind, &header, body);
    Ok(file)
}

fn xlsx(e: XlsxError) -> String {
    format!("cannot write the workbook: {e}")
}

/// Writes a sheet's header, description and example rows, its dropdowns and widths.
fn sheet_head(
    sheet: &mut Worksheet,
    kind: Kind,
    extra_header: Option<&str>,
    issuers: usize,
) -> Result<(), String> {
    let bold = Format::new().set_bold().set_background_color("#E8F0E8");
    let muted = Format::new()
        .set_italic()
        .set_font_color("#666666")
        .set_text_wrap();
    sheet.set_name(kind.sheet()).map_err(xlsx)?;
    for (i, c) in kind.columns().iter().enumerate() {
        let col = i as u16;
        let header = if c.required {
            format!("{} *", c.header)
        } else {
            c.header.to_owned()
        };
        sheet
            .write_string_with_format(0, col, header, &bold)
            .map_err(xlsx)?;
        sheet
            .write_string_with_format(1, col, c.description, &muted)
            .map_err(xlsx)?;
        sheet
            .write_string_with_format(2, col, c.example, &muted)
            .map_err(xlsx)?;
        sheet
            .set_column_width(col, (c.header.chars().count() as f64 + 6.0).max(16.0))
            .map_err(xlsx)?;
        if let Some(list) = c.list {
            let range = match list {
                List::Categories => format!("='{LISTS_SHEET}'!$A$1:$A${}", CATEGORIES.len()),
                List::Provinces => format!("='{LISTS_SHEET}'!$B$1:$B${}", PROVINCES.len()),
                List::ProductNames => {
                    format!("='{}'!$B$4:$B${TEMPLATE_ROWS}", Kind::Products.sheet())
                }
                List::CertificateKinds => {
                    format!("='{LISTS_SHEET}'!$C$1:$C${}", CertKind::iter().count())
                }
                // At least one row, so that the formula stays valid with no issuer known.
                List::Issuers => format!("='{LISTS_SHEET}'!$D$1:$D${}", issuers.max(1)),
                List::Steps => format!("='{LISTS_SHEET}'!$E$1:$E${}", step_names().len()),
            };
            // A warning, not a stop: a name not in the list may still be right (a product
            // already in truyxuat, a category the list lacks).
            let validation = DataValidation::new()
                .allow_list_formula(Formula::new(range))
                .set_error_style(DataValidationErrorStyle::Warning)
                .ignore_blank(true);
            sheet
                .add_data_validation(FIRST_DATA_ROW, col, TEMPLATE_ROWS, col, &validation)
                .map_err(xlsx)?;
        }
    }
    if let Some(extra) = extra_header {
        let red = Format::new().set_bold().set_font_color("#B00020");
        let col = kind.columns().len() as u16;
        sheet
            .write_string_with_format(0, col, extra, &red)
            .map_err(xlsx)?;
        sheet.set_column_width(col, 60).map_err(xlsx)?;
    }
    // The header stays in sight while scrolling.
    sheet.set_freeze_panes(1, 0).map_err(xlsx)?;
    // Every cell is text, so that a GTIN keeps its leading zero and a lot code stays as typed.
    let text = Format::new().set_num_format("@");
    for i in 0..kind.columns().len() {
        sheet.set_column_format(i as u16, &text).map_err(xlsx)?;
    }
    Ok(())
}

fn lists_sheet(workbook: &mut Workbook, issuers: &[String]) -> Result<(), String> {
    let sheet = workbook.add_worksheet();
    sheet.set_name(LISTS_SHEET).map_err(xlsx)?;
    for (i, c) in CATEGORIES.iter().enumerate() {
        sheet.write_string(i as u32, 0, *c).map_err(xlsx)?;
    }
    for (i, p) in PROVINCES.iter().enumerate() {
        sheet.write_string(i as u32, 1, p.name).map_err(xlsx)?;
    }
    for (i, k) in CertKind::iter().enumerate() {
        sheet.write_string(i as u32, 2, k.label()).map_err(xlsx)?;
    }
    for (i, name) in issuers.iter().enumerate() {
        sheet.write_string(i as u32, 3, name).map_err(xlsx)?;
    }
    for (i, step) in step_names().iter().enumerate() {
        sheet.write_string(i as u32, 4, *step).map_err(xlsx)?;
    }
    sheet.set_hidden(true);
    Ok(())
}

/// A workbook of the template's sheets holding `rows` (by kind, each row's cells in column
/// order), and an error column when `errors` is given (one text per row). `issuers` are
/// the names the issuer column offers.
pub fn workbook(
    rows: &[(Kind, Vec<Vec<String>>)],
    errors: Option<&[(Kind, Vec<String>)]>,
    issuers: &[String],
) -> Result<Vec<u8>, String> {
    let mut workbook = Workbook::new();
    for kind in Kind::ALL {
        let sheet = workbook.add_worksheet();
        let extra = errors.map(|_| ERROR_HEADER);
        sheet_head(sheet, kind, extra, issuers.len())?;
        let data = rows
            .iter()
            .filter(|(k, _)| *k == kind)
            .flat_map(|(_, r)| r.iter());
        let messages = errors
            .into_iter()
            .flatten()
            .filter(|(k, _)| *k == kind)
            .flat_map(|(_, m)| m.iter());
        let mut messages = messages.peekable();
        for (i, cells) in data.enumerate() {
            let row = FIRST_DATA_ROW + i as u32;
            for (col, value) in cells.iter().enumerate() {
                if !value.is_empty() {
                    sheet.write_string(row, col as u16, value).map_err(xlsx)?;
                }
            }
            if errors.is_some() {
                if let Some(message) = messages.next() {
                    let col = kind.columns().len() as u16;
                    sheet.write_string(row, col, message).map_err(xlsx)?;
                }
            }
        }
    }
    lists_sheet(&mut workbook, issuers)?;
    workbook.save_to_buffer().map_err(xlsx)
}

/// The empty template, offering `issuers` in the issuer column.
pub fn template(issuers: &[String]) -> Result<Vec<u8>, String> {
    workbook(&[], None, issuers)
}

/// A row's cells in its sheet's column order.
pub fn cells_in_order(row: &Row) -> Vec<String> {
    row.kind
        .columns()
        .iter()
        .map(|c| row.cells.get(c.field).cloned().unwrap_or_default())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters_run_past_z() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_name(Kind::Products, "category"), "C (Nhóm hàng)");
    }

    #[test]
    fn the_template_reads_back_as_no_rows_and_filled_rows_as_typed() {
        let template = template(&[]).unwrap();
        assert!(read_xlsx(&template).is_err(), "the template holds no data");
        let product: Vec<String> = ["", "Chè Xanh", "Đồ uống", "gói", "8935000000026", "", ""]
            .map(str::to_owned)
            .to_vec();
        let lot: Vec<String> = ["Chè Xanh", "L1", "2026-11-15", "", "12", "", "", "Lâm Đồng"]
            .map(str::to_owned)
            .to_vec();
        let filled = workbook(
            &[(Kind::Products, vec![product]), (Kind::Lots, vec![lot])],
            None,
            &[],
        )
        .unwrap();
        let file = read_xlsx(&filled).unwrap();
        assert_eq!(file.products.len(), 1);
        assert_eq!(file.products[0].number, 4);
        assert_eq!(file.products[0].get("gtin"), "8935000000026");
        assert_eq!(file.lots[0].get("province"), "Lâm Đồng");
    }

    #[test]
    fn csv_with_semicolons_and_a_bom_reads_by_its_header() {
        let csv =
            "\u{FEFF}Tên sản phẩm;Nhóm hàng;Đơn vị tính;Mã GTIN\r\nChè;Đồ uống;gói;\r\n;;;\r\n";
        let file = read_csv(csv.as_bytes()).unwrap();
        assert_eq!(file.products.len(), 1);
        assert_eq!(file.products[0].number, 2);
        assert_eq!(file.products[0].get("name"), "Chè");
        assert!(read_csv(b"a,b\n1,2\n").is_err());
        assert!(read_csv(&[0xff, 0xfe, 0x00]).is_err());
    }
}
