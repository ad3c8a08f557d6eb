//! Failed-authentication throttling.
//!
//! - Per client address (IPv6 by /64): after `per_ip` failures within the
//!   window, every further attempt from that address fails at once, without
//!   checking credentials (no password guessing, no CPU for argon2), with
//!   the usual `NO [AUTHENTICATIONFAILED]` after the usual delay, until the
//!   window ends.
//! - Per account name (existing or not, so the throttle tells nothing about
//!   which names exist): after `per_account` failures within the window,
//!   each further failure for that name is answered `account_delay` later.
//!   Slowing rather than locking, so nobody can lock a user out.
//!
//! Loopback addresses are exempt from the per-address rule when configured
//! (a local proxy carries many users). The tables are bounded: past
//! [`MAX_ENTRIES`], expired windows are dropped and new names are not
//! tracked until there is room.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries per table at most.
pub const MAX_ENTRIES: usize = 100_000;

/// The settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failures per address before it is refused; 0: no limit.
    pub per_ip: u32,
    /// Failures per account name before failures are slowed; 0: no limit.
    pub per_account: u32,
    pub window: Duration,
    pub account_delay: Duration,
    pub exempt_loopback: bool,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            per_ip: 10,
            per_account: 20,
            window: Duration::from_secs(600),
            account_delay: Duration::from_secs(5),
            exempt_loopback: true,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    failures: u32,
}

pub struct AuthThrottle {
    cfg: ThrottleConfig,
    ips: Mutex<HashMap<IpAddr, Window>>,
    accounts: Mutex<HashMap<String, Window>>,
}

/// The address a limit counts: IPv4 as is; IPv6 by its /64 (one
/// customer's network), IPv4-mapped IPv6 as IPv4.
pub fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl AuthThrottle {
    pub fn new(cfg: ThrottleConfig) -> AuthThrottle {
        AuthThrottle {
            cfg,
            ips: Mutex::new(HashMap::new()),
            accounts: Mutex::new(HashMap::new()),
        }
    }

    fn current(&self, w: &Window, now: Instant) -> u32 {
        if now.duration_since(w.start) < self.cfg.window {
            w.failures
        } else {
            0
        }
    }

    fn exempt(&self, ip: IpAddr) -> bool {
        self.cfg.per_ip == 0 || (self.cfg.exempt_loopback && ip_key(ip).is_loopback())
    }

    /// Whether an attempt from `ip` is refused without checking anything.
    pub fn ip_blocked(&self, ip: IpAddr) -> bool {
        if self.exempt(ip) {
            return false;
        }
        let now = Instant::now();
        lock(&self.ips)
            .get(&ip_key(ip))
            .is_some_and(|w| self.current(w, now) >= self.cfg.per_ip)
    }

    /// Records a failure; returns the extra delay for `account`.
    pub fn failed(&self, ip: IpAddr, account: Option<&str>) -> Duration {
        let now = Instant::now();
        if !self.exempt(ip) {
            self.bump(&self.ips, ip_key(ip), now);
        }
        let Some(name) = account.filter(|_| self.cfg.per_account > 0) else {
            return Duration::ZERO;
        };
        let n = self.bump(&self.accounts, name.to_lowercase(), now);
        if n > self.cfg.per_account {
            self.cfg.account_delay
        } else {
            Duration::ZERO
        }
    }

    fn bump<K: std::hash::Hash + Eq>(
        &self,
        table: &Mutex<HashMap<K, Window>>,
        key: K,
        now: Instant,
    ) -> u32 {
        let mut t = lock(table);
        if t.len() >= MAX_ENTRIES && !t.contains_key(&key) {
            let window = self.cfg.window;
            t.retain(|_, w| now.duration_since(w.start) < window);
            if t.len() >= MAX_ENTRIES {
                return 0;
            }
        }
        let w = t.entry(key).or_insert(Window {
            start: now,
            failures: 0,
        });
        if now.duration_since(w.start) >= self.cfg.window {
            *w = Window {
                start: now,
                failures: 0,
            };
        }
        w.failures += 1;
        w.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn per_ip_block_and_window() {
        let t = AuthThrottle::new(ThrottleConfig {
            per_ip: 3,
            window: Duration::from_millis(200),
            ..ThrottleConfig::default()
        });
        let a = ip("192.0.2.7");
        for _ in 0..3 {
            assert!(!t.ip_blocked(a));
            t.failed(a, None);
        }
        assert!(t.ip_blocked(a));
        assert!(!t.ip_blocked(ip("192.0.2.8")), "another address");
        // IPv6 by /64.
        for _ in 0..3 {
            t.failed(ip("2001:db8:1:2::1"), None);
        }
        assert!(t.ip_blocked(ip("2001:db8:1:2:ffff::9")));
        assert!(!t.ip_blocked(ip("2001:db8:1:3::1")));
        // Loopback is exempt by default.
        for _ in 0..5 {
            t.failed(ip("127.0.0.1"), None);
        }
        assert!(!t.ip_blocked(ip("127.0.0.1")));
        std::thread::sleep(Duration::from_millis(250));
        assert!(!t.ip_blocked(a), "the window ended");
    }

    #[test]
    fn per_account_delay_is_the_same_for_any_name() {
        let t = AuthThrottle::new(ThrottleConfig {
            per_account: 2,
            ..ThrottleConfig::default()
        });
        for name in ["alice", "no-such-user"] {
            assert_eq!(t.failed(ip("192.0.2.1"), Some(name)), Duration::ZERO);
            assert_eq!(t.failed(ip("192.0.2.2"), Some(name)), Duration::ZERO);
            assert_eq!(
                t.failed(ip("192.0.2.3"), Some(name)),
                Duration::from_secs(5)
            );
        }
        assert_eq!(
            t.failed(ip("192.0.2.3"), Some("ALICE")),
            Duration::from_secs(5),
            "case-insensitive"
        );
    }
}
