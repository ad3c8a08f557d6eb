//! Real clients against the real binary: Python imaplib (every command of
//! issue 2), mbsync two-way sync, curl over imap:// and imaps://.

mod common;

use common::TestServer;
use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// In CI every client must be there (.ci/run installs them); elsewhere a
/// missing tool is reported loudly and the test skipped.
fn require(tool: &str) -> bool {
    if have(tool) {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{tool} is not installed, but CI must have it (see .ci/run)");
    }
    eprintln!("SKIPPED: {tool} is not installed");
    false
}

fn cert(server: &TestServer) -> String {
    server
        .data_dir()
        .join("tls/cert.pem")
        .to_string_lossy()
        .to_string()
}

#[test]
fn python_imaplib_every_command() {
    if !require("python3") {
        return;
    }
    let server = TestServer::start();
    let script = common::repo_root().join("tests/clients/imaplib_all.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(server.imap.port().to_string())
        .arg(server.imaps.port().to_string())
        .arg(cert(&server))
        .output()
        .expect("run python3");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "imaplib script failed:\n{text}");
    assert!(text.contains("all checks passed"), "{text}");
}

#[test]
fn mbsync_two_way() {
    if !require("mbsync") || !require("python3") {
        return;
    }
    let server = TestServer::start();
    let work = tempfile::tempdir().expect("tempdir");
    let script = common::repo_root().join("tests/clients/mbsync_twoway.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(server.imaps.port().to_string())
        .arg(server.imap.port().to_string())
        .arg(cert(&server))
        .arg(work.path())
        .output()
        .expect("run python3");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "mbsync script failed:\n{text}");
    assert!(text.contains("two-way sync passed"), "{text}");
}

#[test]
fn curl_imap_and_imaps() {
    if !require("curl") {
        return;
    }
    let server = TestServer::start();
    let mut c = common::Client::login(server.imap, "alice", "pass").expect("login");
    c.append("INBOX", b"Subject: via curl\r\n\r\nhello curl\r\n")
        .expect("append")
        .expect("uid");

    // imap:// lists mailboxes.
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-u", "alice:pass"])
        .arg(format!("imap://127.0.0.1:{}/", server.imap.port()))
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "curl imap: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("INBOX") && text.contains("Sent"),
        "curl LIST: {text}"
    );

    // imaps:// fetches a message, verifying the generated certificate.
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-u", "alice:pass", "--cacert"])
        .arg(cert(&server))
        .arg(format!(
            "imaps://localhost:{}/INBOX;UID=1",
            server.imaps.port()
        ))
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "curl imaps: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("hello curl"), "curl FETCH: {text}");

    // Wrong password: curl fails (login denied).
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-u", "alice:nope"])
        .arg(format!("imap://127.0.0.1:{}/", server.imap.port()))
        .output()
        .expect("curl");
    assert!(!out.status.success(), "wrong password must fail");
}
