//! Who a request comes from, behind a reverse proxy, and how often each client may report
//! a problem.
//!
//! TLS is usually ended by nginx or Caddy in front of truyxuat, so every connection comes
//! from the proxy. A proxy named in the trusted-proxies setting may say who its client was
//! (`Forwarded`, `X-Forwarded-For`); anyone else may not, or a shopper could claim any
//! address and escape the limit. IPv6 clients are counted by their /64, the block one
//! household or phone is given.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::HeaderMap;
use governor::clock::Clock as GovernorClock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use ipnet::IpNet;

use crate::clock::Clock;

/// The proxies allowed to say who their client was: addresses and networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list such as `127.0.0.1, 10.0.0.0/8, ::1`.
    fn from_str(list: &str) -> Result<Self, String> {
        let networks = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                IpNet::from_str(s)
                    .or_else(|_| IpAddr::from_str(s).map(IpNet::from))
                    .map_err(|_| format!("'{s}' is not an IP address or network"))
            })
            .collect::<Result<_, _>>()?;
        Ok(TrustedProxies(networks))
    }
}

impl TrustedProxies {
    fn trusts(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client a request comes from: the connection's peer, unless the peer is a trusted
    /// proxy, in which case the nearest address in the forwarding chain that is not itself
    /// a trusted proxy (the chain is read from the right: entries further left were written
    /// by the client and whoever it passed through, and may be forged).
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let chain = forwarded_for(headers);
        let mut client = peer;
        for hop in chain.iter().rev() {
            match hop {
                Some(address) => {
                    client = *address;
                    if !self.trusts(*address) {
                        break;
                    }
                }
                // A hop the proxy could not name ("unknown", an obfuscated id): stop at the
                // last one it could.
                None => break,
            }
        }
        Some(client)
    }
}

/// The `for` addresses of `Forwarded` (RFC 7239), or else of `X-Forwarded-For`, in order;
/// None for a hop that names no address.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(key, _)| key.eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| parse_node(node))
            })
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .map(|hop| parse_node(hop))
        .collect()
}

/// An address as proxies write it: `203.0.113.5`, `203.0.113.5:4711`, `"[2001:db8::1]:4711"`,
/// `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(address) = IpAddr::from_str(node) {
        return Some(address);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return IpAddr::from_str(rest.split(']').next()?).ok();
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    IpAddr::from_str(host).ok()
}

/// What a limit counts by: an IPv4 address, or the /64 of an IPv6 one.
pub fn client_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

/// The service's clock, as governor reads time: nanoseconds since 1970.
#[derive(Clone)]
struct ServiceClock(Arc<dyn Clock>);

impl GovernorClock for ServiceClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let nanos = self.0.now().timestamp_nanos_opt().unwrap_or(0);
        Nanos::from(u64::try_from(nanos).unwrap_or(0))
    }
}

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, ServiceClock, NoOpMiddleware<Nanos>>;

/// Keys remembered at most between clean-ups; a clean-up forgets those whose allowance is
/// whole again.
const CLEAN_UP_EVERY: u64 = 1024;

/// At most `burst` events per key at once, given back one every `per`: "5 reports per 10
/// minutes" is a burst of 5 with one back every 2 minutes.
pub struct KeyedLimiter<K: std::hash::Hash + Eq + Clone> {
    keyed: Keyed<K>,
    clock: ServiceClock,
    checks: AtomicU64,
}

/// Limits by client address (see [`client_key`]).
pub type ClientLimiter = KeyedLimiter<IpAddr>;

impl<K: std::hash::Hash + Eq + Clone> KeyedLimiter<K> {
    pub fn new(burst: u32, per: Duration, clock: Arc<dyn Clock>) -> KeyedLimiter<K> {
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(per.max(Duration::from_millis(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        let clock = ServiceClock(clock);
        KeyedLimiter {
            keyed: RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone()),
            clock,
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one event of `key`; Err with the wait before the next one is allowed when the
    /// key is over its limit.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % CLEAN_UP_EVERY == CLEAN_UP_EVERY - 1 {
            self.keyed.retain_recent();
            self.keyed.shrink_to_fit();
        }
        self.keyed
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Keys remembered now.
    pub fn len(&self) -> usize {
        self.keyed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keyed.is_empty()
    }
}

impl ClientLimiter {
    /// Counts one event from `client` (None, address unknown: all such share one count).
    pub fn check_client(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        let key = client.map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), client_key);
        self.check(&key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use chrono::TimeZone;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_a_trusted_proxy_may_say_who_its_client_was() {
        let trusted: TrustedProxies = "127.0.0.1, 10.0.0.0/8, ::1".parse().unwrap();
        let via = |peer: &str, pairs: Vec<(&'static str, &str)>| {
            trusted.client(Some(ip(peer)), &headers(&pairs))
        };
        let xff = |v: &'static str| vec![("x-forwarded-for", v)];
        // A direct client cannot claim another address.
        assert_eq!(
            via("203.0.113.9", xff("198.51.100.1")),
            Some(ip("203.0.113.9"))
        );
        // Behind the proxy: the nearest untrusted hop, not what the client wrote first.
        assert_eq!(
            via("127.0.0.1", xff("203.0.113.5")),
            Some(ip("203.0.113.5"))
        );
        assert_eq!(
            via("127.0.0.1", xff("198.51.100.1, 203.0.113.5, 10.1.2.3")),
            Some(ip("203.0.113.5"))
        );
        assert_eq!(
            via(
                "::1",
                vec![("forwarded", "for=\"[2001:db8::7]:4711\";proto=https")]
            ),
            Some(ip("2001:db8::7"))
        );
        assert_eq!(
            via(
                "127.0.0.1",
                vec![("forwarded", "for=198.51.100.1, for=203.0.113.5:80")]
            ),
            Some(ip("203.0.113.5"))
        );
        // Nothing forwarded, or nothing usable: the proxy itself.
        assert_eq!(via("127.0.0.1", vec![]), Some(ip("127.0.0.1")));
        assert_eq!(via("127.0.0.1", xff("unknown")), Some(ip("127.0.0.1")));
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("proxy.example".parse::<TrustedProxies>().is_err());
    }

    #[test]
    fn five_reports_then_one_every_two_minutes_per_client_and_per_ipv6_block() {
        let clock = Arc::new(ManualClock::new(
            chrono::Utc.with_ymd_and_hms(2026, 12, 2, 8, 0, 0).unwrap(),
        ));
        let limiter = ClientLimiter::new(5, Duration::from_secs(120), clock.clone());
        let phone = Some(ip("2001:db8:1:2::a"));
        let same_home = Some(ip("2001:db8:1:2:ffff::b"));
        for _ in 0..3 {
            assert_eq!(limiter.check_client(phone), Ok(()));
        }
        for _ in 0..2 {
            assert_eq!(limiter.check_client(same_home), Ok(()));
        }
        assert_eq!(limiter.check_client(phone), Err(Duration::from_secs(120)));
        assert_eq!(limiter.check_client(Some(ip("2001:db8:1:3::a"))), Ok(()));
        assert_eq!(limiter.check_client(Some(ip("203.0.113.5"))), Ok(()));
        clock.advance(chrono::Duration::seconds(120));
        assert_eq!(limiter.check_client(phone), Ok(()));
        assert!(limiter.check_client(phone).is_err());
        // Clients whose allowance is whole again are forgotten at the next clean-up.
        assert_eq!(limiter.len(), 3);
        clock.advance(chrono::Duration::minutes(20));
        for _ in 0..CLEAN_UP_EVERY {
            let _ = limiter.check_client(Some(ip("198.51.100.1")));
        }
        assert_eq!(limiter.len(), 1);
    }
}
