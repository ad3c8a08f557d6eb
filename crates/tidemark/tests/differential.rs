//! Differential test of SEARCH, SORT and THREAD against Dovecot: runs
//! `tests/differential/run.py`, which loads the same generated mailbox
//! (2,000 varied messages) into a private Dovecot instance (Debian's
//! `dovecot-imapd`, no FTS) and into this server, runs ~440 generated queries
//! on both and fails on any disagreement that `tests/differential/deviations.json`
//! (documented Dovecot deviations) or run.py's table of undefined input does
//! not explain. SORT/THREAD queries are compared only when the server
//! advertises them. Needs python3 and dovecot; outside CI a missing tool
//! skips the test, under CI it fails.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{TestServer, repo_root, require};

/// Whole-run limit; run.py bounds itself at 170 s (its --budget).
const LIMIT: Duration = Duration::from_secs(400);

/// `dovecot` is in /usr/sbin, which a non-root PATH may lack.
fn have_dovecot() -> bool {
    if std::path::Path::new("/usr/sbin/dovecot").exists() {
        return true;
    }
    require("dovecot")
}

#[test]
fn search_sort_thread_agree_with_dovecot() {
    if !require("python3") || !have_dovecot() {
        return;
    }
    let server = TestServer::start();
    let mut child = Command::new("python3")
        .arg(repo_root().join("tests/differential/run.py"))
        .arg("--tidemark-addr")
        .arg(server.imap.to_string())
        .args(["--user", "alice", "--password", "pass"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait run.py") {
            break Some(status);
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let text = format!(
        "{}{}",
        out_reader.join().unwrap_or_default(),
        err_reader.join().unwrap_or_default()
    );
    let Some(status) = status else {
        panic!("run.py did not finish within {LIMIT:?}:\n{text}");
    };
    assert!(
        status.success() && text.contains("differential: PASS"),
        "SEARCH/SORT/THREAD disagree with Dovecot (see DISAGREE lines; \
         document only Dovecot's deviations in tests/differential/deviations.json):\n{text}"
    );
    let lines: Vec<&str> = text.lines().collect();
    eprintln!("{}", lines[lines.len().saturating_sub(12)..].join("\n"));
}
