//! The HTTP endpoint: `/metrics` counts what sessions did, `/health`,
//! `/status` and `tidemark status` show who is online, `/auth` speaks
//! nginx's `auth_http` protocol. (Through a real nginx: tests/nginx.rs.)

mod common;

use common::{Client, TestServer, http_get, metric};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn start() -> (TestServer, SocketAddr) {
    let users = [("bob".to_string(), "p w%d ü".to_string())];
    let server = TestServer::start_with_args(&users, &["--http", "127.0.0.1:0"]);
    let http = server.listeners["http"];
    (server, http)
}

fn scrape(http: SocketAddr) -> String {
    let r = http_get(http, "/metrics", &[]);
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{:?}",
        r.headers
    );
    r.body
}

fn status(http: SocketAddr) -> serde_json::Value {
    let r = http_get(http, "/status", &[]);
    assert_eq!(r.status, 200);
    serde_json::from_str(&r.body).expect("status JSON")
}

/// Polls `/status` (bounded) until `users_online` is `want`.
fn wait_online(http: SocketAddr, want: &[&str]) -> serde_json::Value {
    let start = Instant::now();
    loop {
        let s = status(http);
        if s["users_online"] == serde_json::json!(want) {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "users_online never became {want:?}: {s}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn metrics_health_and_status_follow_the_sessions() {
    let (server, http) = start();
    let mut alice = Client::login(server.imap, "alice", "pass").unwrap();
    assert!(alice.cmd("SELECT INBOX").unwrap().0);
    let (ok, resp) = alice.cmd("FROBNICATE").unwrap();
    assert!(!ok && resp.last().unwrap().windows(3).any(|w| w == b"BAD"));
    let mut other = Client::connect(server.imap).unwrap();
    let (ok, _) = other.cmd("LOGIN alice wrong").unwrap();
    assert!(!ok);

    let t = scrape(http);
    let count = |series: &str| metric(&t, series).unwrap_or(0.0);
    let cmd = |name: &str, result: &str| {
        count(&format!(
            "tidemark_imap_commands_total{{command=\"{name}\",result=\"{result}\"}}"
        ))
    };
    assert_eq!(cmd("LOGIN", "ok"), 1.0, "{t}");
    assert_eq!(cmd("LOGIN", "no"), 1.0, "{t}");
    assert_eq!(cmd("SELECT", "ok"), 1.0, "{t}");
    assert_eq!(cmd("INVALID", "bad"), 1.0, "{t}");
    assert_eq!(cmd("SELECT", "no") + cmd("SELECT", "bad"), 0.0, "{t}");
    assert_eq!(
        count("tidemark_auth_failures_total{mechanism=\"LOGIN\"}"),
        1.0,
        "{t}"
    );
    assert_eq!(count("tidemark_users_online"), 1.0, "{t}");
    assert_eq!(
        count("tidemark_connections_open{listener=\"imap\"}"),
        2.0,
        "{t}"
    );
    assert_eq!(
        count("tidemark_connections_open{listener=\"imaps\"}"),
        0.0,
        "{t}"
    );
    // The harness's port probe is one more accepted connection.
    let accepted = count("tidemark_connections_accepted_total{listener=\"imap\"}");
    assert!((2.0..=3.0).contains(&accepted), "{t}");
    assert_eq!(
        count("tidemark_imap_command_duration_seconds_count{command=\"SELECT\"}"),
        1.0,
        "{t}"
    );
    // Store timings: two password lookups, one SELECT.
    assert!(
        count("tidemark_store_operation_duration_seconds_count{operation=\"credential\"}") >= 2.0,
        "{t}"
    );
    assert!(
        count("tidemark_store_operation_duration_seconds_count{operation=\"select_view\"}") >= 1.0,
        "{t}"
    );
    assert!(
        t.trim_end().ends_with("# EOF"),
        "OpenMetrics ends with # EOF"
    );

    let h = http_get(http, "/health", &[]);
    assert_eq!((h.status, h.body.as_str()), (200, "ok\n"));

    let s = wait_online(http, &["alice"]);
    assert_eq!(s["connections"]["imap"], 2, "{s}");
    assert_eq!(s["version"], env!("CARGO_PKG_VERSION"));
    assert!(s["uptime_secs"].is_u64());

    // The CLI prints it.
    let out = std::process::Command::new(common::bin())
        .args(["status", "--http", &http.to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("users online (1): alice"), "{text}");
    assert!(text.contains("imap 2"), "{text}");

    // After LOGOUT nobody is online.
    let (ok, _) = alice.cmd("LOGOUT").unwrap();
    assert!(ok);
    drop(alice);
    wait_online(http, &[]);
    let t = scrape(http);
    assert_eq!(metric(&t, "tidemark_users_online"), Some(0.0), "{t}");
    assert_eq!(
        metric(
            &t,
            "tidemark_imap_commands_total{command=\"LOGOUT\",result=\"ok\"}"
        ),
        Some(1.0),
        "{t}"
    );
}

#[test]
fn status_cli_reads_the_config_and_fails_clearly() {
    let (server, http) = start();
    let cfg = server.data_dir().join("status.toml");
    std::fs::write(&cfg, format!("[http]\nlisten = [\"{http}\"]\n")).unwrap();
    let out = std::process::Command::new(common::bin())
        .args(["status", "--json", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["users_online"], serde_json::json!([]));
    // Nothing listening there: a clear error, not a hang.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let out = std::process::Command::new(common::bin())
        .args(["status", "--http", &addr.to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&addr.to_string()), "{err}");
}

fn auth(
    http: SocketAddr,
    method: &str,
    user: &str,
    pass: &str,
    protocol: &str,
) -> common::HttpAnswer {
    auth_attempt(http, method, user, pass, protocol, "1")
}

fn auth_attempt(
    http: SocketAddr,
    method: &str,
    user: &str,
    pass: &str,
    protocol: &str,
    attempt: &str,
) -> common::HttpAnswer {
    http_get(
        http,
        "/auth",
        &[
            ("Auth-Method", method),
            ("Auth-User", user),
            ("Auth-Pass", pass),
            ("Auth-Protocol", protocol),
            ("Auth-Login-Attempt", attempt),
            ("Client-IP", "192.0.2.42"),
            ("Client-Host", "[UNAVAILABLE]"),
        ],
    )
}

#[test]
fn auth_http_protocol() {
    let (server, http) = start();
    let ok = auth(http, "plain", "alice", "pass", "imap");
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("Auth-Status"), Some("OK"), "{:?}", ok.headers);
    assert_eq!(ok.header("Auth-Server"), Some("127.0.0.1"));
    let port = server.imap.port().to_string();
    assert_eq!(ok.header("Auth-Port"), Some(port.as_str()));
    // nginx URL-encodes user and password.
    let ok = auth(http, "login", "bob", "p%20w%25d%20%C3%BC", "imap");
    assert_eq!(ok.header("Auth-Status"), Some("OK"), "{:?}", ok.headers);

    let bad = auth(http, "plain", "alice", "wrong", "imap");
    assert_eq!(bad.status, 200);
    assert_eq!(bad.header("Auth-Status"), Some("Invalid login or password"));
    assert_eq!(bad.header("Auth-Wait"), Some("3"));
    assert_eq!(bad.header("Auth-Server"), None);
    let nobody = auth(http, "plain", "nobody", "pass", "imap");
    assert_eq!(
        nobody.header("Auth-Status"),
        Some("Invalid login or password")
    );
    // From the 10th attempt of one nginx session: no Auth-Wait, nginx closes.
    let tenth = auth_attempt(http, "plain", "alice", "wrong", "imap", "10");
    let st = tenth.header("Auth-Status");
    assert_eq!(st, Some("Invalid login or password"));
    assert_eq!(tenth.header("Auth-Wait"), None);

    for (method, protocol, needle) in [
        ("cram-md5", "imap", "method"),
        ("plain", "smtp", "protocol"),
        ("plain", "pop3", "protocol"),
    ] {
        let r = auth(http, method, "alice", "pass", protocol);
        let st = r.header("Auth-Status").unwrap_or("");
        assert!(st.contains("Unsupported") && st.contains(needle), "{st}");
        assert_eq!(r.header("Auth-Wait"), None, "nginx closes on this");
    }
    let t = scrape(http);
    assert_eq!(
        metric(&t, "tidemark_auth_failures_total{mechanism=\"auth_http\"}"),
        Some(3.0),
        "{t}"
    );
}
