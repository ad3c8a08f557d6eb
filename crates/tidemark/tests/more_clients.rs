//! More real clients against the real binary, each over IMAPS verifying the
//! generated certificate: offlineimap two-way Maildir sync, fetchmail
//! (keep, delete, IDLE) and getmail6 (Maildir, mboxrd, delete).

mod common;

use common::{TestServer, require};

/// Runs `tests/clients/<script>` against a fresh server with
/// `TLS_PORT PLAIN_PORT CAFILE WORKDIR` and expects `marker` in its output.
fn run_script(script: &str, marker: &str) {
    let server = TestServer::start();
    let work = tempfile::tempdir().expect("tempdir");
    let cert = server.data_dir().join("tls/cert.pem");
    let args = [
        server.imaps.port().to_string(),
        server.imap.port().to_string(),
        cert.to_string_lossy().to_string(),
        work.path().to_string_lossy().to_string(),
    ];
    common::run_script(script, &args, marker);
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
