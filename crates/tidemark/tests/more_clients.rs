//! More real clients against the real binary, each over IMAPS verifying the
//! generated certificate: offlineimap two-way Maildir sync, fetchmail
//! (keep, delete, IDLE) and getmail6 (Maildir, mboxrd, delete).

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

/// Runs `tests/clients/<script>` against a fresh server with
/// `TLS_PORT PLAIN_PORT CAFILE WORKDIR` and expects `marker` in its output.
/// The scripts bound every client run with a subprocess timeout.
fn run_script(script: &str, marker: &str) {
    let server = TestServer::start();
    let work = tempfile::tempdir().expect("tempdir");
    let cert = server.data_dir().join("tls/cert.pem");
    let out = Command::new("python3")
        .arg(common::repo_root().join("tests/clients").join(script))
        .arg(server.imaps.port().to_string())
        .arg(server.imap.port().to_string())
        .arg(cert)
        .arg(work.path())
        .output()
        .expect("run python3");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{script} failed:\n{text}");
    assert!(text.contains(marker), "{text}");
}

#[test]
fn offlineimap_two_way() {
    if !require("offlineimap") || !require("python3") {
        return;
    }
    run_script("offlineimap_twoway.py", "offlineimap: two-way sync passed");
}

#[test]
fn fetchmail_keep_delete_idle() {
    if !require("fetchmail") || !require("python3") {
        return;
    }
    run_script(
        "fetchmail_fetch.py",
        "fetchmail: keep, delete and idle passed",
    );
}

#[test]
fn getmail_maildir_mbox_delete() {
    if !require("getmail") || !require("python3") {
        return;
    }
    run_script(
        "getmail_retrieve.py",
        "getmail: Maildir and mboxrd with delete passed",
    );
}
