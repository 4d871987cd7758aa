//! A cooperative's Excel lists in and out: a workbook written by another program (Python's
//! openpyxl) with bad rows, all or nothing, the valid rows only, the same file again, an
//! export that imports back unchanged; and the same through the console's upload form.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use axum::http::StatusCode;
use base64::Engine;
use truyxuat::app::imports::{self, Options};
use truyxuat::app::{Caller, accounts};
use truyxuat::domain::people::{Membership, PersonInput, Role};
use truyxuat::sheets::{self, Kind};
use truyxuat::store::Store;
use unicode_normalization::UnicodeNormalization;

use crate::support::changes::{Changes, app_at};
use crate::support::db::TestDb;
use crate::support::fixtures::{self, now};
use crate::support::http::{FilePart, PASSWORD, Reply, Session, TestApp};

mod sqlite {
    #[tokio::test]
    async fn five_thousand_rows_from_openpyxl_with_bad_rows() {
        let db = super::TestDb::sqlite().await;
        super::five_thousand_rows(db.store.clone()).await;
        db.finish().await;
    }

    #[tokio::test]
    async fn certificates_name_their_issuer_and_product_and_export_back_unchanged() {
        let db = super::TestDb::sqlite().await;
        super::certificates_by_issuer_and_product(db.store.clone()).await;
        db.finish().await;
    }

    #[tokio::test]
    async fn a_lot_diary_sheet_becomes_epcis_events_once() {
        let db = super::TestDb::sqlite().await;
        super::lot_diary_sheet(db.store.clone()).await;
        db.finish().await;
    }
}

mod postgres {
    #[tokio::test]
    async fn five_thousand_rows_from_openpyxl_with_bad_rows() {
        let db = super::TestDb::postgres().await;
        super::five_thousand_rows(db.store.clone()).await;
        db.finish().await;
    }

    #[tokio::test]
    async fn certificates_name_their_issuer_and_product_and_export_back_unchanged() {
        let db = super::TestDb::postgres().await;
        super::certificates_by_issuer_and_product(db.store.clone()).await;
        db.finish().await;
    }

    #[tokio::test]
    async fn a_lot_diary_sheet_becomes_epcis_events_once() {
        let db = super::TestDb::postgres().await;
        super::lot_diary_sheet(db.store.clone()).await;
        db.finish().await;
    }
}

fn python() -> std::path::PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/.venv/bin/python");
    assert!(
        venv.exists(),
        "openpyxl is missing: `make test` installs it (tests/.venv, make test-deps)"
    );
    venv
}

/// A products workbook of `rows` rows written by openpyxl, and its broken cells (row,
/// column letter).
fn openpyxl_products(path: &Path, rows: usize) -> Vec<(u32, String)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sheets/make_products.py");
    let out = Command::new(python())
        .arg(script)
        .arg(path)
        .arg(rows.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["row"].as_u64().unwrap() as u32,
                v["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn audit_entries(store: &Arc<dyn Store>) -> i64 {
    store.audit_size().await.unwrap()
}

async fn five_thousand_rows(store: Arc<dyn Store>) {
    let app = app_at(&store, now());
    let cli = Caller::cli();
    let coop = store
        .create_organization(&fixtures::cooperative("HTX Chè Cầu Đất").build(), now())
        .await
        .unwrap()
        .id;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("san-pham.xlsx");
    let broken = openpyxl_products(&path, 5000);
    assert!(broken.len() >= 150, "{}", broken.len());
    let file = sheets::read_xlsx(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(file.products.len(), 5000);

    // All or nothing: every bad row reported once, in its row and column; nothing stored.
    let before = audit_entries(&store).await;
    let refused = imports::import_sheets(&app, &cli, coop, &file, Options::default())
        .await
        .unwrap();
    let mut reported: Vec<(u32, String)> = refused
        .errors
        .iter()
        .map(|e| (e.row, e.column.split(' ').next().unwrap().to_owned()))
        .collect();
    reported.sort();
    assert_eq!(reported, broken);
    assert!(refused.errors.iter().all(|e| e.sheet == "Sản phẩm"));
    assert!(!refused.stored);
    assert!(store.products_of(coop).await.unwrap().is_empty());
    assert_eq!(audit_entries(&store).await, before);

    // The valid rows only: exactly the good rows, names in NFC.
    let valid = Options {
        valid_rows_only: true,
        ..Default::default()
    };
    let stored = imports::import_sheets(&app, &cli, coop, &file, valid)
        .await
        .unwrap();
    let good = 5000 - broken.len();
    assert!(stored.stored);
    assert_eq!(stored.created.products, good);
    let products = store.products_of(coop).await.unwrap();
    assert_eq!(products.len(), good);
    let first = products
        .iter()
        .find(|p| p.data.name.starts_with("Ch"))
        .unwrap();
    assert_eq!(first.data.name, first.data.name.nfc().collect::<String>());
    assert!(products.iter().any(|p| p.data.name == "Chè Ô Long số 0"));
    let after_first = audit_entries(&store).await;
    assert_eq!(after_first, before + good as i64, "one entry a product");

    // The same file again changes nothing.
    let again = imports::import_sheets(&app, &cli, coop, &file, valid)
        .await
        .unwrap();
    assert_eq!(again.created.products + again.updated.products, 0);
    assert_eq!(again.unchanged.products, good);
    assert_eq!(audit_entries(&store).await, after_first);

    // The export imports back without a difference, all or nothing.
    let exported = imports::export(&app, &cli, coop).await.unwrap();
    let back = sheets::read_xlsx(&exported).unwrap();
    assert_eq!(back.products.len(), good);
    let round = imports::import_sheets(&app, &cli, coop, &back, Options::default())
        .await
        .unwrap();
    assert!(
        round.errors.is_empty(),
        "{:?}",
        &round.errors[..3.min(round.errors.len())]
    );
    assert_eq!(round.unchanged.products, good);
    assert_eq!(audit_entries(&store).await, after_first);
}

/// An editor of a new cooperative, signed in.
async fn editor(app: &TestApp) -> (i64, Session) {
    let coop = app
        .db
        .store
        .create_organization(&fixtures::cooperative("HTX Chè Cầu Đất").build(), now())
        .await
        .unwrap()
        .id;
    let input = PersonInput {
        login: "bientap@htx.vn".into(),
        display_name: "Biên tập".into(),
    }
    .validate()
    .unwrap();
    accounts::create_person(
        &app.app,
        &Caller::cli(),
        &input,
        &[Membership::of(coop, Role::Editor)],
        Some(PASSWORD),
    )
    .await
    .unwrap();
    (coop, app.sign_in("bientap@htx.vn", PASSWORD).await.unwrap())
}

/// Posts the console's upload form as a browser does.
async fn upload(
    app: &TestApp,
    session: &Session,
    producer: i64,
    file: &[u8],
    action: &str,
    valid_rows_only: bool,
) -> Reply {
    let producer = producer.to_string();
    let mut fields = vec![("producer_id", producer.as_str())];
    if valid_rows_only {
        fields.push(("valid_rows_only", "1"));
    }
    fields.push(("action", action));
    let file = FilePart {
        field: "file",
        file_name: "danh-sach.xlsx",
        content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes: file,
    };
    app.post_multipart("/console/import", &fields, Some(file), session)
        .await
}

fn product_row(i: usize, name: &str, unit: &str) -> Vec<String> {
    vec![
        String::new(),
        name.to_owned(),
        "Đồ uống".into(),
        unit.to_owned(),
        String::new(),
        String::new(),
        format!("Mô tả {i}"),
    ]
}

#[tokio::test]
async fn an_editor_checks_fixes_and_imports_fifty_products_in_the_console() {
    let app = TestApp::new().await;
    let (coop, editor) = editor(&app).await;

    let page = app
        .get_with("/console/import", "cookie", &editor.cookie)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let template = app
        .get_with("/console/import/template.xlsx", "cookie", &editor.cookie)
        .await;
    assert_eq!(template.status, StatusCode::OK);
    assert!(template.body_bytes.starts_with(b"PK"), "an XLSX is a ZIP");

    // 50 products, rows 10 and 30 of the sheet broken (no name; no unit).
    let rows: Vec<Vec<String>> = (0..50)
        .map(|i| match i {
            6 => product_row(i, "", "gói"),
            26 => product_row(i, &format!("Chè số {i}"), ""),
            _ => product_row(i, &format!("Chè số {i}"), "gói"),
        })
        .collect();
    let file = sheets::workbook(&[(Kind::Products, rows)], None, &[]).unwrap();

    let checked = upload(&app, &editor, coop, &file, "check", false).await;
    assert_eq!(
        checked.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        checked.body
    );
    assert_eq!(
        checked.texts("#errors tbody td:nth-child(2)"),
        vec!["10", "30"]
    );
    assert_eq!(
        checked.texts("#errors tbody td:nth-child(3)"),
        vec!["B (Tên sản phẩm)", "D (Đơn vị tính)"]
    );
    assert_eq!(
        checked.texts("#errors tbody td:nth-child(4)"),
        vec!["Không được để trống", "Không được để trống"]
    );
    assert!(app.db.store.products_of(coop).await.unwrap().is_empty());

    // The error file holds the two rows, as typed, with why.
    let link = checked
        .html()
        .select(&scraper::Selector::parse("#error-file").unwrap())
        .next()
        .and_then(|a| a.value().attr("href").map(str::to_owned))
        .expect("a link to the error file");
    let encoded = link.split_once(";base64,").unwrap().1;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    let errors = sheets::read_xlsx(&bytes).unwrap();
    assert_eq!(errors.products.len(), 2);
    assert_eq!(errors.products[1].get("name"), "Chè số 26");

    // Importing as is stores nothing; the valid rows only, 48.
    let refused = upload(&app, &editor, coop, &file, "import", false).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.db.store.products_of(coop).await.unwrap().is_empty());
    let valid = upload(&app, &editor, coop, &file, "import", true).await;
    assert_eq!(
        valid.texts("#counts tbody tr:first-child td"),
        vec!["48", "0", "0", "0"]
    );
    // The two rows fixed in the error file, imported: 50.
    let fixed: Vec<Vec<String>> = errors
        .products
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut cells = sheets::cells_in_order(r);
            if cells[1].is_empty() {
                cells[1] = format!("Chè sửa {i}");
            }
            if cells[3].is_empty() {
                cells[3] = "gói".into();
            }
            cells
        })
        .collect();
    let fixed = sheets::workbook(&[(Kind::Products, fixed)], None, &[]).unwrap();
    let done = upload(&app, &editor, coop, &fixed, "import", false).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(app.db.store.products_of(coop).await.unwrap().len(), 50);

    // The upload form needs its token like every form.
    let forged = Session {
        cookie: editor.cookie.clone(),
        csrf: "not-the-token".into(),
    };
    let refused = upload(&app, &forged, coop, &file, "import", true).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

/// A cooperative with one stored product, Chè Ô Long (GTIN 8930000000019); its id.
async fn cooperative_with_oolong(store: &Arc<dyn Store>) -> i64 {
    let coop = store
        .create_organization(&fixtures::cooperative("HTX Chè Cầu Đất").build(), now())
        .await
        .unwrap()
        .id;
    store
        .create_product(
            &fixtures::product(coop, "Chè Ô Long")
                .gtin("8930000000019")
                .build(),
            now(),
        )
        .await
        .unwrap();
    coop
}

/// A row's cells as typed.
fn cells(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A product row whose id the producer has no product of is refused at its cell (the check
/// certificate rows share); nothing is written.
#[tokio::test]
async fn an_id_the_producer_does_not_have_is_refused_at_its_cell() {
    let db = TestDb::sqlite().await;
    let store = db.store.clone();
    let app = app_at(&store, now());
    let coop = cooperative_with_oolong(&store).await;
    let products = vec![cells(&["999999", "Trà xanh", "Đồ uống", "gói", "", "", ""])];
    let bytes = sheets::workbook(&[(Kind::Products, products)], None, &[]).unwrap();
    let file = sheets::read_xlsx(&bytes).unwrap();
    let outcome = imports::import_sheets(&app, &Caller::cli(), coop, &file, Options::default())
        .await
        .unwrap();
    use truyxuat::domain::validation::Rule;
    let refused: Vec<(u32, &str, Rule, &str)> = outcome
        .errors
        .iter()
        .map(|e| {
            (
                e.row,
                e.column.as_str(),
                e.refusal.code,
                e.refusal.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        refused,
        vec![(
            4,
            "A (Mã số)",
            Rule::NotFound,
            "this producer has no product 999999"
        )]
    );
    assert_eq!(outcome.created.products, 0);
    assert_eq!(store.products_of(coop).await.unwrap().len(), 1);
}

#[tokio::test]
async fn lots_name_their_product_by_name_or_gtin_and_update_in_place() {
    let db = TestDb::sqlite().await;
    let store = db.store.clone();
    let app = app_at(&store, now());
    let cli = Caller::cli();
    let coop = cooperative_with_oolong(&store).await;
    let products = vec![cells(&["", "Trà xanh", "Đồ uống", "gói", "", "", ""])];
    let lots = |quantity: &str| {
        vec![
            // The new product of this file, by name (another spacing and case).
            cells(&[
                "trà  XANH",
                "TX-01",
                "15/11/2026",
                "",
                quantity,
                "",
                "",
                "Lâm Đồng",
            ]),
            // The stored product, by its GTIN.
            cells(&["8930000000019", "OL-01", "2026-11-01", "", "", "", "", ""]),
            // The same lot twice; a product nobody has; a province that is none.
            cells(&["8930000000019", "OL-01", "2026-11-02", "", "", "", "", ""]),
            cells(&["Cà phê", "CP-01", "2026-11-01", "", "", "", "", ""]),
            cells(&["Trà xanh", "TX-02", "2026-11-01", "", "", "", "", "Sao Hỏa"]),
        ]
    };
    let file = |quantity: &str| {
        let bytes = sheets::workbook(
            &[
                (Kind::Products, products.clone()),
                (Kind::Lots, lots(quantity)),
            ],
            None,
            &[],
        )
        .unwrap();
        sheets::read_xlsx(&bytes).unwrap()
    };
    let valid = Options {
        valid_rows_only: true,
        ..Default::default()
    };
    let first = imports::import_sheets(&app, &cli, coop, &file("1200"), valid)
        .await
        .unwrap();
    let places: Vec<(u32, &str)> = first
        .errors
        .iter()
        .map(|e| (e.row, e.column.as_str()))
        .collect();
    assert_eq!(
        places,
        vec![
            (6, "B (Mã lô)"),
            (7, "A (Sản phẩm)"),
            (8, "H (Tỉnh / thành phố)")
        ]
    );
    assert_eq!(first.created.products, 1);
    assert_eq!(first.created.lots, 2);
    let stored = store.lots_of_producer(coop).await.unwrap();
    let tx = stored.iter().find(|l| l.data.code == "TX-01").unwrap();
    assert_eq!(tx.data.quantity, Some(1200.0));
    assert_eq!(tx.data.province.unwrap().name, "Lâm Đồng");

    // A quantity changed in Excel updates the lot; nothing else moves.
    let second = imports::import_sheets(&app, &cli, coop, &file("1150,5"), valid)
        .await
        .unwrap();
    assert_eq!(second.updated.lots, 1);
    assert_eq!(second.unchanged.lots, 1);
    assert_eq!(second.created.lots + second.created.products, 0);
    let updated = store.lots_of_producer(coop).await.unwrap();
    let tx = updated.iter().find(|l| l.data.code == "TX-01").unwrap();
    assert_eq!(tx.data.quantity, Some(1150.5));
    db.finish().await;
}

async fn certificates_by_issuer_and_product(store: Arc<dyn Store>) {
    let app = app_at(&store, now());
    let cli = Caller::cli();
    let coop = cooperative_with_oolong(&store).await;
    let other = store
        .create_organization(&fixtures::cooperative("HTX Bên Cạnh").build(), now())
        .await
        .unwrap()
        .id;
    let issuer = store
        .create_organization(&fixtures::department("UBND tỉnh Lâm Đồng").build(), now())
        .await
        .unwrap()
        .id;
    // Another producer already holds the issuer's certificate 77/QĐ.
    store
        .create_certification(&fixtures::ocop(other, issuer, "77/QĐ").build(), now())
        .await
        .unwrap();

    // The template offers the authorities in its issuer column's list.
    let template = imports::template(&app).await.unwrap();
    let mut workbook =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(template)).unwrap();
    use calamine::Reader;
    let lists = workbook.worksheet_range("Danh mục").unwrap();
    let issuers: Vec<String> = lists
        .rows()
        .filter_map(|r| r.get(3).map(|c| c.to_string()))
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(issuers, vec!["UBND tỉnh Lâm Đồng"]);

    let products = vec![cells(&["", "Trà xanh", "Đồ uống", "gói", "", "", ""])];
    let certificates = vec![
        // Row 4: the stored product by GTIN, the issuer in another case.
        cells(&[
            "",
            "OCOP",
            "12/QĐ",
            "ubnd tỉnh lâm đồng",
            "8930000000019",
            "4",
            "20/03/2025",
            "19/03/2028",
            "",
        ]),
        // Row 5: the file's new product, by name; the kind by its code.
        cells(&[
            "",
            "vietgap",
            "VG-001",
            "UBND tỉnh Lâm Đồng",
            "Trà xanh",
            "",
            "2026-01-01",
            "2027-12-31",
            "Chè búp tươi",
        ]),
        // Row 6: the producer as a whole.
        cells(&[
            "",
            "HACCP",
            "H-9",
            "UBND tỉnh Lâm Đồng",
            "",
            "",
            "2026-01-01",
            "2029-01-01",
            "",
        ]),
        // Rows 7 to 11: six stars; an issuer truyxuat does not know; a kind not in the
        // list; row 4's number again; an OCOP valid 48 months.
        cells(&[
            "",
            "OCOP",
            "13/QĐ",
            "UBND tỉnh Lâm Đồng",
            "",
            "6",
            "2025-01-01",
            "2027-01-01",
            "",
        ]),
        cells(&[
            "",
            "HACCP",
            "H-10",
            "Sở Mặt Trăng",
            "",
            "",
            "2026-01-01",
            "2027-01-01",
            "",
        ]),
        cells(&[
            "",
            "Halal",
            "X-1",
            "UBND tỉnh Lâm Đồng",
            "",
            "",
            "2026-01-01",
            "2027-01-01",
            "",
        ]),
        cells(&[
            "",
            "OCOP",
            "12/QĐ",
            "UBND tỉnh Lâm Đồng",
            "",
            "3",
            "2025-01-01",
            "2027-01-01",
            "",
        ]),
        cells(&[
            "",
            "OCOP",
            "14/QĐ",
            "UBND tỉnh Lâm Đồng",
            "",
            "3",
            "2025-01-01",
            "2029-01-01",
            "",
        ]),
        // Row 12: the number another producer's certificate has from this issuer.
        cells(&[
            "",
            "OCOP",
            "77/QĐ",
            "UBND tỉnh Lâm Đồng",
            "",
            "3",
            "2025-01-01",
            "2027-01-01",
            "",
        ]),
    ];
    let bytes = sheets::workbook(
        &[
            (Kind::Products, products),
            (Kind::Certificates, certificates),
        ],
        None,
        &[],
    )
    .unwrap();
    let file = sheets::read_xlsx(&bytes).unwrap();
    assert_eq!(file.certificates.len(), 9);

    let valid = Options {
        valid_rows_only: true,
        ..Default::default()
    };
    let first = imports::import_sheets(&app, &cli, coop, &file, valid)
        .await
        .unwrap();
    let places: Vec<(&str, u32, &str)> = first
        .errors
        .iter()
        .map(|e| (e.sheet, e.row, e.column.as_str()))
        .collect();
    assert_eq!(
        places,
        vec![
            ("Chứng nhận", 7, "F (Số sao OCOP)"),
            ("Chứng nhận", 8, "D (Cơ quan cấp)"),
            ("Chứng nhận", 9, "B (Loại chứng nhận)"),
            ("Chứng nhận", 10, "C (Số giấy chứng nhận)"),
            ("Chứng nhận", 11, "H (Hiệu lực đến)"),
            ("Chứng nhận", 12, "C (Số giấy chứng nhận)"),
        ],
        "{:#?}",
        first.errors
    );
    // Each in the Vietnamese of the error file and the console.
    let words: Vec<String> = first
        .errors
        .iter()
        .map(|e| truyxuat::web::rules::in_vietnamese(&e.refusal))
        .collect();
    assert_eq!(
        words,
        vec![
            "Hạng OCOP có từ 3 đến 5 sao",
            "Không có cơ quan cấp 'Sở Mặt Trăng' trong truyxuat",
            "'Halal' không có trong danh sách",
            "Trùng với dòng 4",
            "Loại giấy chứng nhận này có hiệu lực tối đa 36 tháng",
            "Cơ quan cấp này đã có một giấy chứng nhận số này",
        ]
    );
    assert_eq!(first.created.certificates, 3);
    assert!(first.stored);
    let held = store.certifications_of(coop).await.unwrap();
    assert_eq!(held.len(), 3);
    let tea = store
        .products_of(coop)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.data.name == "Trà xanh")
        .unwrap();
    let vietgap = held.iter().find(|c| c.data.number == "VG-001").unwrap();
    assert_eq!(vietgap.data.product_id, Some(tea.id));
    assert_eq!(vietgap.data.scope.as_deref(), Some("Chè búp tươi"));
    assert!(
        held.iter()
            .any(|c| c.data.number == "H-9" && c.data.product_id.is_none())
    );
    let ocop = held.iter().find(|c| c.data.number == "12/QĐ").unwrap();
    assert_eq!(ocop.data.ocop_stars, Some(4));

    // The same file again changes nothing.
    let entries = audit_entries(&store).await;
    let again = imports::import_sheets(&app, &cli, coop, &file, valid)
        .await
        .unwrap();
    assert_eq!(again.created.certificates + again.updated.certificates, 0);
    assert_eq!(again.unchanged.certificates, 3);
    assert_eq!(audit_entries(&store).await, entries);

    // The export imports back without a difference; a changed date updates in place.
    let exported = imports::export(&app, &cli, coop).await.unwrap();
    let back = sheets::read_xlsx(&exported).unwrap();
    assert_eq!(back.certificates.len(), 3);
    let round = imports::import_sheets(&app, &cli, coop, &back, Options::default())
        .await
        .unwrap();
    assert!(round.errors.is_empty(), "{:?}", round.errors);
    assert_eq!(round.unchanged.certificates, 3);
    assert_eq!(audit_entries(&store).await, entries);
    let mut changed = back.clone();
    let row = changed
        .certificates
        .iter_mut()
        .find(|r| r.get("number") == "H-9")
        .unwrap();
    row.cells.insert("valid_until", "2028-06-30".into());
    let updated = imports::import_sheets(&app, &cli, coop, &changed, Options::default())
        .await
        .unwrap();
    assert_eq!(updated.updated.certificates, 1);
    let h9 = store
        .certifications_of(coop)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.data.number == "H-9")
        .unwrap();
    assert_eq!(h9.data.valid_until.to_string(), "2028-06-30");
    assert_eq!(audit_entries(&store).await, entries + 1);
}

/// The lot diary's sheet: events naming a lot of a product made by the same file, a lot of
/// a stored product by its GTIN, a processing step from another lot; bad rows refused at
/// their cell; the same file again adds nothing.
async fn lot_diary_sheet(store: Arc<dyn Store>) {
    use truyxuat::store::EventQuery;
    let app = app_at(&store, now());
    let cli = Caller::cli();
    let coop = cooperative_with_oolong(&store).await;
    let products = vec![cells(&["", "Trà xanh", "Đồ uống", "gói", "", "", ""])];
    let lots = vec![
        cells(&["Trà xanh", "TX-01", "15/11/2026", "", "", "", "", ""]),
        cells(&["8930000000019", "OL-01", "16/11/2026", "", "", "", "", ""]),
    ];
    let place = ["Đồi chè Cầu Đất", "VT-LD-0107", "Xuân Trường", "Lâm Đồng"];
    let event = |step: &str, product: &str, lot: &str, inputs: &str, date: &str, q: &str| {
        let mut row = cells(&[step, product, lot, inputs, date, "06:30", q, "kg"]);
        row.extend(cells(&place));
        row
    };
    let events = vec![
        event("Thu hoạch", "trà xanh", "TX-01", "", "15/11/2026", "950"),
        // A number cell of Excel reads "1200.5".
        event(
            "thu hoach",
            "8930000000019",
            "OL-01",
            "",
            "16/11/2026",
            "1200.5",
        ),
        event(
            "Chế biến",
            "Chè Ô Long",
            "OL-01",
            "TX-01",
            "18/11/2026",
            "300",
        ),
        event("Đóng gói", "Chè Ô Long", "OL-01", "", "20/11/2026", "1.200"),
        event("Thu hồi", "Chè Ô Long", "OL-01", "", "20/11/2026", ""),
        event("Đóng gói", "Chè Ô Long", "XX-99", "", "20/11/2026", ""),
        event("Xuất hàng", "Chè Ô Long", "OL-01", "", "30/11/2026", ""),
        event("Chế biến", "Chè Ô Long", "OL-01", "ZZ-1", "21/11/2026", ""),
        event("Đóng gói", "Chè Ô Long", "OL-01", "", "20/11/2026", "1.200"),
    ];
    let bytes = sheets::workbook(
        &[
            (Kind::Products, products),
            (Kind::Lots, lots),
            (Kind::Events, events),
        ],
        None,
        &[],
    )
    .unwrap();
    let file = sheets::read_xlsx(&bytes).unwrap();
    let valid = Options {
        valid_rows_only: true,
        ..Default::default()
    };
    let before = audit_entries(&store).await;
    let first = imports::import_sheets(&app, &cli, coop, &file, valid)
        .await
        .unwrap();
    let places: Vec<(u32, &str)> = first
        .errors
        .iter()
        .map(|e| (e.row, e.column.as_str()))
        .collect();
    assert_eq!(
        places,
        vec![
            (8, "A (Việc)"),
            (9, "C (Mã lô)"),
            (10, "E (Ngày)"),
            (11, "D (Làm từ các lô)"),
            (11, "D (Làm từ các lô)"),
            (12, "A (Việc)"),
        ]
    );
    assert_eq!(first.created.events, 4);
    // A product, two lots, four events: one audit entry each.
    assert_eq!(audit_entries(&store).await - before, 7);

    let oolong = "https://id.gs1.org/01/08930000000019/10/OL-01";
    let found = store
        .events(&EventQuery {
            any_class: vec![oolong.into()],
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let bodies: Vec<serde_json::Value> = found
        .iter()
        .map(|e| serde_json::from_str(&e.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 3, "{bodies:?}");
    assert_eq!(bodies[0]["quantityList"][0]["quantity"], 1200.5);
    assert_eq!(bodies[0]["eventTime"], "2026-11-16T06:30:00+07:00");
    let green = store.products_of(coop).await.unwrap();
    let green = green.iter().find(|p| p.data.name == "Trà xanh").unwrap();
    assert_eq!(bodies[1]["type"], "TransformationEvent");
    assert_eq!(
        bodies[1]["inputQuantityList"][0]["epcClass"],
        format!("urn:truyxuat:lot:{}:TX-01", green.id)
    );
    assert_eq!(bodies[1]["truyxuat:place"]["plot"], "VT-LD-0107");

    // The same file again: every event was captured, nothing is added.
    let again = imports::import_sheets(&app, &cli, coop, &file, valid)
        .await
        .unwrap();
    assert_eq!(again.unchanged.events, 4);
    assert_eq!(again.created.events, 0);
    assert_eq!(audit_entries(&store).await - before, 7);
}
