//! The inspectors' exports against the target of issue 13: a list of 100,000 lots exported
//! from a running server (`truyxuat serve`, SQLite) as CSV, XLSX and JSON streams with the
//! server's memory flat. Printed: the time of each download, its size, and the server's
//! peak resident memory (`VmHWM`) after a 10,000-row export and after each 100,000-row one;
//! beside them, the baseline of the same rows written as CSV by Python's `sqlite3` and
//! `csv` modules straight from the database file (no server, no permissions).

// A benchmark times itself by the wall clock.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::{NaiveDate, Utc};
#[path = "support/server.rs"]
mod server;
use server::peak_mb;

use truyxuat::domain::lot::NewLot;

const BIN: &str = env!("CARGO_BIN_EXE_truyxuat");
const LOTS: usize = 100_000;
const PORT: u16 = 18_413;

struct Bench {
    dir: tempfile::TempDir,
}

impl Bench {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn database(&self) -> String {
        format!("sqlite://{}", self.path("bench.db").display())
    }

    fn command(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env("TRUYXUAT_DATABASE_URL", self.database())
            .env("TRUYXUAT_KEY_DIR", self.path("keys"))
            .env("TRUYXUAT_DATA_DIR", self.path("data"))
            .env("TRUYXUAT_BASE_URL", format!("http://127.0.0.1:{PORT}"))
            .env("TRUYXUAT_BIND", format!("127.0.0.1:{PORT}"))
            .env("TRUYXUAT_LOG", "warn")
            .env_remove("TRUYXUAT_SIGNING_KEY");
        c
    }

    /// Fetches `path` as the signed-in inspector into `file`: seconds and bytes.
    fn download(&self, path: &str, file: &str) -> (f64, f64) {
        let started = Instant::now();
        let out = Command::new("curl")
            .args(["-sf", "-b"])
            .arg(self.path("cookies.txt"))
            .arg("-o")
            .arg(self.path(file))
            .arg(format!("http://127.0.0.1:{PORT}{path}"))
            .output()
            .expect("run curl");
        assert!(out.status.success(), "curl {path}");
        let took = started.elapsed().as_secs_f64();
        let size = std::fs::metadata(self.path(file)).unwrap().len() as f64 / 1e6;
        (took, size)
    }
}

/// 100,000 lots of demo product 1 (a Lâm Đồng cooperative's), written in bulk.
async fn seed(bench: &Bench) {
    let store = truyxuat::store::open(&bench.database()).await.unwrap();
    let lots: Vec<NewLot> = (0..LOTS)
        .map(|i| NewLot {
            product_id: 1,
            code: format!("BX-{i:06}"),
            produced_on: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
            expires_on: NaiveDate::from_ymd_opt(2027, 10, 1),
            quantity: Some(1200.0),
            growing_area: Some("Vùng trồng VT-68-001, Cầu Đất".into()),
            commune: Some("Xuân Trường".into()),
            province: truyxuat::domain::province::by_slug("lam-dong"),
        })
        .collect();
    for chunk in lots.chunks(10_000) {
        let mut tx = store.begin().await.unwrap();
        tx.insert_lots(chunk, Utc::now()).await.unwrap();
        tx.commit().await.unwrap();
    }
}

fn main() {
    let bench = Bench {
        dir: tempfile::tempdir().expect("temporary folder"),
    };
    let demo = bench.command().arg("demo").output().expect("truyxuat demo");
    assert!(demo.status.success());
    let demo = String::from_utf8_lossy(&demo.stderr).into_owned();
    let password = demo
        .split("each with the password ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the demo password")
        .to_owned();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(seed(&bench));

    let mut server = bench
        .command()
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start truyxuat serve");
    let base = format!("http://127.0.0.1:{PORT}");
    server::wait_ready(&base);
    let signed_in = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-c"])
        .arg(bench.path("cookies.txt"))
        .args(["--data-urlencode", "login=thanhtra@demo.truyxuat.vn"])
        .args(["--data-urlencode", &format!("password={password}")])
        .arg(format!("{base}/login"))
        .status()
        .unwrap();
    assert!(signed_in.success());
    let at_start = peak_mb(&server);

    // Each format: a tenth of the list ("BX-00…": 10,000 lots), then the whole list twice.
    // Flat memory: the peak does not grow with the rows, nor with a second export.
    let mut measured = Vec::new();
    for format in ["csv", "xlsx", "json"] {
        let tenth = format!("/inspect/search/export.{format}?kind=lots&q=BX-00");
        let whole = format!("/inspect/search/export.{format}?kind=lots");
        let (_, tenth_size) = bench.download(&tenth, &format!("tenth.{format}"));
        let tenth_peak = peak_mb(&server);
        let (took, size) = bench.download(&whole, &format!("lots.{format}"));
        let whole_peak = peak_mb(&server);
        bench.download(&whole, &format!("again.{format}"));
        let again_peak = peak_mb(&server);
        measured.push((
            format, took, size, tenth_size, tenth_peak, whole_peak, again_peak,
        ));
    }
    server.kill().ok();
    server.wait().ok();
    let rows = std::fs::read_to_string(bench.path("lots.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert!(rows >= LOTS, "the export holds every lot: {rows}");

    // Baseline: the same rows to CSV by Python, from the file, no server in between.
    let script = "import csv, sqlite3, sys\n\
        db = sqlite3.connect(sys.argv[1])\n\
        out = csv.writer(open(sys.argv[2], 'w', encoding='utf-8-sig', newline=''))\n\
        for row in db.execute('SELECT l.id, l.code, p.name, l.produced_on, l.expires_on, \
        l.quantity, l.province, l.recalled_at, l.recall_reason FROM lots l JOIN products p \
        ON p.id = l.product_id ORDER BY l.id'):\n    out.writerow(row)\n";
    let started = Instant::now();
    let python = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(bench.path("bench.db"))
        .arg(bench.path("python.csv"))
        .status()
        .expect("run python3");
    assert!(python.success());
    let python_took = started.elapsed().as_secs_f64();

    println!("\nexport of {rows} lots by an inspector from a running server (SQLite)");
    println!("  target: the server's memory flat (peak after 10,000 rows = after {rows})");
    println!("  server resident at sign-in {at_start:.0} MB");
    println!("  format  {rows} rows      size   | server peak after: 10,000 rows  {rows}  again");
    for (format, took, size, tenth_size, tenth_peak, whole_peak, again_peak) in &measured {
        println!(
            "  {format:<5} {took:>7.2} s {size:>8.1} MB |  {tenth_peak:>5.0} MB ({tenth_size:.1} MB)  {whole_peak:>6.0} MB  {again_peak:>5.0} MB"
        );
    }
    println!(
        "  baseline: Python's csv module, the same rows from the file, no server: {python_took:.2} s (CSV export / baseline: {:.1}x)",
        measured[0].1 / python_took
    );
}
