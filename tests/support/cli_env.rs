//! The real binary against a database and a key folder of its own, in a temporary folder;
//! everything the commands print is kept, so that tests can read it (or search it).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_truyxuat");

pub struct CliEnv {
    pub dir: tempfile::TempDir,
    base_url: String,
    log: Arc<Mutex<Vec<u8>>>,
}

impl CliEnv {
    /// Labels point at `https://truyxuat.lamdong.gov.vn`.
    pub fn new() -> CliEnv {
        CliEnv::with_base_url("https://truyxuat.lamdong.gov.vn")
    }

    pub fn with_base_url(base_url: &str) -> CliEnv {
        CliEnv {
            dir: tempfile::tempdir().expect("temporary folder"),
            base_url: base_url.to_owned(),
            log: Arc::default(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn db(&self) -> PathBuf {
        self.path("truyxuat.db")
    }

    pub fn db_url(&self) -> String {
        format!("sqlite://{}", self.db().display())
    }

    pub fn keys(&self) -> PathBuf {
        self.path("keys")
    }

    /// `truyxuat` with this environment's settings (and debug logs, to be searched).
    pub fn command(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env("TRUYXUAT_DATABASE_URL", self.db_url())
            .env("TRUYXUAT_KEY_DIR", self.keys())
            .env("TRUYXUAT_DATA_DIR", self.dir.path().join("data"))
            .env("TRUYXUAT_BASE_URL", &self.base_url)
            .env("TRUYXUAT_LOG", "debug")
            .env_remove("TRUYXUAT_SIGNING_KEY")
            .env_remove("TRUYXUAT_ADMIN_TOKEN");
        c
    }

    /// The demo registry, a signing key and an activated batch of `count` labels of demo
    /// product 1 (a GTIN, lot CD-2026-10A); returns the batch id and its URIs.
    pub fn demo_batch(&self, count: u32) -> (String, Vec<String>) {
        self.ok(&["demo"]);
        self.ok(&["keys", "new"]);
        let count = count.to_string();
        let mint = [
            "mint",
            "--product",
            "1",
            "--count",
            &count,
            "--lot",
            "CD-2026-10A",
        ];
        let batch = self.ok(&mint).trim().to_owned();
        let uris = self.ok(&["labels", &batch]);
        (batch, uris.lines().map(str::to_owned).collect())
    }

    /// Runs a command, keeping what it printed.
    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.command().args(args).output().expect("run truyxuat");
        self.record(&out.stdout);
        self.record(&out.stderr);
        out
    }

    /// Runs a command that must succeed; returns its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "truyxuat {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// Keeps output printed elsewhere (a server's log, say).
    pub fn record(&self, bytes: &[u8]) {
        if let Ok(mut log) = self.log.lock() {
            log.extend_from_slice(bytes);
        }
    }

    /// Everything printed so far.
    pub fn log(&self) -> Vec<u8> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Starts `truyxuat serve` on a free port of the loopback; its log joins this
    /// environment's, read to its end so that the server never writes into a closed pipe.
    pub fn serve(&self) -> Server {
        self.serve_with(&[])
    }

    /// `serve` with these environment variables set as well.
    pub fn serve_with(&self, vars: &[(&str, &str)]) -> Server {
        let mut child = self
            .command()
            .envs(vars.iter().copied())
            .args(["--bind", "127.0.0.1:0", "serve"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start truyxuat serve");
        let stderr = child.stderr.take().expect("server stderr");
        let (address_tx, address_rx) = mpsc::channel();
        let log = self.log.clone();
        let drain = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("address=").nth(1) {
                    let address = rest.split_whitespace().next().unwrap_or_default();
                    let _ = address_tx.send(address.to_owned());
                }
                if let Ok(mut log) = log.lock() {
                    log.extend_from_slice(line.as_bytes());
                    log.push(b'\n');
                }
            }
        });
        let mut server = Server {
            child,
            drain: Some(drain),
            address: String::new(),
        };
        server.address = address_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server says where it listens");
        server
    }
}

/// A running `truyxuat serve`, stopped when dropped.
pub struct Server {
    child: Child,
    drain: Option<JoinHandle<()>>,
    /// Where it listens, as `127.0.0.1:PORT`.
    pub address: String,
}

impl Server {
    /// Stops the server and waits until its whole log has been kept.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(drain) = self.drain.take() {
            let _ = drain.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.halt();
    }
}

/// One HTTP/1.0 request to a server of `serve` (at `address`), with `headers`; its status
/// and body.
pub fn request(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<u8>) {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let mut head = format!("{method} {path} HTTP/1.0\r\nHost: {address}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole response");
    let status = String::from_utf8_lossy(&response[9..12]).parse().unwrap();
    (status, response[split + 4..].to_vec())
}
