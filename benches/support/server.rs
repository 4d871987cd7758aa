//! A `truyxuat serve` under a benchmark: waiting until it answers, and its peak memory.

use std::process::{Child, Command};
use std::time::Duration;

/// Waits (10 s at most) until the server at `base` says it is ready.
pub fn wait_ready(base: &str) {
    for _ in 0..100 {
        if Command::new("curl")
            .args(["-sf", &format!("{base}/readyz")])
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The server's peak resident memory so far, in MB.
pub fn peak_mb(server: &Child) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.id())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .expect("VmHWM")
}
