//! Terminal mail clients driven through tmux, as a new user would use them:
//! neomutt and aerc open the IMAPS inbox (verifying the generated
//! certificate), list the messages with their senders and (RFC 2047 decoded)
//! subjects, and display a multipart message's text and attachment list.

mod common;

use common::{require, run_client_script as run_script};

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
