//! The real binary against a database and a key folder of its own, in a temporary folder;
//! everything the commands print is kept, so that tests can read it (or search it).

#![allow(dead_code)]

use std::cell::RefCell;
use std::path::PathBuf;
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_truyxuat");

pub struct CliEnv {
    pub dir: tempfile::TempDir,
    base_url: String,
    log: RefCell<Vec<u8>>,
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
            log: RefCell::new(Vec::new()),
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
            .env("TRUYXUAT_BASE_URL", &self.base_url)
            .env("TRUYXUAT_LOG", "debug")
            .env_remove("TRUYXUAT_SIGNING_KEY")
            .env_remove("TRUYXUAT_ADMIN_TOKEN");
        c
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
        self.log.borrow_mut().extend_from_slice(bytes);
    }

    /// Everything printed so far.
    pub fn log(&self) -> Vec<u8> {
        self.log.borrow().clone()
    }
}
