//! CAPABILITY (RFC 9051 6.1.1). What is advertised is exactly what is
//! accepted: authentication mechanisms appear only where authentication is
//! allowed, STARTTLS only where it can run.

use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{Data, Response};

/// The current capability list.
pub(crate) fn list(s: &Session) -> Vec<String> {
    // Both revisions: a client that sends `ENABLE IMAP4rev2` gets rev2
    // behaviour (UTF-8 names, ESEARCH answers to SEARCH), others rev1.
    let mut caps: Vec<String> = vec!["IMAP4rev1".into(), "IMAP4rev2".into()];
    let authed = s.is_authenticated();
    if !authed {
        if s.ctx.config.starttls_available && !s.conn.tls {
            caps.push("STARTTLS".into());
        }
        if s.conn.secured() || s.ctx.config.allow_plaintext_auth {
            for m in crate::commands::authenticate::mechanisms(s) {
                caps.push(format!("AUTH={m}"));
            }
        } else {
            caps.push("LOGINDISABLED".into());
        }
    }
    for c in [
        "SASL-IR",
        "LITERAL+",
        "ID",
        "ENABLE",
        "IDLE",
        "NAMESPACE",
        "UNSELECT",
        "UIDPLUS",
        "MOVE",
        "MULTIAPPEND",
        "SPECIAL-USE",
        "CREATE-SPECIAL-USE",
        "LIST-EXTENDED",
        "LIST-STATUS",
        "STATUS=SIZE",
        "CHILDREN",
        "ESEARCH",
        "SEARCHRES",
        "WITHIN",
        "SORT",
        "SORT=DISPLAY",
        "ESORT",
        "THREAD=ORDEREDSUBJECT",
        "THREAD=REFERENCES",
        "BINARY",
        "PREVIEW",
        "CONDSTORE",
        "QRESYNC",
        "OBJECTID",
        "NOTIFY",
        "UIDONLY",
        "COMPRESS=DEFLATE",
    ] {
        caps.push(c.into());
    }
    caps.push(format!("APPENDLIMIT={}", s.ctx.config.max_literal));
    caps
}

pub(crate) fn run(s: &mut Session) -> CmdResult {
    let caps = list(s);
    s.send(Response::Data(Data::Capability(caps)));
    Ok(Done::ok("CAPABILITY completed"))
}
