//! Process life: JSON logs, and graceful shutdown on SIGTERM (a running
//! APPEND completes and is stored, idle sessions get `* BYE`, exit 0).

mod common;

use common::{Client, TestServer};
use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("t.toml");
    std::fs::write(&cfg, "[log]\nformat = \"json\"\n").unwrap();
    let mut child = Command::new(common::bin())
        .args(["serve", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--imap", "127.0.0.1:0", "--imaps", "127.0.0.1:0"])
        .env("TIDEMARK_LOG", "info")
        .env_remove("TIDEMARK_LOG_FORMAT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while lines
        .iter()
        .filter(|l: &&String| l.contains("listening on"))
        .count()
        < 2
    {
        let left = deadline.saturating_duration_since(Instant::now());
        lines.push(rx.recv_timeout(left).expect("listening lines within 30 s"));
    }
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    // The rest of the log, up to the exit (bounded).
    while let Ok(l) = rx.recv_timeout(Duration::from_secs(15)) {
        lines.push(l);
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut messages = Vec::new();
    for l in &lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(v["timestamp"].is_string(), "{l}");
        assert!(v["level"].is_string(), "{l}");
        messages.push(v["message"].as_str().unwrap_or("").to_string());
    }
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("listening on 127.0.0.1:") && m.ends_with("(imap)")),
        "{messages:?}"
    );
    assert!(messages.iter().any(|m| m == "stopped"), "{messages:?}");
}

#[test]
fn sigterm_finishes_the_append_and_says_bye() {
    let mut server = TestServer::start();
    // An idle session, and one in IDLE.
    let mut idle = Client::login(server.imap, "alice", "pass").unwrap();
    let mut idling = Client::login(server.imap, "alice", "pass").unwrap();
    assert!(idling.cmd("SELECT INBOX").unwrap().0);
    let idle_tag = idling.take_tag();
    idling.send_line(&format!("{idle_tag} IDLE")).unwrap();
    let cont = idling.read_response().unwrap();
    assert!(cont.starts_with(b"+"), "{}", String::from_utf8_lossy(&cont));

    // An APPEND whose literal is half sent when SIGTERM arrives.
    let message = b"From: a@example.org\r\nSubject: in flight\r\n\r\nhello, shutdown\r\n";
    let (first, rest) = message.split_at(20);
    let mut append = Client::login(server.imap, "alice", "pass").unwrap();
    let tag = append.take_tag();
    append
        .send_line(&format!("{tag} APPEND INBOX {{{}}}", message.len()))
        .unwrap();
    let cont = append.read_response().unwrap();
    assert!(cont.starts_with(b"+"), "{}", String::from_utf8_lossy(&cont));
    append.write_raw(first).unwrap();

    let pid = server.pid().unwrap();
    let st = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());

    // Idle sessions hear BYE at once.
    for c in [&mut idle, &mut idling] {
        let bye = c.read_within(Duration::from_secs(5)).unwrap().expect("BYE");
        let bye = String::from_utf8_lossy(&bye);
        assert!(bye.starts_with("* BYE [UNAVAILABLE]"), "{bye}");
    }
    // The APPEND still completes, then BYE.
    std::thread::sleep(Duration::from_millis(300));
    append.write_raw(rest).unwrap();
    append.write_raw(b"\r\n").unwrap();
    let ok = append.read_response().unwrap();
    let ok = String::from_utf8_lossy(&ok);
    assert!(ok.starts_with(&format!("{tag} OK")), "{ok}");
    let bye = append.read_response().unwrap();
    assert!(bye.starts_with(b"* BYE [UNAVAILABLE]"));

    let status = server
        .wait_exit(Duration::from_secs(5))
        .expect("exited within 5 s of SIGTERM");
    assert!(status.success(), "{status}");

    // The message was stored.
    server.spawn();
    let mut c = Client::login(server.imap, "alice", "pass").unwrap();
    let (ok, resp) = c.cmd("SELECT INBOX").unwrap();
    assert!(ok);
    assert!(
        resp.iter().any(|r| r == b"* 1 EXISTS\r\n"),
        "{:?}",
        resp.iter()
            .map(|r| String::from_utf8_lossy(r))
            .collect::<Vec<_>>()
    );
    let (ok, resp) = c.cmd("FETCH 1 BODY.PEEK[]").unwrap();
    assert!(ok);
    assert!(
        resp[0].windows(message.len()).any(|w| w == message),
        "{}",
        String::from_utf8_lossy(&resp[0])
    );
    let _ = std::io::stdout().flush();
}
