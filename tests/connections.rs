//! Connections as an attacker or a bad network holds them: half-open, idle, too many, too
//! slow. The server closes what it must and keeps answering everyone else.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use axum::http::StatusCode;

use crate::support::cli_env::CliEnv;
use crate::support::http::TestApp;

/// A whole HTTP/1.0 exchange; returns the status code and the time it took.
fn get(address: &str, path: &str) -> (u16, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let status = String::from_utf8_lossy(&response)
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, started.elapsed())
}

/// Whether the server has closed `stream` (a read ends or fails) within `wait`.
fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 256];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn a_thousand_half_open_connections_are_closed_after_the_header_timeout() {
    let env = CliEnv::new();
    let server = env.serve_with(&[
        ("TRUYXUAT_HEADER_TIMEOUT_SECS", "2"),
        ("TRUYXUAT_IDLE_TIMEOUT_SECS", "60"),
    ]);
    let opened = Instant::now();
    let mut held: Vec<TcpStream> = (0..1000)
        .map(|i| {
            let mut stream = TcpStream::connect(&server.address).unwrap();
            // Half say nothing; half start a request and stop.
            if i % 2 == 1 {
                stream.write_all(b"GET / HT").unwrap();
            }
            stream
        })
        .collect();
    // Meanwhile everyone else is served.
    let (status, _) = get(&server.address, "/healthz");
    assert_eq!(status, 200);
    let mut open = 0;
    for stream in &mut held {
        let left = Duration::from_secs(8).saturating_sub(opened.elapsed());
        if !closed_within(stream, left.max(Duration::from_millis(1))) {
            open += 1;
        }
    }
    let took = opened.elapsed();
    assert_eq!(open, 0, "{open} of 1000 still open after {took:?}");
    assert!(
        took >= Duration::from_secs(2),
        "closed before the timeout: {took:?}"
    );
    server.stop();
}

#[test]
fn an_idle_kept_alive_connection_is_closed_and_connections_beyond_the_limit_wait() {
    let env = CliEnv::new();
    let server = env.serve_with(&[
        ("TRUYXUAT_HEADER_TIMEOUT_SECS", "2"),
        ("TRUYXUAT_IDLE_TIMEOUT_SECS", "1"),
        ("TRUYXUAT_MAX_CONNECTIONS", "4"),
    ]);
    // A served request on a kept-alive connection, then silence: closed after the idle time.
    let mut kept = TcpStream::connect(&server.address).unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut head = [0u8; 12];
    kept.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let served = Instant::now();
    assert!(closed_within(&mut kept, Duration::from_secs(5)));
    let idle = served.elapsed();
    assert!(
        idle >= Duration::from_millis(900) && idle < Duration::from_secs(4),
        "closed after {idle:?}"
    );
    drop(kept);

    // Four silent connections take every place; a fifth waits until the idle timeout frees
    // one (a second after they opened), and is then served, not refused.
    let silent: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(&server.address).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let (status, took) = get(&server.address, "/healthz");
    assert_eq!(status, 200);
    assert!(
        took >= Duration::from_millis(500),
        "served at once: {took:?}"
    );
    drop(silent);
    server.stop();
}

/// A request still running after the request timeout is answered 503 with a body that says
/// so (here a write waiting for a database another process holds locked).
#[tokio::test]
async fn a_request_over_the_time_limit_gets_a_503_that_says_so() {
    let app = TestApp::with_settings(&["--request-timeout-secs", "1"]).await;
    let producer = app
        .api(
            "POST",
            "/api/v1/organizations",
            serde_json::json!({"kind": "cooperative", "name": "HTX", "province": "Lâm Đồng"}),
        )
        .await
        .json()["id"]
        .clone();
    let mut other_process: sqlx::SqliteConnection =
        sqlx::Connection::connect(&app.db.url).await.unwrap();
    sqlx::Executor::execute(&mut other_process, "BEGIN EXCLUSIVE")
        .await
        .unwrap();
    let product = serde_json::json!({"producer_id": producer, "name": "Chè", "category": "Chè", "unit": "hộp"});
    let started = Instant::now();
    let reply = app.api("POST", "/api/v1/products", product.clone()).await;
    let took = started.elapsed();
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert_eq!(reply.header("content-type"), "application/problem+json");
    assert!(reply.body.contains("took too long"), "{}", reply.body);
    assert!(took < Duration::from_secs(3), "{took:?}");
    sqlx::Executor::execute(&mut other_process, "ROLLBACK")
        .await
        .unwrap();
    // Once the lock is gone, the same request goes through.
    let reply = app.api("POST", "/api/v1/products", product).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

/// Requests that arrive while the server cannot run (a busy machine, a long pause) are
/// answered once it runs again: a connection is idle when its bytes wait unread, not when
/// the server was too busy to read them.
#[test]
fn requests_sent_while_the_server_was_stalled_are_answered() {
    use std::sync::{Arc, Barrier};
    use truyxuat::web::server::{self, ConnectionLimits};

    // One thread runs the whole server, so that the test can stall it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(async { server::bind("127.0.0.1:0".parse().unwrap()) })
        .unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    let limits = ConnectionLimits {
        header_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(1),
        max_connections: 64,
        shutdown_grace: Duration::from_secs(1),
    };
    let clients = 16;
    let send = Arc::new(Barrier::new(clients + 1));
    runtime.block_on(async {
        tokio::spawn(server::serve(listener, app, limits, std::future::pending()));
        // The clients connect, and the server takes their connections and waits for their
        // requests.
        let waiting: Vec<_> = (0..clients)
            .map(|_| {
                let (address, send) = (address.clone(), send.clone());
                std::thread::spawn(move || {
                    let mut stream = TcpStream::connect(&address).unwrap();
                    send.wait();
                    std::thread::sleep(Duration::from_millis(200));
                    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
                    let mut response = Vec::new();
                    stream.read_to_end(&mut response).unwrap();
                    String::from_utf8_lossy(&response).into_owned()
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The server stalls for twice the idle timeout; the requests arrive meanwhile.
        send.wait();
        tokio::spawn(async { std::thread::sleep(Duration::from_secs(2)) });
        tokio::task::yield_now().await;
        let answers: Vec<String> = tokio::task::spawn_blocking(move || {
            waiting.into_iter().map(|c| c.join().unwrap()).collect()
        })
        .await
        .unwrap();
        let dropped = answers
            .iter()
            .filter(|a| !a.starts_with("HTTP/1.0 200"))
            .count();
        assert_eq!(dropped, 0, "{dropped} of {clients} requests got no answer");
    });
}
