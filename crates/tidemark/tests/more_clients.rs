//! More real clients against the real binary, each over IMAPS verifying the
//! generated certificate: offlineimap two-way Maildir sync, fetchmail
//! (keep, delete, IDLE) and getmail6 (Maildir, mboxrd, delete); and
//! imapfilter over plaintext IMAP on loopback (a Lua rule set that searches
//! by sender, subject and flags and moves the matches).

mod common;

use common::{require, run_client_script as run_script};

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

#[test]
fn imapfilter_moves_by_sender_subject_and_flags() {
    if !require("imapfilter") || !require("python3") {
        return;
    }
    run_script(
        "imapfilter_move.py",
        "imapfilter: rules by sender, subject and flags moved the right messages",
    );
}
