//! LMTP delivery (RFC 2033) through the real binary: swaks as the client,
//! a private Postfix relaying into the store, and the protocol's edges over
//! a raw socket (pipelining, one reply per recipient, dot-stuffing, size
//! limits, `+folder`, kill -9 after 250, shutdown).

mod common;

use common::{Client, TestServer, require};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

fn users() -> Vec<(String, String)> {
    vec![("bob@example.org".to_string(), "pw".to_string())]
}

fn server() -> TestServer {
    TestServer::start_with_args(&users(), &["--lmtp", "127.0.0.1:0"])
}

fn lmtp_addr(s: &TestServer) -> SocketAddr {
    s.listeners["lmtp"]
}

/// A raw LMTP client.
struct Lmtp {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Lmtp {
    fn connect(addr: SocketAddr) -> Lmtp {
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut c = Lmtp {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
        };
        let g = c.reply();
        assert!(g[0].starts_with("220 "), "{g:?}");
        c
    }
    fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).unwrap();
    }
    /// One reply (all its lines).
    fn reply(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let mut l = String::new();
            let n = self.r.read_line(&mut l).unwrap();
            assert!(n > 0, "connection closed after {lines:?}");
            let last = l.as_bytes().get(3) == Some(&b' ');
            lines.push(l.trim_end().to_string());
            if last {
                return lines;
            }
        }
    }
    /// The code of the next reply.
    fn code(&mut self) -> String {
        let r = self.reply();
        r.last().unwrap().to_string()
    }
    fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.code()
    }
}

fn count(c: &mut Client, mailbox: &str) -> u32 {
    let (ok, r) = c.cmd(&format!("STATUS {mailbox} (MESSAGES)")).unwrap();
    assert!(ok);
    let text = String::from_utf8_lossy(&r[0]).to_string();
    let n = text.split("MESSAGES ").nth(1).unwrap();
    n.trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap()
}

fn fetch(c: &mut Client, mailbox: &str, seq: u32, item: &str) -> Vec<u8> {
    assert!(c.cmd(&format!("EXAMINE {mailbox}")).unwrap().0);
    let (ok, r) = c.cmd(&format!("FETCH {seq} ({item})")).unwrap();
    assert!(ok, "{r:?}");
    let resp = &r[0];
    let start = resp.windows(3).position(|w| w == b"}\r\n").unwrap() + 3;
    resp[start..resp.len() - 3].to_vec() // drop ")\r\n"
}

#[test]
fn swaks_delivers_to_two_users_and_an_idler_sees_it_at_once() {
    if !require("swaks") {
        return;
    }
    let server = server();
    let lmtp = lmtp_addr(&server);
    let mut idler = Client::login(server.imap, "bob@example.org", "pw").unwrap();
    assert!(idler.cmd("SELECT INBOX").unwrap().0);
    let tag = idler.take_tag();
    idler.send_line(&format!("{tag} IDLE")).unwrap();
    let cont = idler.read_response().unwrap();
    assert!(cont.starts_with(b"+ "), "{cont:?}");

    // alice watches her mailboxes with NOTIFY (RFC 5465), nothing selected.
    let mut watcher = Client::login(server.imap, "alice", "pass").unwrap();
    let (ok, r) = watcher
        .cmd("NOTIFY SET (PERSONAL (MessageNew MessageExpunge))")
        .unwrap();
    assert!(ok, "{r:?}");

    let out = Command::new("swaks")
        .args(["--protocol", "LMTP", "--server", &lmtp.to_string()])
        .args(["--from", "sender@example.net"])
        .args([
            "--to",
            "alice@example.org,bob@example.org,nobody@example.org",
        ])
        .args(["--header", "Subject: two users"])
        .args(["--body", "Hello over LMTP\n.leading dot\n"])
        .args(["--pipeline", "--tls"])
        .output()
        .unwrap();
    let done = Instant::now();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success() || text.contains("550"), "{text}");
    assert!(text.contains("TLS started"), "STARTTLS: {text}");
    assert!(
        text.contains("550 5.1.1 <nobody@example.org> User unknown"),
        "{text}"
    );
    assert_eq!(
        text.matches("250 2.0.0 <").count(),
        2,
        "one reply per recipient: {text}"
    );

    // The idler learns of it within a second of the 250s.
    let exists = idler.read_within(Duration::from_secs(1)).unwrap();
    let waited = done.elapsed();
    let exists = exists.expect("no EXISTS within 1 s of delivery");
    assert!(
        String::from_utf8_lossy(&exists).contains("* 1 EXISTS"),
        "{exists:?}"
    );
    assert!(waited < Duration::from_secs(1));
    let status = watcher
        .read_within(Duration::from_secs(1))
        .unwrap()
        .expect("no NOTIFY STATUS within 1 s of delivery");
    let status = String::from_utf8_lossy(&status).to_string();
    assert!(
        status.starts_with("* STATUS \"INBOX\" (MESSAGES 1 "),
        "{status}"
    );
    idler.send_line("DONE").unwrap();
    idler.read_response().unwrap();

    let mut alice = Client::login(server.imap, "alice", "pass").unwrap();
    let a = fetch(&mut alice, "INBOX", 1, "BODY.PEEK[]");
    let b = fetch(&mut idler, "INBOX", 1, "BODY.PEEK[]");
    assert_eq!(a, b, "both users got the same stored text");
    let a = String::from_utf8_lossy(&a).to_string();
    assert!(
        a.starts_with("Return-Path: <sender@example.net>\r\nReceived: from "),
        "{a}"
    );
    assert!(a.contains("with LMTPS id"), "{a}");
    assert!(a.contains("Subject: two users\r\n"), "{a}");
    assert!(a.contains("\r\nHello over LMTP\r\n.leading dot\r\n"), "{a}");
}

#[test]
fn protocol_edges_over_a_raw_socket() {
    let mut server = TestServer::start_with_args(
        &users(),
        &["--lmtp", "127.0.0.1:0", "--http", "127.0.0.1:0"],
    );
    // A small size limit (shared with IMAP's APPENDLIMIT).
    server.kill9();
    std::fs::write(
        server.data_dir().join("tidemark.toml"),
        "[limits]\nmax_literal = 4000\n",
    )
    .unwrap();
    server.spawn();
    let addr = lmtp_addr(&server);
    let mut c = Lmtp::connect(addr);
    assert!(c.cmd("EHLO x").starts_with("500 5.5.1"));
    assert!(c.cmd("MAIL FROM:<a@b>").starts_with("503 5.5.1"));
    assert!(c.cmd("RCPT TO:<alice>").starts_with("503 5.5.1"));
    assert!(c.cmd("BDAT 10 LAST").starts_with("500 5.5.2"));

    // Everything in one write (PIPELINING): the replies come in order.
    c.send(
        b"LHLO client.example\r\nMAIL FROM:<s@example.net> BODY=8BITMIME SIZE=100\r\n\
          RCPT TO:<alice>\r\nRCPT TO:<nobody>\r\nRCPT TO:<alice+Trash@example.org>\r\nDATA\r\n",
    );
    let lhlo = c.reply();
    for ext in [
        "PIPELINING",
        "ENHANCEDSTATUSCODES",
        "8BITMIME",
        "SIZE 4000",
        "STARTTLS",
    ] {
        assert!(lhlo.iter().any(|l| l.ends_with(ext)), "{ext}: {lhlo:?}");
    }
    assert!(c.code().starts_with("250 2.1.0"));
    assert!(c.code().starts_with("250 2.1.5"));
    assert!(c.code().starts_with("550 5.1.1"));
    assert!(c.code().starts_with("250 2.1.5"));
    assert!(c.code().starts_with("354"));
    // Dot-stuffing, a bare LF, 8-bit text; then the next command pipelined
    // right behind the end of data.
    c.send("Subject: edges\r\n\r\n..one dot\nbare LF\r\nütf-8\r\n.\r\nNOOP\r\n".as_bytes());
    let r1 = c.code();
    let r2 = c.code();
    assert!(r1.starts_with("250 2.0.0 <alice>"), "{r1}");
    assert!(
        r2.starts_with("250 2.0.0 <alice+Trash@example.org>"),
        "{r2}"
    );
    assert!(c.cmd("NOOP").starts_with("250"));
    // The pipelined NOOP's reply came after the two.
    assert!(c.code().starts_with("250 2.0.0 Ok"));

    let mut imap = Client::login(server.imap, "alice", "pass").unwrap();
    assert_eq!(count(&mut imap, "INBOX"), 1);
    assert_eq!(count(&mut imap, "Trash"), 1, "+Trash went to the folder");
    let text = fetch(&mut imap, "INBOX", 1, "BODY.PEEK[TEXT]");
    assert_eq!(text, "\r\n.one dot\r\nbare LF\r\nütf-8\r\n".as_bytes()[2..]);

    // Size: announced too big, and actually too big (the connection stays
    // usable after the data was read to its end).
    assert!(c.cmd("MAIL FROM:<s@x> SIZE=5000").starts_with("552 5.3.4"));
    assert!(c.cmd("MAIL FROM:<s@x>").starts_with("250"));
    assert!(c.cmd("MAIL FROM:<s@x>").starts_with("503 5.5.1"), "nested");
    assert!(c.cmd("RCPT TO:<alice>").starts_with("250"));
    assert!(c.cmd("RCPT TO:<alice> NOTIFY=NEVER").starts_with("555"));
    assert!(c.cmd("DATA").starts_with("354"));
    let mut big = b"Subject: big\r\n\r\n".to_vec();
    for _ in 0..100 {
        big.extend_from_slice(&[b'x'; 78]);
        big.extend_from_slice(b"\r\n");
    }
    big.extend_from_slice(b".\r\n");
    c.send(&big);
    assert!(c.code().starts_with("552 5.3.4"));
    assert!(c.cmd("DATA").starts_with("503"), "the transaction ended");
    assert!(c.cmd("RSET").starts_with("250"));
    assert!(c.cmd("MAIL FROM:<>").starts_with("250"));
    assert!(c.cmd("DATA").starts_with("554 5.5.1"), "no recipients");
    // A line over the limit is refused and skipped whole.
    let long = format!("NOOP {}\r\n", "y".repeat(10_000));
    assert!(c.cmd(long.trim_end()).starts_with("500 5.5.2"));
    assert!(c.cmd("NOOP").starts_with("250"));
    // At most 100 recipients per transaction; the rest are told to retry.
    assert!(c.cmd("RSET").starts_with("250"));
    let mut batch = String::from("MAIL FROM:<s@x>\r\n");
    for _ in 0..101 {
        batch.push_str("RCPT TO:<alice>\r\n");
    }
    batch.push_str("RSET\r\n");
    c.send(batch.as_bytes());
    assert!(c.code().starts_with("250"));
    for i in 0..100 {
        assert!(c.code().starts_with("250 2.1.5"), "rcpt {i}");
    }
    assert!(c.code().starts_with("452 4.5.3"));
    assert!(c.code().starts_with("250"), "RSET");
    assert!(c.cmd("QUIT").starts_with("221"));

    // Metrics: one delivery to two recipients, one too big.
    let m = common::http_get(server.listeners["http"], "/metrics", &[]).body;
    let v = |series: &str| common::metric(&m, series).unwrap_or(-1.0);
    assert_eq!(
        v("tidemark_lmtp_deliveries_total{result=\"ok\"}"),
        1.0,
        "{m}"
    );
    assert_eq!(
        v("tidemark_lmtp_deliveries_total{result=\"too_big\"}"),
        1.0,
        "{m}"
    );
    assert_eq!(
        v("tidemark_lmtp_delivery_recipients_total{result=\"ok\"}"),
        2.0,
        "{m}"
    );
    assert!(
        v("tidemark_connections_accepted_total{listener=\"lmtp\"}") >= 1.0,
        "{m}"
    );
    assert_eq!(
        count(&mut imap, "INBOX"),
        1,
        "nothing from the refused ones"
    );
}

#[test]
fn a_250_survives_kill_9_and_shutdown_says_421() {
    let mut server = server();
    let addr = lmtp_addr(&server);
    let mut c = Lmtp::connect(addr);
    c.send(b"LHLO x\r\nMAIL FROM:<s@x>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n");
    for _ in 0..4 {
        c.reply();
    }
    c.send(b"Subject: durable\r\n\r\nkept\r\n.\r\n");
    assert!(c.code().starts_with("250 2.0.0"));
    server.kill9();
    server.spawn();
    let mut imap = Client::login(server.imap, "bob@example.org", "pw").unwrap();
    assert_eq!(count(&mut imap, "INBOX"), 1);
    drop(imap);

    // SIGTERM: a connection waiting for its next command is told 421.
    let mut c = Lmtp::connect(lmtp_addr(&server));
    assert!(c.cmd("LHLO x").starts_with("250"));
    let pid = server.pid().unwrap();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let r = c.code();
    assert!(r.starts_with("421 4.3.2"), "{r}");
    let mut rest = Vec::new();
    let _ = c.r.read_to_end(&mut rest);
    assert!(rest.is_empty(), "closed after 421");
}

struct Postfix(std::path::PathBuf);

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(common::repo_root().join("tests/mta/postfix.sh"))
            .arg("stop")
            .arg(&self.0)
            .output();
    }
}

#[test]
fn postfix_relays_smtp_into_an_inbox() {
    if !require("postfix") || !require("swaks") {
        return;
    }
    // SAFETY: getuid has no preconditions.
    if unsafe { libc_getuid() } != 0 {
        if std::env::var_os("CI").is_some() {
            panic!("CI runs as root; Postfix's master needs it");
        }
        eprintln!("SKIPPED: a private Postfix needs root");
        return;
    }
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let smtp = common::free_port();
    let out = Command::new("bash")
        .arg(common::repo_root().join("tests/mta/postfix.sh"))
        .arg("start")
        .arg(dir.path())
        .arg(smtp.to_string())
        .arg(lmtp_addr(&server).port().to_string())
        .output()
        .unwrap();
    let _guard = Postfix(dir.path().to_path_buf());
    assert!(out.status.success(), "postfix start: {out:?}");
    let smtp_addr = SocketAddr::from(([127, 0, 0, 1], smtp));
    common::wait_for_port(smtp_addr, Duration::from_secs(15));
    let out = Command::new("swaks")
        .args(["--server", &smtp_addr.to_string()])
        .args(["--from", "someone@example.net", "--to", "bob@example.org"])
        .args(["--header", "Subject: via postfix"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("250 2.0.0 Ok: queued"), "{text}");

    let mut imap = Client::login(server.imap, "bob@example.org", "pw").unwrap();
    let start = Instant::now();
    while count(&mut imap, "INBOX") == 0 {
        let log = std::fs::read_to_string(dir.path().join("maillog")).unwrap_or_default();
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "not delivered in 30 s; Postfix log:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let msg = String::from_utf8_lossy(&fetch(&mut imap, "INBOX", 1, "BODY.PEEK[]")).to_string();
    assert!(msg.contains("Subject: via postfix"), "{msg}");
    assert!(
        msg.contains("by mx.test.invalid (Postfix)"),
        "Postfix's Received: {msg}"
    );
    assert!(
        msg.starts_with("Return-Path: <someone@example.net>"),
        "{msg}"
    );
    let log = std::fs::read_to_string(dir.path().join("maillog")).unwrap();
    assert!(
        log.contains("status=sent (250 2.0.0 <bob@example.org>"),
        "{log}"
    );
}

unsafe extern "C" {
    #[link_name = "getuid"]
    fn libc_getuid() -> u32;
}
