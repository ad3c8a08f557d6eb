//! Terminal mail clients driven through tmux, as a new user would use them:
//! neomutt and aerc open the IMAPS inbox (verifying the generated
//! certificate), list the messages with their senders and (RFC 2047 decoded)
//! subjects, and display a multipart message's text and attachment list.

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
fn neomutt_reads_inbox_and_multipart() {
    if !require("neomutt") || !require("tmux") || !require("python3") {
        return;
    }
    run_script("tui_neomutt.py", "neomutt: inbox and multipart passed");
}

#[test]
fn aerc_reads_inbox_and_multipart() {
    // aerc shows message text through its default pager, `less -R`.
    if !require("aerc") || !require("tmux") || !require("less") || !require("python3") {
        return;
    }
    run_script("tui_aerc.py", "aerc: inbox and multipart passed");
}
