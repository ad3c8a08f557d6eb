//! Real clients against the real binary: Python imaplib (every command of
//! issue 2), COMPRESS=DEFLATE with zlib, mbsync two-way sync, curl over
//! imap:// and imaps://.

mod common;

use common::{TestServer, require};
use std::process::Command;

fn cert(server: &TestServer) -> String {
    server
        .data_dir()
        .join("tls/cert.pem")
        .to_string_lossy()
        .to_string()
}

/// Runs a Python script with `PORT TLS_PORT CAFILE` of a fresh server.
fn python_with_ports(script: &str, marker: &str) {
    if !require("python3") {
        return;
    }
    let server = TestServer::start();
    let args = [
        server.imap.port().to_string(),
        server.imaps.port().to_string(),
        cert(&server),
    ];
    common::run_script(script, &args, marker);
}

#[test]
fn python_imaplib_every_command() {
    python_with_ports("imaplib_all.py", "all checks passed");
}

/// COMPRESS=DEFLATE over TLS and over plain TCP with zlib as the inflater;
/// prints the bytes saved on a FETCH of 1,000 text messages.
#[test]
fn python_zlib_compress() {
    python_with_ports("compress_zlib.py", "compress checks passed");
}

#[test]
fn mbsync_two_way() {
    if !require("mbsync") || !require("python3") {
        return;
    }
    common::run_client_script("mbsync_twoway.py", "two-way sync passed");
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
