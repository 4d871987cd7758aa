//! A small fixed-window rate limiter by client address, for the shoppers' report form.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `max` events per `window` from one address.
pub struct RateLimiter {
    window: Duration,
    max: u32,
    seen: Mutex<HashMap<Option<IpAddr>, (Instant, u32)>>,
}

/// Addresses remembered at most; beyond this, expired windows are dropped first.
const MAX_TRACKED: usize = 100_000;

impl RateLimiter {
    pub fn new(max: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            window,
            max,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event from `client` (None: address unknown, all such share one window);
    /// false when the client is over its limit.
    pub fn allow(&self, client: Option<IpAddr>, now: Instant) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        if seen.len() >= MAX_TRACKED {
            let window = self.window;
            seen.retain(|_, (start, _)| now.duration_since(*start) < window);
            if seen.len() >= MAX_TRACKED {
                return false;
            }
        }
        let entry = seen.entry(client).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_the_limit_per_window() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(limiter.allow(a, t0));
        assert!(limiter.allow(a, t0));
        assert!(!limiter.allow(a, t0));
        assert!(limiter.allow(b, t0));
        assert!(limiter.allow(a, t0 + Duration::from_secs(61)));
    }
}
