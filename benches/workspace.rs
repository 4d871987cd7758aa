//! The cooperative's workspace under load, against the targets of issue 12:
//!
//! - importing 100,000 product rows from an XLSX (`truyxuat import FILE.xlsx`, a whole
//!   process, start-up and parsing included), then the same file again (every row
//!   unchanged): seconds and peak memory (target: seconds, not minutes);
//! - a 1,000,000-label A4 PDF ordered in the console of a running server (`truyxuat serve`)
//!   and rendered as a print job: seconds until the job page says done, and the server's
//!   peak resident memory over its whole life (`VmHWM`; target: under 200 MB).

// A benchmark times itself by the wall clock.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/server.rs"]
mod server;
use server::peak_mb;

use truyxuat::sheets::{self, Kind};

const BIN: &str = env!("CARGO_BIN_EXE_truyxuat");
const ROWS: usize = 100_000;
const LABELS: u32 = 1_000_000;
const PORT: u16 = 18_412;

struct Bench {
    dir: tempfile::TempDir,
}

impl Bench {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env(
            "TRUYXUAT_DATABASE_URL",
            format!("sqlite://{}", self.path("bench.db").display()),
        )
        .env("TRUYXUAT_KEY_DIR", self.path("keys"))
        .env("TRUYXUAT_DATA_DIR", self.path("data"))
        .env("TRUYXUAT_BASE_URL", format!("http://127.0.0.1:{PORT}"))
        .env("TRUYXUAT_BIND", format!("127.0.0.1:{PORT}"))
        .env("TRUYXUAT_LOG", "warn")
        .env_remove("TRUYXUAT_SIGNING_KEY");
        c
    }

    /// Runs truyxuat; returns its standard output and error.
    fn truyxuat(&self, args: &[&str]) -> (String, String) {
        let out = self.command(BIN).args(args).output().expect("run truyxuat");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "truyxuat {args:?}: {stderr}");
        (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
    }

    /// Runs truyxuat under /usr/bin/time -v: its output, wall time and peak RSS in MB.
    fn timed(&self, args: &[&str]) -> (String, Duration, f64) {
        let started = Instant::now();
        let out = self
            .command("/usr/bin/time")
            .arg("-v")
            .arg(BIN)
            .args(args)
            .output()
            .expect("run /usr/bin/time (make bench installs it)");
        let elapsed = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "truyxuat {args:?}: {stderr}");
        let kb: f64 = stderr
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes): ")
            })
            .and_then(|v| v.trim().parse().ok())
            .expect("peak RSS from /usr/bin/time -v");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        (stdout, elapsed, kb / 1024.0)
    }

    fn curl(&self, args: &[&str]) -> String {
        let jar = self.path("cookies.txt");
        let out = Command::new("curl")
            .args(["-s", "-b"])
            .arg(&jar)
            .arg("-c")
            .arg(&jar)
            .args(args)
            .output()
            .expect("run curl");
        assert!(out.status.success(), "curl {args:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn import_rows(bench: &Bench) {
    let rows: Vec<Vec<String>> = (0..ROWS)
        .map(|i| {
            vec![
                String::new(),
                format!("Sản phẩm nhập thử số {i}"),
                "Thực phẩm".into(),
                "gói 500 g".into(),
                String::new(),
                format!("VT-{i:06}"),
                "Nhập từ Excel".into(),
            ]
        })
        .collect();
    let file = bench.path("san-pham.xlsx");
    std::fs::write(
        &file,
        sheets::workbook(&[(Kind::Products, rows)], None, &[]).unwrap(),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let size = std::fs::metadata(file).unwrap().len() as f64 / 1e6;
    let (first, took, rss) = bench.timed(&["import", file, "--producer", "1"]);
    assert!(first.contains(&format!("new: {ROWS} products")), "{first}");
    let (again, took_again, rss_again) = bench.timed(&["import", file, "--producer", "1"]);
    assert!(
        again.contains(&format!("unchanged: {ROWS} products")),
        "{again}"
    );
    println!("\nimport of {ROWS} product rows from an XLSX of {size:.1} MB (a whole process)");
    println!("  target                      seconds, not minutes");
    println!(
        "  first import (all new)      {:>6.1} s   peak {rss:>5.0} MB",
        took.as_secs_f64()
    );
    println!(
        "  same file again (unchanged) {:>6.1} s   peak {rss_again:>5.0} MB",
        took_again.as_secs_f64()
    );
}

fn print_job(bench: &Bench, password: &str) {
    bench.truyxuat(&["keys", "new"]);
    let (batch, _) = bench.truyxuat(&["mint", "--product", "1", "--count", &LABELS.to_string()]);
    let batch = batch.trim().to_owned();
    let mut server = bench
        .command(BIN)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start truyxuat serve");
    let base = format!("http://127.0.0.1:{PORT}");
    server::wait_ready(&base);
    let before = peak_mb(&server);
    bench.curl(&[
        "-o",
        "/dev/null",
        "--data-urlencode",
        "login=inte@demo.truyxuat.vn",
        "--data-urlencode",
        &format!("password={password}"),
        &format!("{base}/login"),
    ]);
    let console = bench.curl(&[&format!("{base}/console")]);
    let csrf = console
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a form token: the printer is signed in")
        .to_owned();
    let started = Instant::now();
    let location = bench.curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{redirect_url}",
        "--data",
        &format!("csrf={csrf}&format=pdf&layout=a4-5x8&dpi=300"),
        &format!("{base}/console/batches/{batch}/print"),
    ]);
    assert!(location.contains("/console/jobs/"), "{location}");
    loop {
        let page = bench.curl(&[&location]);
        if page.contains("id=\"download\"") {
            break;
        }
        assert!(!page.contains("class=\"alert\""), "the job failed: {page}");
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "no end in 15 minutes"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let took = started.elapsed();
    let peak = peak_mb(&server);
    let file = std::fs::read_dir(bench.path("data/print-jobs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let size = file.metadata().unwrap().len() as f64 / 1e6;
    server.kill().ok();
    server.wait().ok();
    println!("\n{LABELS} labels to an A4 PDF as a print job of a running server");
    println!("  target                      peak under 200 MB");
    println!(
        "  ordered to done             {:>6.1} s   {size:.0} MB of PDF",
        took.as_secs_f64()
    );
    println!("  server peak resident        {peak:>6.0} MB (before the job: {before:.0} MB)");
}

fn main() {
    let bench = Bench {
        dir: tempfile::tempdir().expect("temporary folder"),
    };
    let (_, demo) = bench.truyxuat(&["demo"]);
    let password = demo
        .split("each with the password ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the demo password")
        .to_owned();
    import_rows(&bench);
    print_job(&bench, &password);
}
