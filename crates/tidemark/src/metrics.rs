//! The server's metrics: one prometheus-client [`Registry`] owned by
//! [`Metrics`] (no global state), held in `Shared` and rendered by
//! `GET /metrics` (see `http.rs`).
//!
//! Where the numbers come from:
//! - connections: the accept loops ([`Metrics::connection`], a guard per
//!   connection, by listener name: `imap`, `imaps`, `lmtp`, ...);
//! - IMAP commands, latencies, authentication failures and users online:
//!   the session layer's [`SessionObserver`] hook, implemented here;
//! - store operations: [`crate::timed_store`], a decorator around the
//!   `Store`/`Account` traits that times every call;
//! - LMTP deliveries: [`Metrics::delivery`].

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tidemark_imap_server::{CommandResult, SessionObserver};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerLabel {
    listener: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    command: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabel {
    command: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MechanismLabel {
    mechanism: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: String,
}

/// Seconds from 0.25 ms to about 16 s, doubling.
fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 17))
}

type Latencies<L> = Family<L, Histogram, fn() -> Histogram>;

/// Registers `metric` under `name`; returns it (a handle sharing the value).
fn add<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

/// A family of latency histograms.
fn latencies<L: Clone + std::hash::Hash + Eq>() -> Latencies<L> {
    Family::new_with_constructor(latency_buckets)
}

/// Every metric of the server.
pub struct Metrics {
    registry: Registry,
    started: Instant,
    connections_open: Family<ListenerLabel, Gauge>,
    connections_accepted: Family<ListenerLabel, Counter>,
    commands: Family<CommandLabels, Counter>,
    command_seconds: Latencies<CommandLabel>,
    auth_failures: Family<MechanismLabel, Counter>,
    users_online: Gauge,
    store_seconds: Latencies<OperationLabel>,
    deliveries: Family<ResultLabel, Counter>,
    delivery_recipients: Family<ResultLabel, Counter>,
    delivery_seconds: Histogram,
    /// Open sessions per account (the users-online gauge and `/status`).
    online: Mutex<BTreeMap<String, usize>>,
    /// Listener names in the order they were added (for `/status`).
    listeners: Mutex<Vec<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut r = Registry::with_prefix("tidemark");
        Metrics {
            started: Instant::now(),
            connections_open: add(
                &mut r,
                "connections_open",
                "Open client connections by listener",
                Family::default(),
            ),
            connections_accepted: add(
                &mut r,
                "connections_accepted",
                "Accepted client connections by listener",
                Family::default(),
            ),
            commands: add(
                &mut r,
                "imap_commands",
                "IMAP commands by name and result (ok, no, bad)",
                Family::default(),
            ),
            command_seconds: add(
                &mut r,
                "imap_command_duration_seconds",
                "IMAP command time from dispatch to tagged answer",
                latencies(),
            ),
            auth_failures: add(
                &mut r,
                "auth_failures",
                "Failed authentications by mechanism",
                Family::default(),
            ),
            users_online: add(
                &mut r,
                "users_online",
                "Distinct accounts with at least one session",
                Gauge::default(),
            ),
            store_seconds: add(
                &mut r,
                "store_operation_duration_seconds",
                "Mail store call time by operation",
                latencies(),
            ),
            deliveries: add(
                &mut r,
                "lmtp_deliveries",
                "LMTP deliveries (one per DATA) by result",
                Family::default(),
            ),
            delivery_recipients: add(
                &mut r,
                "lmtp_delivery_recipients",
                "Recipients of LMTP deliveries by result",
                Family::default(),
            ),
            delivery_seconds: add(
                &mut r,
                "lmtp_delivery_duration_seconds",
                "LMTP delivery time (DATA to the last reply)",
                latency_buckets(),
            ),
            online: Mutex::new(BTreeMap::new()),
            listeners: Mutex::new(Vec::new()),
            registry: r,
        }
    }

    /// Announces a listener kind so it shows (with 0) before its first
    /// connection. Repeats are ignored.
    pub fn add_listener(&self, name: &str) {
        let mut l = lock(&self.listeners);
        if !l.iter().any(|n| n == name) {
            l.push(name.to_owned());
            let label = ListenerLabel {
                listener: name.to_owned(),
            };
            let _ = self.connections_open.get_or_create(&label);
            let _ = self.connections_accepted.get_or_create(&label);
        }
    }

    /// Counts an accepted connection on `listener`; it is open until the
    /// guard is dropped.
    pub fn connection(&self, listener: &str) -> ConnectionGuard {
        self.add_listener(listener);
        let label = ListenerLabel {
            listener: listener.to_owned(),
        };
        self.connections_accepted.get_or_create(&label).inc();
        let open = self.connections_open.get_or_create(&label).clone();
        open.inc();
        ConnectionGuard { open }
    }

    /// Open connections per listener, in the order listeners were added.
    pub fn open_connections(&self) -> Vec<(String, i64)> {
        lock(&self.listeners)
            .iter()
            .map(|name| {
                let label = ListenerLabel {
                    listener: name.clone(),
                };
                (
                    name.clone(),
                    self.connections_open.get_or_create(&label).get(),
                )
            })
            .collect()
    }

    /// Accounts with at least one session, sorted.
    pub fn users_online(&self) -> Vec<String> {
        lock(&self.online).keys().cloned().collect()
    }

    /// Time since start.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// One store call took `elapsed`.
    pub fn store_operation(&self, operation: &str, elapsed: Duration) {
        self.store_seconds
            .get_or_create(&OperationLabel {
                operation: operation.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// One LMTP delivery (a DATA with `recipients` accepted recipients)
    /// ended with `result` (e.g. `ok`, `partial`, `failed`, `tempfail`)
    /// after `elapsed`.
    pub fn delivery(&self, result: &str, recipients: usize, elapsed: Duration) {
        let label = ResultLabel {
            result: result.to_owned(),
        };
        self.deliveries.get_or_create(&label).inc();
        self.delivery_recipients
            .get_or_create(&label)
            .inc_by(recipients as u64);
        self.delivery_seconds.observe(elapsed.as_secs_f64());
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!("cannot encode the metrics: {e}");
        }
        out
    }
}

/// An open connection (see [`Metrics::connection`]).
pub struct ConnectionGuard {
    open: Gauge,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.open.dec();
    }
}

impl SessionObserver for Metrics {
    fn command(&self, name: &str, result: CommandResult, elapsed: Duration) {
        self.commands
            .get_or_create(&CommandLabels {
                command: name.to_owned(),
                result: result.as_str().to_owned(),
            })
            .inc();
        self.command_seconds
            .get_or_create(&CommandLabel {
                command: name.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    fn auth_failed(&self, mechanism: &str) {
        self.auth_failures
            .get_or_create(&MechanismLabel {
                mechanism: mechanism.to_owned(),
            })
            .inc();
    }

    fn logged_in(&self, user: &str) {
        let mut online = lock(&self.online);
        *online.entry(user.to_owned()).or_insert(0) += 1;
        self.users_online.set(online.len() as i64);
    }

    fn logged_out(&self, user: &str) {
        let mut online = lock(&self.online);
        if let Some(n) = online.get_mut(user) {
            *n -= 1;
            if *n == 0 {
                online.remove(user);
            }
        }
        self.users_online.set(online.len() as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the sample line starting with `prefix` (name and labels).
    fn sample(text: &str, prefix: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix)?.trim().parse().ok())
    }

    #[test]
    fn delivery_counts_and_times() {
        let m = Metrics::new();
        m.delivery("ok", 3, Duration::from_millis(20));
        m.delivery("ok", 1, Duration::from_millis(5));
        m.delivery("tempfail", 2, Duration::from_secs(2));
        let t = m.render();
        assert_eq!(
            sample(&t, "tidemark_lmtp_deliveries_total{result=\"ok\"}"),
            Some(2.0),
            "{t}"
        );
        assert_eq!(
            sample(&t, "tidemark_lmtp_deliveries_total{result=\"tempfail\"}"),
            Some(1.0)
        );
        assert_eq!(
            sample(&t, "tidemark_lmtp_delivery_recipients_total{result=\"ok\"}"),
            Some(4.0)
        );
        assert_eq!(
            sample(&t, "tidemark_lmtp_delivery_duration_seconds_count"),
            Some(3.0)
        );
        let sum = sample(&t, "tidemark_lmtp_delivery_duration_seconds_sum").unwrap();
        assert!((sum - 2.025).abs() < 1e-9, "{sum}");
        // 20 ms and 5 ms are under the 32 ms bucket, 2 s is not.
        assert_eq!(
            sample(
                &t,
                "tidemark_lmtp_delivery_duration_seconds_bucket{le=\"0.032\"}"
            ),
            Some(2.0),
            "{t}"
        );
    }

    #[test]
    fn connections_and_users() {
        let m = Metrics::new();
        m.add_listener("imap");
        m.add_listener("imaps");
        let a = m.connection("imap");
        let b = m.connection("imap");
        drop(a);
        let _c = m.connection("lmtp");
        assert_eq!(
            m.open_connections(),
            [("imap".into(), 1), ("imaps".into(), 0), ("lmtp".into(), 1)]
        );
        let t = m.render();
        assert_eq!(
            sample(&t, "tidemark_connections_accepted_total{listener=\"imap\"}"),
            Some(2.0)
        );
        drop(b);
        m.logged_in("bob");
        m.logged_in("alice");
        m.logged_in("alice");
        m.logged_out("alice");
        assert_eq!(m.users_online(), ["alice", "bob"]);
        m.logged_out("alice");
        assert_eq!(m.users_online(), ["bob"]);
        assert_eq!(sample(&m.render(), "tidemark_users_online"), Some(1.0));
    }
}
