//! The command line as an operator meets it: a real process, real files, real exit codes.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use sqlx::sqlite::SqlitePoolOptions;

const BIN: &str = env!("CARGO_BIN_EXE_truyxuat");

fn truyxuat(db_url: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["--database-url", db_url])
        .args(args)
        .env_remove("TRUYXUAT_ADMIN_TOKEN")
        .output()
        .expect("run truyxuat")
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("cli.db").display())
}

#[test]
fn demo_then_products_lists_ids_gtins_names_and_lots() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let demo = truyxuat(&url, &["demo"]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    // Loading twice does not duplicate anything.
    assert!(truyxuat(&url, &["demo"]).status.success());

    let out = truyxuat(&url, &["products", "--json"]);
    assert!(out.status.success());
    let products: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let products = products.as_array().unwrap();
    assert_eq!(products.len(), 12);
    let tea = products
        .iter()
        .find(|p| p["name"] == "Chè Ô Long Cầu Đất")
        .expect("tea");
    assert_eq!(tea["gtin"], "08936049120015");
    assert_eq!(
        tea["lots"],
        serde_json::json!(["CD-2026-10A", "CD-2026-09A"])
    );

    let table = truyxuat(&url, &["products", "--search", "gao nang thom"]);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(
        text.contains("08936049120107  Gạo Nàng Thơm Chợ Đào"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2);
}

#[test]
fn a_bad_import_exits_non_zero_naming_the_field_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let file = dir.path().join("import.json");
    std::fs::write(
        &file,
        r#"{
          "organizations": [{"key": "htx", "kind": "cooperative", "name": "HTX Bưởi", "province": "Vĩnh Long"}],
          "products": [
            {"key": "a", "producer": "htx", "name": "Bưởi da xanh", "category": "Trái cây", "unit": "kg", "gtin": "8934588012112"},
            {"key": "b", "producer": "htx", "name": "Bưởi năm roi", "category": "Trái cây", "unit": "kg", "gtin": "8934588012113"}
          ],
          "lots": [{"product": "a", "code": "BƯỞI-1", "produced_on": "2026-10-01"}]
        }"#,
    )
    .unwrap();
    let out = truyxuat(&url, &["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("products[1].gtin: the check digit should be 2, not 3"),
        "{stderr}"
    );
    assert!(stderr.contains("lots[0].code"), "{stderr}");
    let listed = truyxuat(&url, &["products", "--json"]);
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "[]");

    // A clash found only by the database (a duplicate GTIN) is refused the same way.
    std::fs::write(
        &file,
        r#"{
          "organizations": [{"key": "htx", "kind": "cooperative", "name": "HTX Bưởi", "province": "Vĩnh Long"}],
          "products": [
            {"key": "a", "producer": "htx", "name": "Bưởi da xanh", "category": "Trái cây", "unit": "kg", "gtin": "8934588012112"},
            {"key": "b", "producer": "htx", "name": "Bưởi năm roi", "category": "Trái cây", "unit": "kg", "gtin": "08934588012112"}
          ]
        }"#,
    )
    .unwrap();
    let out = truyxuat(&url, &["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("products[1].gtin"));
    let listed = truyxuat(&url, &["products", "--json"]);
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "[]");
}

#[test]
fn unusable_settings_and_files_get_a_message_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let out = truyxuat("mysql://localhost/x", &["migrate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sqlite: or postgres:"));
    let out = truyxuat(&sqlite_url(&dir), &["import", "/no/such/file.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /no/such/file.json"));
    let out = truyxuat(&sqlite_url(&dir), &["products", "--colour"]);
    assert_eq!(out.status.code(), Some(2));
    // A password in the URL never reaches the output.
    for url in [
        "postgres://app:hunter2secret@127.0.0.1:1/x",
        "postgres://app@127.0.0.1:1/x?sslmode=disable&password=hunter2secret",
    ] {
        let out = truyxuat(url, &["--log", "debug", "migrate"]);
        assert_eq!(out.status.code(), Some(1));
        let all = String::from_utf8_lossy(&[out.stdout, out.stderr].concat()).into_owned();
        assert!(!all.contains("hunter2secret"), "{all}");
        assert!(all.contains("cannot open postgres://app"), "{all}");
    }
}

/// Counts of each registry table, and SQLite's own verdict on the file.
async fn inspect(url: &str) -> (String, Vec<i64>) {
    let pool = SqlitePoolOptions::new()
        .connect(url)
        .await
        .expect("reopen after kill");
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut counts = Vec::new();
    for table in ["organizations", "products", "certifications", "lots"] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&pool)
            .await
            .unwrap_or(0);
        counts.push(n);
    }
    pool.close().await;
    (integrity, counts)
}

/// `kill -9` of the server while the demo data loads: the file opens, passes
/// `PRAGMA integrity_check` and holds all or none of each entity's rows.
#[tokio::test]
async fn kill_9_while_the_demo_loads_leaves_all_or_nothing() {
    // Organizations, products, certificates, lots of the demo data.
    let full = vec![11, 12, 10, 10];
    let mut killed_mid_load = 0;
    // Kill at several points after loading started: early, middle, late.
    for delay_ms in [0u64, 150, 600] {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(&dir);
        let mut server = Command::new(BIN)
            .args([
                "--database-url",
                &url,
                "--bind",
                "127.0.0.1:0",
                "serve",
                "--demo",
            ])
            .args(["--demo-pace-ms", "50"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start server");
        let stderr = server.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        // Wait until the load has begun (40 rows at 50 ms each take about two seconds).
        loop {
            let line = lines.next().expect("server output").unwrap();
            if line.contains("loading demo data") {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();

        let (integrity, counts) = inspect(&url).await;
        assert_eq!(integrity, "ok");
        assert!(
            counts == [0, 0, 0, 0] || counts == full,
            "killed {delay_ms} ms into the load: {counts:?}"
        );
        if counts == [0, 0, 0, 0] {
            killed_mid_load += 1;
        }
    }
    assert!(
        killed_mid_load > 0,
        "no kill landed while the load was running"
    );

    // Left alone, the same load completes whole, and a restart does not load it twice.
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    for _ in 0..2 {
        let out = truyxuat(&url, &["demo", "--pace-ms", "1"]);
        assert!(out.status.success());
    }
    let (integrity, counts) = inspect(&url).await;
    assert_eq!(integrity, "ok");
    assert_eq!(counts, full);
}

/// A cooperative's spreadsheet at the command line, as a person (`--as`) with their roles.
#[test]
fn a_spreadsheet_imports_as_a_person_once_and_bad_rows_name_their_place() {
    let env = crate::support::cli_env::CliEnv::new();
    env.ok(&["demo"]);
    let template = env.path("mau.xlsx");
    env.ok(&["template", "-o", template.to_str().unwrap()]);
    let bytes = std::fs::read(&template).unwrap();
    assert!(bytes.starts_with(b"PK"));
    assert!(
        truyxuat::sheets::read_xlsx(&bytes).is_err(),
        "the template holds no rows"
    );

    let csv = env.path("san-pham.csv");
    std::fs::write(
        &csv,
        "Tên sản phẩm,Nhóm hàng,Đơn vị tính\r\nTrà túi lọc Cầu Đất,Đồ uống,hộp 25 gói\r\nBột chè xanh,Thực phẩm,gói 100 g\r\n",
    )
    .unwrap();
    let csv = csv.to_str().unwrap();
    let editor = "bientap@demo.truyxuat.vn";
    let checked = env.ok(&["import", csv, "--as", editor, "--dry-run"]);
    assert!(checked.contains("new: 2 products"), "{checked}");
    let imported = env.ok(&["import", csv, "--as", editor]);
    assert!(imported.contains("new: 2 products"), "{imported}");
    let again = env.ok(&["import", csv, "--as", editor]);
    assert!(
        again.contains("new: 0 products") && again.contains("unchanged: 2 products"),
        "{again}"
    );

    // A bad row: non-zero exit, its sheet, row and column named, nothing stored.
    let bad = env.path("loi.csv");
    std::fs::write(
        &bad,
        "Tên sản phẩm,Nhóm hàng,Đơn vị tính\r\nMứt mận,Thực phẩm,hộp\r\nChè\u{202E}giả,Đồ uống,\r\n",
    )
    .unwrap();
    let refused = env.run(&["import", bad.to_str().unwrap(), "--as", editor]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("Sản phẩm dòng 3 D (Đơn vị tính)"),
        "{stderr}"
    );
    assert!(stderr.contains("dòng 3 B (Tên sản phẩm)"), "{stderr}");
    assert!(
        !stderr.contains('\u{202E}'),
        "no bidi override reaches the terminal"
    );
    let listed = env.ok(&["products"]);
    assert!(!listed.contains("Mứt mận"));

    // A viewer may not import; an unknown person is no one.
    let viewer = env.run(&["import", csv, "--as", "xem@demo.truyxuat.vn"]);
    assert!(!viewer.status.success());
    assert!(String::from_utf8_lossy(&viewer.stderr).contains("may not"));
    let nobody = env.run(&["import", csv, "--as", "khongco@demo.truyxuat.vn"]);
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("no such person"));
}
