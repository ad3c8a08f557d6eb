//! `tidemark serve`: start-up, listeners, accept loops, reload, shutdown.

use crate::cli::ServeArgs;
use crate::config::{self, Config};
use crate::error::{Fail, Result};
use crate::tls::{self, CreatedInfo, ReloadableTls};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tidemark_imap_server::{ServerContext, SessionConfig};
use tidemark_store::Store;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// How long shutdown waits for open connections to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What every connection handler gets.
#[allow(dead_code)] // read by the connection handler in net.rs
pub struct Shared {
    pub store: Arc<dyn Store>,
    /// The current TLS acceptor (swapped on SIGHUP): `shared.tls.acceptor()`.
    pub tls: Arc<ReloadableTls>,
    pub config: Arc<Config>,
    /// Becomes `true` when the server is shutting down; handlers should
    /// say `* BYE` and close: `shared.shutdown.clone().wait_for(|s| *s).await`.
    pub shutdown: watch::Receiver<bool>,
    /// What each IMAP session gets (store + session settings from the config).
    pub imap: Arc<ServerContext>,
    /// Open connections per client address.
    pub connections: Arc<crate::conn_limit::ConnLimiter>,
    /// Metrics (also the session observer and the `/status` source).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Where `GET /auth` sends nginx: `[http] auth_backend`, else the
    /// first plain IMAP listener.
    pub auth_backend: Option<SocketAddr>,
}

impl Shared {
    /// The context for a new IMAP [`tidemark_imap_server::Session`].
    pub fn imap_context(&self) -> Arc<ServerContext> {
        self.imap.clone()
    }
}

/// The session settings derived from the configuration.
pub fn session_config(cfg: &Config) -> SessionConfig {
    SessionConfig {
        hostname: cfg.hostname.clone(),
        allow_plaintext_auth: cfg.auth.allow_plaintext,
        starttls_available: true,
        max_literal: cfg.limits.max_literal,
        max_line: cfg.limits.max_line,
        auth_failure_delay: cfg.limits.auth_failure_delay,
        // Replaced by the data directory's secret when serving.
        sasl_secret: rand::random(),
        max_sessions_per_account: cfg.limits.max_connections_per_account,
        throttle: tidemark_imap_server::throttle::ThrottleConfig {
            per_ip: cfg.limits.auth_failures_per_ip,
            per_account: cfg.limits.auth_failures_per_account,
            exempt_loopback: cfg.limits.exempt_loopback,
            ..Default::default()
        },
    }
}

/// The server's SCRAM decoy secret, `<data>/sasl-secret` (32 random bytes,
/// created at first start, mode 0600). It is stable so that an unknown
/// name gets the same SCRAM salt after a restart, as a real user does.
fn sasl_secret(data_dir: &std::path::Path) -> Result<[u8; 32]> {
    let path = data_dir.join("sasl-secret");
    if let Ok(bytes) = std::fs::read(&path) {
        return bytes.try_into().map_err(|_| {
            Fail::runtime(format!(
                "{} is damaged (not 32 bytes); delete it to make a new one",
                path.display()
            ))
        });
    }
    let secret: [u8; 32] = rand::random();
    crate::fsutil::write_atomic(&path, &secret, 0o600)
        .map_err(|e| Fail::runtime(format!("cannot write {}: {e}", path.display())))?;
    Ok(secret)
}

/// The kind of a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Imap,
    Imaps,
    Lmtp,
}

impl Proto {
    fn name(self) -> &'static str {
        match self {
            Proto::Imap => "imap",
            Proto::Imaps => "imaps",
            Proto::Lmtp => "lmtp",
        }
    }
}

/// Runs the server until SIGTERM or ctrl-c.
pub async fn run(args: ServeArgs) -> Result<()> {
    let cfg = config::resolve(&args)?;
    if let Some(f) = &cfg.config_file {
        tracing::info!(file = %f.display(), "read config file");
    }
    if cfg.imap_listen.is_empty() && cfg.imaps_listen.is_empty() && cfg.lmtp_listen.is_empty() {
        return Err(Fail::config(
            "no IMAP, IMAPS or LMTP listen address: nothing to serve",
        ));
    }

    for a in cfg.lmtp_listen.iter().filter(|a| !a.ip().is_loopback()) {
        tracing::warn!(
            "LMTP on {a} accepts mail for every account without authentication: \
             make sure only your MTA can reach it"
        );
    }
    let data_dir = cfg.data_dir.clone();
    let created_data_dir = crate::store::create_data_dir(&data_dir)?;

    let dd = data_dir.clone();
    let (index, linger) = (cfg.search_index, cfg.account_linger);
    let store =
        tokio::task::spawn_blocking(move || crate::store::open_store_with(&dd, index, linger))
            .await
            .map_err(|e| Fail::runtime(format!("opening the store failed: {e}")))??;
    let metrics = Arc::new(crate::metrics::Metrics::new());
    let store = crate::timed_store::TimedStore::wrap(store, metrics.clone());

    let (acceptor, tls_info) =
        tls::load_or_create(&cfg, &data_dir).map_err(|e| Fail::config(e.0))?;
    let tls = Arc::new(ReloadableTls::new(
        acceptor,
        tls_info.cert_path.clone(),
        tls_info.key_path.clone(),
    ));

    let mut listeners = Vec::new();
    for (proto, addrs) in [
        (Proto::Imap, &cfg.imap_listen),
        (Proto::Imaps, &cfg.imaps_listen),
        (Proto::Lmtp, &cfg.lmtp_listen),
    ] {
        for addr in addrs {
            let l = TcpListener::bind(addr).await.map_err(|e| {
                let hint = match e.kind() {
                    std::io::ErrorKind::AddrInUse => {
                        " (another program uses this port; pick another with --imap/--imaps/--lmtp)"
                    }
                    std::io::ErrorKind::PermissionDenied => " (ports below 1024 need privileges)",
                    _ => "",
                };
                Fail::runtime(format!(
                    "cannot listen on {addr} ({}): {e}{hint}",
                    proto.name()
                ))
            })?;
            let local = l.local_addr().unwrap_or(*addr);
            listeners.push((proto, local, l));
        }
    }
    let mut http_listeners = Vec::new();
    for addr in &cfg.http.listen {
        let l = TcpListener::bind(addr)
            .await
            .map_err(|e| Fail::runtime(format!("cannot listen on {addr} (http): {e}")))?;
        http_listeners.push((l.local_addr().unwrap_or(*addr), l));
    }
    let auth_backend = cfg.http.auth_backend.or_else(|| {
        listeners
            .iter()
            .find(|(p, _, _)| *p == Proto::Imap)
            .map(|(_, a, _)| connectable(*a))
    });

    let accounts = store.list_accounts().await.map(|a| a.len()).unwrap_or(0);
    if created_data_dir || tls_info.generated {
        print_first_start(&cfg, &data_dir, created_data_dir, &tls_info, &listeners);
    } else if accounts == 0 {
        tracing::warn!(
            "no accounts yet: create one with `tidemark user add NAME --data-dir {} --password-stdin`",
            data_dir.display()
        );
    }

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut session_cfg = session_config(&cfg);
    session_cfg.sasl_secret = sasl_secret(&data_dir)?;
    let mut imap = ServerContext::new(store.clone(), session_cfg);
    imap.observer = Some(metrics.clone());
    if let Some(o) = &cfg.oauth {
        let v = crate::oauth::JwtValidator::load(o).map_err(Fail::config)?;
        imap.oauth = Some(Arc::new(v));
    }
    let imap = Arc::new(imap);
    let connections = crate::conn_limit::ConnLimiter::new(
        cfg.limits.max_connections_per_ip,
        cfg.limits.exempt_loopback,
    );
    let shared = Arc::new(Shared {
        store,
        tls: tls.clone(),
        config: Arc::new(cfg),
        shutdown: shutdown_rx,
        imap,
        connections,
        metrics,
        auth_backend,
    });

    // Each connection task holds a clone of `conn_tx`; when all are gone,
    // `conn_rx.recv()` returns `None`.
    let (conn_tx, mut conn_rx) = mpsc::channel::<()>(1);
    // Installed before the listeners are announced: a SIGTERM right after
    // `listening on` must stop gracefully, not kill the process.
    let stop = stop_signal();
    let mut accept_tasks = Vec::new();
    let mut http_tasks = Vec::new();
    for (local, l) in http_listeners {
        tracing::info!("listening on {local} (http)");
        http_tasks.push(tokio::spawn(crate::http::serve(l, shared.clone())));
    }
    for (proto, local, l) in listeners {
        tracing::info!("listening on {local} ({})", proto.name());
        shared.metrics.add_listener(proto.name());
        accept_tasks.push(tokio::spawn(accept_loop(
            l,
            proto,
            shared.clone(),
            conn_tx.clone(),
        )));
    }
    drop(conn_tx);
    spawn_reload_on_hangup(tls);

    stop.await;
    tracing::info!("shutting down");
    let _ = shutdown_tx.send(true);
    for t in &accept_tasks {
        t.abort();
    }
    for t in accept_tasks {
        let _ = t.await;
    }
    drop(shared);
    // IMAP sessions end their command and say BYE; the HTTP listeners
    // finish their requests. Both within the grace period.
    let http_done = futures_join_all(http_tasks);
    let all = async {
        conn_rx.recv().await;
        http_done.await;
    };
    match tokio::time::timeout(SHUTDOWN_GRACE, all).await {
        Ok(()) => tracing::info!("stopped"),
        Err(_) => {
            tracing::warn!("connections still open after {SHUTDOWN_GRACE:?}; stopping anyway")
        }
    }
    Ok(())
}

async fn accept_loop(l: TcpListener, proto: Proto, shared: Arc<Shared>, conn_tx: mpsc::Sender<()>) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            r = l.accept() => r,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let guard = conn_tx.clone();
                let counted = shared.metrics.connection(proto.name());
                let Some(place) = shared.connections.acquire(peer.ip()) else {
                    tracing::info!(%peer, "too many connections from this address");
                    tokio::spawn(crate::net::refuse(stream, proto));
                    continue;
                };
                let done = move || {
                    drop(place);
                    drop(counted);
                    drop(guard);
                };
                // One task type per protocol: an IMAP connection's task is
                // not as large as an LMTP one's (IDLE memory).
                match proto {
                    Proto::Lmtp => tokio::spawn(async move {
                        crate::lmtp::handle_lmtp(stream, peer, shared).await;
                        done();
                    }),
                    Proto::Imap | Proto::Imaps => tokio::spawn(async move {
                        crate::net::handle_imap(stream, peer, proto == Proto::Imaps, shared).await;
                        done();
                    }),
                };
            }
            Err(e) => {
                // Out of file descriptors and the like: don't spin.
                tracing::warn!("accept failed on {} listener: {e}", proto.name());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

fn spawn_reload_on_hangup(tls: Arc<ReloadableTls>) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot install the SIGHUP handler (no TLS reload): {e}");
            return;
        }
    };
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            let tls = tls.clone();
            let r = tokio::task::spawn_blocking(move || tls.reload().map(|()| tls)).await;
            match r {
                Ok(Ok(tls)) => {
                    tracing::info!(cert = %tls.cert_path().display(), "SIGHUP: TLS certificate reloaded")
                }
                Ok(Err(e)) => {
                    tracing::error!("SIGHUP: TLS reload failed, keeping the old certificate: {e}")
                }
                Err(e) => tracing::error!("SIGHUP: TLS reload failed: {e}"),
            }
        }
    });
}

/// Installs the SIGTERM handler now; the future ends at SIGTERM or ctrl-c.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    async move {
        match term {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!("cannot install the SIGTERM handler: {e}");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

/// Waits for every task (their results do not matter).
async fn futures_join_all(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for t in tasks {
        let _ = t.await;
    }
}

/// An address a local client can connect to (0.0.0.0 → 127.0.0.1).
pub fn connectable(a: SocketAddr) -> SocketAddr {
    let mut a = a;
    if a.ip().is_unspecified() {
        a.set_ip(if a.is_ipv4() {
            [127, 0, 0, 1].into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    a
}

fn print_first_start(
    cfg: &Config,
    data_dir: &Path,
    created_data_dir: bool,
    tls_info: &CreatedInfo,
    listeners: &[(Proto, SocketAddr, TcpListener)],
) {
    let dd = data_dir.display();
    let mut s = String::new();
    s.push_str("tidemark: first start\n");
    if created_data_dir {
        s.push_str(&format!("  created data directory  {dd}\n"));
        s.push_str(&format!(
            "  created mail store      {}\n",
            crate::store::store_dir(data_dir).display()
        ));
    }
    if tls_info.generated {
        s.push_str(&format!(
            "  created self-signed TLS certificate {} (for {})\n",
            tls_info.cert_path.display(),
            tls_info.names.join(", ")
        ));
        s.push_str(&format!(
            "      and its private key            {} (mode 0600)\n",
            tls_info.key_path.display()
        ));
        s.push_str("      (set [tls] cert and key in the config file to use a real certificate)\n");
    }
    s.push_str("\nNext steps:\n");
    s.push_str(&format!(
        "  create an account:   printf '%s\\n' 'PASSWORD' | tidemark user add alice --data-dir {dd} --password-stdin\n"
    ));
    s.push_str(&format!(
        "                       (or: tidemark user add alice --data-dir {dd}  to be prompted)\n"
    ));
    if let Some((_, a, _)) = listeners.iter().find(|(p, _, _)| *p == Proto::Imaps) {
        let a = connectable(*a);
        s.push_str(&format!(
            "  connect with TLS:    curl -k imaps://{a}/ -u alice:PASSWORD\n"
        ));
        s.push_str(&format!(
            "                       openssl s_client -connect {a} -alpn imap\n"
        ));
    }
    if let Some((_, a, _)) = listeners.iter().find(|(p, _, _)| *p == Proto::Imap) {
        let a = connectable(*a);
        s.push_str(&format!(
            "  connect (STARTTLS):  curl -k --ssl-reqd imap://{a}/ -u alice:PASSWORD\n"
        ));
    }
    if tls_info.self_signed {
        s.push_str(&format!(
            "  mail clients must trust {} (or accept it once) because it is self-signed\n",
            tls_info.cert_path.display()
        ));
    }
    let _ = cfg;
    print!("{s}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
}
