//! Settings from command-line flags and `TRUYXUAT_*` environment variables. A flag wins over
//! the environment, the environment over the defaults; there is no config file to override
//! either silently. Secrets never appear in `Debug` output or logs.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// A secret string: usable, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.len() < 8 {
            return Err("must be at least 8 characters".into());
        }
        Ok(Secret(s.to_owned()))
    }
}

/// The "created" time of a key given in the environment, for the commands that only sign
/// or verify with it (what is published is the time the service first saw it).
pub const ENV_KEY_EPOCH: chrono::DateTime<chrono::Utc> = chrono::DateTime::UNIX_EPOCH;

/// The settings every command shares.
#[derive(Args, Clone)]
pub struct Settings {
    /// Database: `sqlite://FILE` (created if missing) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        global = true,
        env = "TRUYXUAT_DATABASE_URL",
        default_value = "sqlite://truyxuat.db",
        hide_env_values = true
    )]
    pub database_url: String,

    /// Address the HTTP server listens on.
    #[arg(
        long,
        global = true,
        env = "TRUYXUAT_BIND",
        default_value = "127.0.0.1:8080"
    )]
    pub bind: SocketAddr,

    /// Public base URL that QR labels point at, e.g. `https://truyxuat.lamdong.gov.vn`.
    /// Defaults to `http://` and the bind address.
    #[arg(long, global = true, env = "TRUYXUAT_BASE_URL")]
    pub base_url: Option<String>,

    /// Folder of the label signing keys (kept outside the database).
    #[arg(long, global = true, env = "TRUYXUAT_KEY_DIR", default_value = "keys")]
    pub key_dir: PathBuf,

    /// A single signing key (64 hex digits) instead of the key folder, for containers.
    #[arg(
        long,
        global = true,
        env = "TRUYXUAT_SIGNING_KEY",
        hide_env_values = true
    )]
    pub signing_key: Option<Secret>,

    /// Folder of files the server keeps for a while (finished print runs).
    #[arg(long, global = true, env = "TRUYXUAT_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Days a finished print run's file is kept for download.
    #[arg(
        long,
        global = true,
        env = "TRUYXUAT_PRINT_FILES_DAYS",
        default_value_t = 7
    )]
    pub print_files_days: u32,

    /// Seconds between the audit log's signed checkpoints while entries arrive (0: only
    /// when asked, by `truyxuat audit checkpoint`).
    #[arg(
        long,
        global = true,
        env = "TRUYXUAT_AUDIT_CHECKPOINT_SECS",
        default_value_t = 60
    )]
    pub audit_checkpoint_secs: u64,

    /// The most labels one batch may hold.
    #[arg(long, global = true, env = "TRUYXUAT_MAX_BATCH", default_value_t = crate::app::labels::DEFAULT_MAX_BATCH)]
    pub max_batch: u32,

    /// How long, in milliseconds, a scan page may show records that another process (the
    /// CLI, another instance on the same PostgreSQL) has since changed. Changes made by this
    /// process show at once; 0 reads the records on every scan.
    #[arg(
        long,
        global = true,
        env = "TRUYXUAT_SCAN_CACHE_TTL_MS",
        default_value_t = 2000
    )]
    pub scan_cache_ttl_ms: u64,

    /// Seconds a client has to send a whole request head (slow or silent connections are
    /// closed after it).
    #[arg(
        long,
        global = true,
        env = "TRUYXUAT_HEADER_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub header_timeout_secs: u64,

    /// Seconds a connection may stay open with no bytes moving either way.
    #[arg(
        long,
        global = true,
        env = "TRUYXUAT_IDLE_TIMEOUT_SECS",
        default_value_t = 5
    )]
    pub idle_timeout_secs: u64,

    /// Seconds a request may take before it is answered 503 (try again).
    #[arg(
        long,
        global = true,
        env = "TRUYXUAT_REQUEST_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub request_timeout_secs: u64,

    /// Connections open at once, at most; more wait in the kernel's queue.
    #[arg(
        long,
        global = true,
        env = "TRUYXUAT_MAX_CONNECTIONS",
        default_value_t = 1024
    )]
    pub max_connections: usize,

    /// The reverse proxies (addresses or networks, comma-separated, e.g. `127.0.0.1,::1`)
    /// whose `Forwarded` or `X-Forwarded-For` header names the client; from anyone else
    /// those headers are ignored. Empty: the connection's address is the client.
    #[arg(
        long,
        global = true,
        env = "TRUYXUAT_TRUSTED_PROXIES",
        default_value = ""
    )]
    pub trusted_proxies: crate::web::rate_limit::TrustedProxies,

    /// Log filter, as in `info` or `truyxuat=debug,sqlx=warn`.
    #[arg(long, global = true, env = "TRUYXUAT_LOG", default_value = "info")]
    pub log: String,
}

impl Settings {
    /// The signing keys: the one in `TRUYXUAT_SIGNING_KEY`, or those of the key folder.
    pub fn keyring(&self) -> anyhow::Result<crate::labelcode::Keyring> {
        use anyhow::Context;
        match &self.signing_key {
            Some(seed) => {
                crate::labelcode::keystore::keyring_from_env(seed.expose(), ENV_KEY_EPOCH)
                    .context("TRUYXUAT_SIGNING_KEY is not a key")
            }
            None => crate::labelcode::keystore::load(&self.key_dir)
                .with_context(|| format!("cannot load the keys in {}", self.key_dir.display())),
        }
    }

    /// The base URL labels are minted with.
    /// Where finished print runs are kept.
    pub fn print_folder(&self) -> PathBuf {
        self.data_dir.join("print-jobs")
    }

    pub fn label_base(&self) -> anyhow::Result<crate::labelcode::LabelBase> {
        crate::labelcode::LabelBase::parse(&self.base_url())
            .map_err(|e| anyhow::anyhow!("TRUYXUAT_BASE_URL: {e}"))
    }

    /// How the server treats connections.
    pub fn connection_limits(&self) -> crate::web::server::ConnectionLimits {
        use std::time::Duration;
        crate::web::server::ConnectionLimits {
            header_timeout: Duration::from_secs(self.header_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs.max(1)),
            max_connections: self.max_connections.max(1),
            shutdown_grace: Duration::from_secs(20),
        }
    }

    /// The base URL without a trailing slash.
    pub fn base_url(&self) -> String {
        self.base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
            .trim_end_matches('/')
            .to_owned()
    }
}

/// The database URL with any password replaced, safe for logs: the one in the user part
/// (`postgres://app:secret@db/x`) and any given as a parameter (`?password=secret`,
/// `sslpassword=`).
pub fn redact_url(url: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (url, None),
    };
    let main = match (main.find("://"), main.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &main[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &main[..scheme_end + 3], &main[at..]),
                None => main.to_owned(),
            }
        }
        _ => main.to_owned(),
    };
    let Some(query) = query else {
        return main;
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.to_ascii_lowercase().contains("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{main}?{}", query.join("&"))
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind", &self.bind)
            .field("base_url", &self.base_url())
            .field("key_dir", &self.key_dir)
            .field("signing_key", &self.signing_key)
            .field("max_batch", &self.max_batch)
            .field("scan_cache_ttl_ms", &self.scan_cache_ttl_ms)
            .field("header_timeout_secs", &self.header_timeout_secs)
            .field("idle_timeout_secs", &self.idle_timeout_secs)
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("max_connections", &self.max_connections)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("log", &self.log)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_tokens_are_not_printed() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.internal:5432/truyxuat"),
            "postgres://app:***@db.internal:5432/truyxuat"
        );
        assert_eq!(redact_url("sqlite://truyxuat.db"), "sqlite://truyxuat.db");
        assert_eq!(
            redact_url("postgres://app@db/truyxuat?sslmode=require&password=s3cret&sslpassword=k"),
            "postgres://app@db/truyxuat?sslmode=require&password=***&sslpassword=***"
        );
        let token: Secret = "very-secret-token".parse().unwrap();
        assert!(!format!("{token:?}").contains("very-secret"));
    }
}
