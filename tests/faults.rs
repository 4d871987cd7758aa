//! Faults a province's server meets: a full disk under SQLite, PostgreSQL going away. The
//! promise under test: a write is acknowledged only once it is durably committed, the
//! service says it is unwell (`/readyz`, a 503 page rather than an empty answer), and it
//! heals by itself once the fault is gone, without a restart.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::support::db::TestDb;
use crate::support::http::{Reply, TestApp};
use crate::support::proxy::CuttableProxy;

/// A tmpfs of its own, mounted for the test and unmounted after: a disk that fills up.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts a `size` tmpfs (`4m`), or says why it cannot: mounting needs root, which CI
    /// and the team's machines have; elsewhere the test says loudly that it did not run.
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().expect("temporary folder");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if mounted {
            return Some(SmallDisk { dir });
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "cannot mount a tmpfs: the full-disk test must run in CI (as root)"
        );
        eprintln!("!! SKIPPED the full-disk test: mounting a tmpfs needs root");
        None
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Takes every byte left, as another program's log file would: writes until the
    /// filesystem says it is full.
    fn fill(&self) {
        use std::io::Write;
        let mut filler = std::fs::File::create(self.path().join("filler")).unwrap();
        let block = vec![0x55u8; 64 * 1024];
        while filler.write_all(&block).is_ok() {}
        while filler.write_all(&block[..512]).is_ok() {}
        let _ = filler.sync_all();
    }

    /// Gives the filesystem `size` (`64m`): the space an operator frees.
    fn grow(&self, size: &str) {
        let grown = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.path())
            .status()
            .expect("remount");
        assert!(grown.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// The paths of `count` genuine labels of demo product 1, lot CD-2026-10A.
async fn labels(app: &TestApp, count: u32) -> Vec<String> {
    crate::support::labels::mint(app, 1, count, Some("CD-2026-10A")).await
}

/// What the load got acknowledged: every answer a client took as "stored".
#[derive(Default)]
struct Acknowledged {
    scans: usize,
    documents: BTreeSet<String>,
    products: BTreeSet<i64>,
    /// EPCIS events captured, by hash id.
    events: BTreeSet<String>,
    refused: usize,
}

/// A PDF of `size` bytes no other call sends.
fn unique_pdf(n: usize, size: usize) -> Vec<u8> {
    let mut pdf = format!("%PDF-1.7 evidence {n} ").into_bytes();
    let mut x = n as u64 + 1;
    while pdf.len() < size {
        // Incompressible filler, so the document takes its size on disk.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        pdf.extend_from_slice(&x.to_le_bytes());
    }
    pdf
}

async fn upload(app: &TestApp, pdf: Vec<u8>) -> Reply {
    app.send(
        Request::post("/api/v1/documents")
            .header(header::AUTHORIZATION, format!("Bearer {}", app.token))
            .header(header::CONTENT_TYPE, "application/pdf")
            .body(Body::from(pdf))
            .unwrap(),
    )
    .await
}

fn product_body(n: usize) -> serde_json::Value {
    serde_json::json!({
        "producer_id": 1, "name": format!("Sản phẩm thử {n}"), "category": "Chè", "unit": "hộp"
    })
}

/// An EPCIS document of one harvest no other call sends.
fn harvest_document(n: usize) -> serde_json::Value {
    let class = format!("https://id.gs1.org/01/08936012345674/10/L{n}");
    crate::support::epcis::harvest(&class, "2026-08-01T06:30:00+07:00")
}

/// Rounds of concurrent scans, document uploads, product creations and event captures, until `enough`
/// says so; each answer is checked for what a client would see.
async fn load(
    app: &Arc<TestApp>,
    paths: &[String],
    rounds: usize,
    first: usize,
    ack: &mut Acknowledged,
    mut enough: impl FnMut(&Acknowledged) -> bool,
) {
    for round in 0..rounds {
        let n = first + round;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (app, path) = (app.clone(), paths[(n * 8 + i) % paths.len()].clone());
            tasks.push(tokio::spawn(async move { ("scan", app.get(&path).await) }));
        }
        let app2 = app.clone();
        tasks.push(tokio::spawn(async move {
            ("document", upload(&app2, unique_pdf(n, 48 * 1024)).await)
        }));
        let app3 = app.clone();
        tasks.push(tokio::spawn(async move {
            (
                "product",
                app3.api("POST", "/api/v1/products", product_body(n)).await,
            )
        }));
        let app4 = app.clone();
        tasks.push(tokio::spawn(async move {
            (
                "event",
                app4.api("POST", "/epcis/capture", harvest_document(n))
                    .await,
            )
        }));
        for task in tasks {
            let (kind, reply) = task.await.unwrap();
            match (kind, reply.status) {
                ("scan", StatusCode::OK) => ack.scans += 1,
                ("document", StatusCode::CREATED) => {
                    ack.documents
                        .insert(reply.json()["sha256"].as_str().unwrap().to_owned());
                }
                ("product", StatusCode::CREATED) => {
                    ack.products.insert(reply.json()["id"].as_i64().unwrap());
                }
                ("event", StatusCode::CREATED) => {
                    let id = reply.json()["eventIDs"][0].as_str().unwrap().to_owned();
                    ack.events.insert(id);
                }
                (kind, status) => {
                    // Refused, never silently: 503 with a body that says so.
                    assert_eq!(
                        status,
                        StatusCode::SERVICE_UNAVAILABLE,
                        "{kind}: {}",
                        reply.body
                    );
                    assert!(!reply.body.is_empty(), "{kind}: an empty 503");
                    assert!(
                        !reply.header("retry-after").is_empty(),
                        "{kind}: Retry-After"
                    );
                    ack.refused += 1;
                }
            }
        }
        if enough(ack) {
            return;
        }
    }
}

/// Every acknowledged write is in the database, read by a store of its own.
async fn assert_stored(url: &str, ack: &Acknowledged) {
    let store = truyxuat::store::open(url).await.unwrap();
    let scans = store.count_scans().await.unwrap();
    assert_eq!(
        scans as usize, ack.scans,
        "scans stored vs scan pages answered"
    );
    for sha in &ack.documents {
        let found = store.document(sha).await.unwrap();
        assert!(found.is_some(), "acknowledged document {sha}");
    }
    for id in &ack.products {
        let found = store.product(*id).await.unwrap();
        assert!(found.is_some(), "acknowledged product {id}");
    }
    for id in &ack.events {
        let found = store.events_by_hash(id).await.unwrap();
        assert_eq!(found.len(), 1, "acknowledged event {id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_loses_no_acknowledged_write_and_heals_without_restart() {
    let Some(disk) = SmallDisk::mount("3m") else {
        return;
    };
    let db = TestDb::sqlite_in(disk.path()).await;
    let url = db.url.clone();
    let app = Arc::new(TestApp::on_with_demo(db).await);
    let paths = labels(&app, 500).await;
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);

    // The database fills the disk: the larger writes fail first.
    let mut ack = Acknowledged::default();
    load(&app, &paths, 400, 0, &mut ack, |a| a.refused >= 20).await;
    assert!(
        ack.refused >= 20,
        "the disk never filled: {} refused",
        ack.refused
    );
    assert!(ack.scans > 0 && !ack.documents.is_empty());
    assert_stored(&url, &ack).await;
    // Then something else takes the last bytes. Space SQLite already holds (a WAL it
    // writes over again after a checkpoint) may still take a few writes, durably (they are
    // checked below); once it is used up, every write fails.
    disk.fill();
    let counts = |a: &Acknowledged| (a.scans, a.documents.len(), a.products.len(), a.events.len());
    for drained in 0..20 {
        let before = counts(&ack);
        load(&app, &paths, 10, 500 + 10 * drained, &mut ack, |_| false).await;
        if counts(&ack) == before {
            break;
        }
    }
    let before = counts(&ack);
    load(&app, &paths, 10, 750, &mut ack, |_| false).await;
    assert_eq!(
        counts(&ack),
        before,
        "a write was acknowledged on a full disk"
    );
    let ready = app.get("/readyz").await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.body
    );
    assert_stored(&url, &ack).await;

    // Space comes back: the same process writes again, and says it is ready.
    std::fs::remove_file(disk.path().join("filler")).unwrap();
    disk.grow("64m");
    let refused_before = ack.refused;
    load(&app, &paths, 40, 1000, &mut ack, |_| false).await;
    assert_eq!(
        ack.refused, refused_before,
        "writes fail after space returned"
    );
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    assert_stored(&url, &ack).await;
}

/// A capture job of `events` harvests, queued as from the command line; its id.
async fn harvests_queued(app: &truyxuat::app::App, events: usize) -> i64 {
    use truyxuat::app::{Caller, capture_jobs};
    let doc = serde_json::to_vec(&crate::epcis_capture_jobs::harvests(events)).unwrap();
    capture_jobs::queue(app, &Caller::cli(), doc, events)
        .await
        .unwrap()
}

/// A job as `look` reads it, once the job has left the queue and its run (the worker's pace,
/// not a timing claim: three minutes at most).
async fn ended<J, F: std::future::Future<Output = J>>(
    look: impl Fn() -> F,
    state: impl Fn(&J) -> truyxuat::domain::job::JobState,
) -> J {
    use truyxuat::domain::job::JobState;
    let mut job = look().await;
    for _ in 0..1800 {
        if !matches!(state(&job), JobState::Queued | JobState::Running) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        job = look().await;
    }
    job
}

/// Capture job `id` once it has ended.
async fn capture_ended(
    store: &Arc<dyn truyxuat::store::Store>,
    id: i64,
) -> truyxuat::domain::job::CaptureJob {
    let look = || async { store.capture_job(id).await.unwrap().unwrap() };
    ended(look, |j| j.state).await
}

/// How many events `store` holds, counting up to `2 * events`.
async fn events_stored(store: &Arc<dyn truyxuat::store::Store>, events: usize) -> usize {
    let query = truyxuat::store::EventQuery {
        limit: 2 * events as i64,
        ..Default::default()
    };
    store.events(&query).await.unwrap().len()
}

/// A capture job whose events find the disk full waits, keeps nothing of them, and is
/// captured whole, once, by itself once space returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capture_job_on_a_full_disk_is_captured_whole_once_space_returns() {
    use truyxuat::domain::job::JobState;

    let Some(disk) = SmallDisk::mount("64m") else {
        return;
    };
    let db = TestDb::sqlite_in(disk.path()).await;
    let app = crate::support::changes::app_at(&db.store, crate::support::fixtures::now());
    let events = 12_000;
    // The document is kept with the job; then something else takes the last bytes.
    let id = harvests_queued(&app, events).await;
    disk.fill();
    truyxuat::app::capture_jobs::start_worker(app.clone());

    // Long enough for the worker to take the job, fail, and try again (every 5 s).
    tokio::time::sleep(Duration::from_secs(8)).await;
    let job = db.store.capture_job(id).await.unwrap().unwrap();
    assert!(
        matches!(job.state, JobState::Queued | JobState::Running) && job.captured == 0,
        "on a full disk the job ended {:?} with {} captured: {:?}",
        job.state,
        job.captured,
        job.error
    );
    assert_eq!(
        events_stored(&db.store, events).await,
        0,
        "events stored on a full disk"
    );

    std::fs::remove_file(disk.path().join("filler")).unwrap();
    disk.grow("512m");
    let job = capture_ended(&db.store, id).await;
    assert_eq!(job.state, JobState::Done, "{:?}", job.error);
    assert_eq!(job.captured, events as i64);
    assert_eq!(
        events_stored(&db.store, events).await,
        events,
        "every event once"
    );
}

/// A print job whose file finds the disk full waits, and is printed whole by itself once
/// space returns: it neither fails nor stays running with no one on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_print_job_on_a_full_disk_is_printed_whole_once_space_returns() {
    use truyxuat::app::labels::MintRequest;
    use truyxuat::domain::batch::{IndexRange, Profile};
    use truyxuat::domain::job::{JobState, PrintSpec};
    use truyxuat::jobs::PrintWorker;

    use crate::support::changes::Changes;

    let Some(disk) = SmallDisk::mount("16m") else {
        return;
    };
    // The database has room; the folder the files go to has none.
    let home = tempfile::tempdir().unwrap();
    let app = TestApp::on_with_demo(TestDb::sqlite_in(home.path()).await).await;
    let store = app.db.store.clone();
    let labels = 5_000;
    let request = MintRequest {
        product_id: 1,
        count: labels,
        lot: Some("CD-2026-10A".into()),
        profile: Profile::Compact,
    };
    let keys = crate::support::labels::keys();
    let now = crate::support::fixtures::now();
    let batch = store.mint(&keys, &request, labels, now).await.unwrap();
    let spec = PrintSpec {
        format: "csv".into(),
        layout: "a4-5x8".into(),
        dpi: 300,
        range: IndexRange {
            first: 0,
            end: labels,
        },
        calibration: false,
        no_text: false,
    };
    let caller = truyxuat::app::Caller::cli();
    let job = truyxuat::app::labels::order_print(&app.app, &caller, batch.id, &spec)
        .await
        .unwrap();
    disk.fill();
    let folder = disk.path().join("print-jobs");
    PrintWorker {
        store: store.clone(),
        clock: Arc::new(truyxuat::clock::ManualClock::new(now)),
        keyring: Arc::new(keys),
        base: truyxuat::labelcode::LabelBase::parse("http://127.0.0.1:8080").ok(),
        folder: folder.clone(),
        keep: chrono::Duration::days(7),
    }
    .start();

    // Long enough for the worker to take the job, fail to write, and try again (every 5 s).
    tokio::time::sleep(Duration::from_secs(8)).await;
    let waiting = store.print_job(job.id).await.unwrap().unwrap();
    assert!(
        matches!(waiting.state, JobState::Queued | JobState::Running),
        "on a full disk the job ended {:?}: {:?}",
        waiting.state,
        waiting.error
    );

    std::fs::remove_file(disk.path().join("filler")).unwrap();
    disk.grow("64m");
    let look = || async { store.print_job(job.id).await.unwrap().unwrap() };
    let done = ended(look, |j| j.state).await;
    assert_eq!(done.state, JobState::Done, "{:?}", done.error);
    let csv = std::fs::read_to_string(PrintWorker::path_of(&folder, &done)).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + labels as usize,
        "a header and every label"
    );
}

/// Where the PostgreSQL server of the tests listens.
fn postgres_address() -> std::net::SocketAddr {
    let url = std::env::var(crate::support::db::POSTGRES_URL_VAR).unwrap_or_else(|_| {
        panic!(
            "{} is not set: PostgreSQL tests cannot run",
            crate::support::db::POSTGRES_URL_VAR
        )
    });
    let options: sqlx::postgres::PgConnectOptions = url.parse().expect("PostgreSQL URL");
    let host = match options.get_host() {
        "localhost" => "127.0.0.1",
        host => host,
    };
    format!("{host}:{}", options.get_port())
        .parse()
        .expect("the test server is named by its address")
}

/// Run with the other PostgreSQL tests (`make test` skips them by this module's name when
/// no server answers).
mod postgres {
    use super::*;

    /// PostgreSQL goes away under load and comes back: requests get a 503 page or problem
    /// within about two seconds instead of hanging, `/readyz` says so as fast, nothing
    /// acknowledged is lost, and the same process serves again once the server is back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn going_away_gets_503s_fast_and_loses_nothing() {
        let proxy = CuttableProxy::start(postgres_address()).await;
        let db = TestDb::postgres_on(Some(proxy.port)).await;
        let url = db.url.clone();
        let app = Arc::new(TestApp::on_with_demo(db).await);
        let paths = labels(&app, 200).await;
        let mut ack = Acknowledged::default();
        load(&app, &paths, 5, 0, &mut ack, |_| false).await;
        assert_eq!(ack.refused, 0);

        proxy.cut();
        let before = (
            ack.scans,
            ack.documents.len(),
            ack.products.len(),
            ack.events.len(),
        );
        let started = Instant::now();
        load(&app, &paths, 1, 100, &mut ack, |_| false).await;
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(4),
            "a round of requests took {took:?}"
        );
        assert_eq!(
            (
                ack.scans,
                ack.documents.len(),
                ack.products.len(),
                ack.events.len()
            ),
            before,
            "a write was acknowledged while the database was away"
        );
        // Eight scans, a document, a product and an event capture.
        assert_eq!(ack.refused, 11, "every request of the round is refused");
        // Reads too, at once: a shopper's page, a product page, the home page, the API and
        // the readiness probe each answer 503 within about two seconds.
        let started = Instant::now();
        let (scan, product, home, ready, api) = tokio::join!(
            app.get(&paths[1]),
            app.get("/products/1"),
            app.get("/?q=gao"),
            app.get("/readyz"),
            app.api_get("/api/v1/products"),
        );
        let took = started.elapsed();
        assert!(took < Duration::from_secs(4), "the reads took {took:?}");
        for (what, reply) in [
            ("scan", &scan),
            ("product", &product),
            ("home", &home),
            ("readyz", &ready),
            ("api", &api),
        ] {
            assert_eq!(
                reply.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{what}: {}",
                reply.body
            );
        }
        for page in [&scan, &product, &home] {
            assert_eq!(page.header("retry-after"), "10");
            assert!(page.header("content-type").starts_with("text/html"));
            assert_eq!(page.texts("h1"), vec!["503 · Hệ thống tạm thời gián đoạn"]);
        }
        assert_eq!(api.header("content-type"), "application/problem+json");
        assert_eq!(api.header("retry-after"), "10");

        proxy.restore().await;
        let refused = ack.refused;
        load(&app, &paths, 5, 200, &mut ack, |_| false).await;
        assert_eq!(
            ack.refused, refused,
            "a write failed after the database came back"
        );
        assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
        assert_stored(&url, &ack).await;
        Arc::into_inner(app)
            .expect("the load has ended")
            .db
            .finish()
            .await;
    }

    /// PostgreSQL goes away while the worker captures a large document and comes back: the
    /// job is captured whole, once, by itself, and the capture job says so.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_capture_job_cut_off_from_the_database_is_captured_whole_once_it_returns() {
        use truyxuat::domain::job::JobState;

        let proxy = CuttableProxy::start(postgres_address()).await;
        let db = TestDb::postgres_on(Some(proxy.port)).await;
        // What the test reads goes straight to the server, past the proxy.
        let direct = truyxuat::store::open(&db.url).await.unwrap();
        let app = crate::support::changes::app_at(&db.store, crate::support::fixtures::now());
        let events = 20_000;
        let id = super::harvests_queued(&app, events).await;
        truyxuat::app::capture_jobs::start_worker(app.clone());

        // Cut while the worker captures: its transaction goes with the connections.
        let mut state = JobState::Queued;
        for _ in 0..3000 {
            state = direct.capture_job(id).await.unwrap().unwrap().state;
            if state != JobState::Queued {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(state, JobState::Running, "the worker did not take the job");
        proxy.cut();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let job = direct.capture_job(id).await.unwrap().unwrap();
        assert_eq!(
            (job.state, job.captured),
            (JobState::Running, 0),
            "the job ended while the database was away: {:?}",
            job.error
        );
        proxy.restore().await;

        let job = super::capture_ended(&direct, id).await;
        assert_eq!(job.state, JobState::Done, "{:?}", job.error);
        assert_eq!(job.captured, events as i64);
        let stored = super::events_stored(&direct, events).await;
        assert_eq!(stored, events, "every event once");
        db.finish().await;
    }
}

/// A province's whole product list imported by the CLI while the server serves shoppers:
/// the import checks and resolves everything before it takes SQLite's write lock, so it
/// holds the lock briefly, and the scans that must wait for it wait rather than fail.
#[test]
fn a_60000_product_import_leaves_every_scan_answered() {
    use std::io::{Read, Write};

    let env = crate::support::cli_env::CliEnv::new();
    let (_, uris) = env.demo_batch(50);
    let paths: Vec<String> = uris
        .iter()
        .map(|u| u["https://truyxuat.lamdong.gov.vn".len()..].to_owned())
        .collect();
    let gtin = |n: usize| {
        let body = format!("89347{n:07}");
        let sum: u32 = (body.chars().rev().enumerate())
            .map(|(i, c)| c.to_digit(10).unwrap() * if i % 2 == 0 { 3 } else { 1 })
            .sum();
        format!("{body}{}", (10 - sum % 10) % 10)
    };
    let products: Vec<serde_json::Value> = (0..60_000)
        .map(|i| {
            serde_json::json!({"key": format!("p{i}"), "producer": format!("htx{}", i % 50),
                "name": format!("Sản phẩm {i}"), "category": "Chè", "unit": "hộp", "gtin": gtin(i)})
        })
        .collect();
    let organizations: Vec<serde_json::Value> = (0..50)
        .map(|i| {
            serde_json::json!({"key": format!("htx{i}"), "kind": "cooperative",
                "name": format!("HTX {i}"), "province": "Lâm Đồng"})
        })
        .collect();
    let file = env.path("province.json");
    std::fs::write(
        &file,
        serde_json::json!({"organizations": organizations, "products": products}).to_string(),
    )
    .unwrap();

    let server = env.serve();
    let address = server.address.clone();
    let scan = move |path: &str| -> (u16, usize, Duration) {
        let started = Instant::now();
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(stream, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let text = String::from_utf8_lossy(&response);
        let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, response.len(), started.elapsed())
    };
    let mut import = env
        .command()
        // Debug logs would fill the pipe (read only at the end) and stall the import.
        .env("TRUYXUAT_LOG", "info")
        .args(["import", file.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut answers = Vec::new();
    let mut slowest = Duration::ZERO;
    let mut n = 0;
    while import.try_wait().unwrap().is_none() {
        let answer = scan(&paths[n % paths.len()]);
        slowest = slowest.max(answer.2);
        answers.push(answer);
        n += 1;
    }
    let out = import.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let failed: Vec<_> = answers
        .iter()
        .filter(|(status, ..)| *status != 200)
        .collect();
    if !failed.is_empty() {
        server.stop();
        // What the server said went wrong, to tell a timeout from a dropped connection.
        let log = String::from_utf8_lossy(&env.log()).into_owned();
        let trouble: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR") || l.contains("panicked"))
            .take(40)
            .collect();
        panic!(
            "{} of {} scans failed during the import (status, bytes, time): {failed:?}\n{}",
            failed.len(),
            answers.len(),
            trouble.join("\n")
        );
    }
    assert!(answers.len() > 1, "the import ended before a scan");
    eprintln!(
        "{} scans during the import, the slowest in {slowest:?}",
        answers.len()
    );
    let listed = env.ok(&["products", "--search", "san pham 59999"]);
    assert!(listed.contains("Sản phẩm 59999"), "{listed}");
    server.stop();
}
