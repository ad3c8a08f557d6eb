//! Open connections per client address (IPv6 by /64). A connection over
//! the limit is greeted with `* BYE [UNAVAILABLE]` and closed before any
//! session exists. Loopback may be exempt (a local proxy).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tidemark_imap_server::throttle::ip_key;

pub struct ConnLimiter {
    max: usize,
    exempt_loopback: bool,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// Holds one connection's place; gives it back when dropped.
pub struct ConnGuard {
    limiter: Arc<ConnLimiter>,
    key: Option<IpAddr>,
}

impl ConnLimiter {
    /// `max` connections per address; 0: no limit.
    pub fn new(max: usize, exempt_loopback: bool) -> Arc<ConnLimiter> {
        Arc::new(ConnLimiter {
            max,
            exempt_loopback,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A place for a connection from `ip`, or `None` when it has too many.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Option<ConnGuard> {
        let k = ip_key(ip);
        if self.max == 0 || (self.exempt_loopback && k.is_loopback()) {
            return Some(ConnGuard {
                limiter: self.clone(),
                key: None,
            });
        }
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(k).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(ConnGuard {
            limiter: self.clone(),
            key: Some(k),
        })
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let Some(k) = self.key else { return };
        let mut open = self.limiter.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&k) {
            *n -= 1;
            if *n == 0 {
                open.remove(&k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_address_and_gives_back() {
        let l = ConnLimiter::new(2, true);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let g1 = l.acquire(a).expect("1");
        let _g2 = l.acquire(a).expect("2");
        assert!(l.acquire(a).is_none(), "third refused");
        assert!(
            l.acquire("192.0.2.2".parse().unwrap()).is_some(),
            "other address"
        );
        drop(g1);
        assert!(l.acquire(a).is_some(), "a place came back");
        let six: IpAddr = "2001:db8::1".parse().unwrap();
        let _h = (
            l.acquire(six).expect("1"),
            l.acquire("2001:db8::2".parse().unwrap()).expect("2"),
        );
        assert!(
            l.acquire("2001:db8::ffff".parse().unwrap()).is_none(),
            "same /64"
        );
        let loop_guards: Vec<_> = (0..5)
            .map(|_| l.acquire("127.0.0.1".parse().unwrap()))
            .collect();
        assert!(loop_guards.iter().all(Option::is_some), "loopback exempt");
        assert_eq!(
            l.open.lock().unwrap().len(),
            2,
            "nothing kept for exempt peers"
        );
    }
}
