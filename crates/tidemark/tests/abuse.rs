//! Abuse resistance against the real binary: connections per address,
//! sessions per account, failed-authentication throttling (a throttled
//! address fails even with the right password, and answers look the same),
//! and memory with 1,000 connections that each send half a command and
//! stall while a normal client logs in and fetches.

mod common;

use common::{Client, TestServer};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A server restarted with `config` in its data directory.
fn server_with(config: &str) -> TestServer {
    let mut server = TestServer::start();
    server.kill9();
    std::fs::write(server.data_dir().join("tidemark.toml"), config).expect("config");
    server.spawn();
    server
}

/// A `/proc/<pid>/status` value in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim_start_matches(':').split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{key} in /proc/{pid}/status"))
}

fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS")
}

#[test]
fn connections_per_address_and_auth_throttle() {
    let server = server_with(
        "[limits]\nexempt_loopback = false\nmax_connections_per_ip = 3\nauth_failures_per_ip = 3\nauth_failure_delay_ms = 0\n",
    );
    let mut held: Vec<Client> = (0..3)
        .map(|_| Client::connect(server.imap).expect("connect"))
        .collect();
    let mut fourth = TcpStream::connect(server.imap).expect("connect");
    fourth
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut text = String::new();
    let _ = fourth.read_to_string(&mut text);
    assert!(
        text.starts_with("* BYE [UNAVAILABLE] Too many connections"),
        "{text:?}"
    );
    // A place comes back when a connection ends.
    let _ = held.pop().map(|mut c| c.cmd("LOGOUT"));
    std::thread::sleep(Duration::from_millis(200));
    let mut c = Client::connect(server.imap).expect("a place again");

    // Three failures, then even the right password fails, by LOGIN, by
    // PLAIN and by SCRAM, with the same answer as a wrong password.
    for _ in 0..3 {
        let (ok, resp) = c.cmd("LOGIN alice wrong").expect("login");
        assert!(!ok);
        assert!(
            String::from_utf8_lossy(resp.last().expect("tagged"))
                .contains("NO [AUTHENTICATIONFAILED]")
        );
    }
    let (ok, resp) = c.cmd("LOGIN alice pass").expect("login");
    let tagged = String::from_utf8_lossy(resp.last().expect("tagged")).to_string();
    assert!(
        !ok && tagged.contains("NO [AUTHENTICATIONFAILED] Authentication failed"),
        "{tagged}"
    );
    let (ok, _) = c.cmd("AUTHENTICATE PLAIN AGFsaWNlAHBhc3M=").expect("plain");
    assert!(!ok, "PLAIN with the right password while throttled");
    drop(held);
}

#[test]
fn a_thousand_stalled_connections() {
    let mut server = TestServer::start();
    let pid = server.pid().expect("pid");
    let before = rss_kib(pid);
    let mut stalled = Vec::new();
    for i in 0..1000 {
        let mut s = TcpStream::connect(server.imap).expect("connect");
        // Half a command: a long line with no end, or a literal announced
        // and never sent.
        let half = if i % 2 == 0 {
            format!("a{i} LOGIN alice {}", "x".repeat(4000))
        } else {
            format!("a{i} LOGIN {{20}}\r\nali")
        };
        s.write_all(half.as_bytes()).expect("write");
        stalled.push(s);
    }
    std::thread::sleep(Duration::from_millis(500));
    let during = rss_kib(pid);
    // A normal client is served meanwhile.
    let mut c = Client::login(server.imap, "alice", "pass").expect("login");
    assert!(
        c.append("INBOX", b"Subject: hi\r\n\r\nhello\r\n")
            .expect("append")
            .is_some()
    );
    let (ok, _) = c.cmd("SELECT INBOX").expect("select");
    assert!(ok);
    let (ok, resp) = c.cmd("FETCH 1 (BODY[])").expect("fetch");
    assert!(ok && String::from_utf8_lossy(&resp[0]).contains("hello"));
    let growth = during.saturating_sub(before);
    eprintln!(
        "1,000 stalled connections: server RSS {before} KiB -> {during} KiB (+{growth} KiB, {} KiB each)",
        growth / 1000
    );
    assert!(growth < 64 * 1024, "RSS grew by {growth} KiB");
    drop(stalled);
    server.kill9();
}

#[test]
fn sessions_per_account() {
    let server = server_with("[limits]\nmax_connections_per_account = 2\n");
    let mut first = Client::login(server.imap, "alice", "pass").expect("first");
    let _second = Client::login(server.imap, "alice", "pass").expect("second");
    let mut third = Client::connect(server.imap).expect("connect");
    let (ok, resp) = third.cmd("LOGIN alice pass").expect("login");
    let tagged = String::from_utf8_lossy(resp.last().expect("tagged")).to_string();
    assert!(
        !ok && tagged.contains("NO [UNAVAILABLE] Too many connections for this account"),
        "{tagged}"
    );
    // A session that ends gives its place back.
    let _ = first.cmd("LOGOUT");
    std::thread::sleep(Duration::from_millis(200));
    let (ok, resp) = third.cmd("LOGIN alice pass").expect("login");
    assert!(
        ok,
        "{:?}",
        resp.last().map(|r| String::from_utf8_lossy(r).to_string())
    );
}

/// Slowloris: a client that keeps sending (so it is never idle) but never
/// authenticates is closed at the login deadline.
#[test]
fn login_deadline_closes_busy_unauthenticated_clients() {
    let server = server_with("[limits]\nlogin_timeout_secs = 2\n");
    let s = TcpStream::connect(server.imap).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut w = s.try_clone().expect("clone");
    let mut r = std::io::BufReader::new(s);
    let start = std::time::Instant::now();
    let mut seen = String::new();
    while start.elapsed() < Duration::from_secs(10) {
        // A NOOP every 300 ms or so: never idle, never authenticated.
        let _ = w.write_all(b"a NOOP\r\n");
        let mut line = String::new();
        match std::io::BufRead::read_line(&mut r, &mut line) {
            Ok(0) => break,
            Ok(_) => seen.push_str(&line),
            Err(_) => {}
        }
        if seen.contains("* BYE") {
            break;
        }
    }
    let took = start.elapsed();
    assert!(
        seen.contains("* BYE Authentication took too long"),
        "{seen}"
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(5),
        "closed after {took:?}"
    );
}

fn hwm_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM")
}

/// A FETCH whose answer is far larger than memory should hold is written
/// while it runs: 48 MiB of messages fetched at once raise the server's
/// peak memory by much less than that.
#[test]
fn a_large_fetch_is_streamed() {
    let mut server = TestServer::start();
    let pid = server.pid().expect("pid");
    let mut c = Client::login(server.imap, "alice", "pass").expect("login");
    let body = "0123456789abcdef".repeat(64 * 1024); // 1 MiB
    for i in 0..48 {
        let msg = format!("Subject: big {i}\r\n\r\n{body}\r\n");
        assert!(c.append("INBOX", msg.as_bytes()).expect("append").is_some());
    }
    let (ok, _) = c.cmd("SELECT INBOX").expect("select");
    assert!(ok);
    let before = hwm_kib(pid);
    let (ok, resp) = c.cmd("FETCH 1:* (BODY.PEEK[])").expect("fetch");
    assert!(ok);
    let bytes: usize = resp.iter().map(Vec::len).sum();
    assert!(bytes > 48 << 20, "{bytes} bytes fetched");
    let after = hwm_kib(pid);
    eprintln!(
        "FETCH of {} MiB: server peak RSS {before} KiB -> {after} KiB",
        bytes >> 20
    );
    assert!(
        after - before < 16 * 1024,
        "peak grew by {} KiB",
        after - before
    );
    server.kill9();
}
