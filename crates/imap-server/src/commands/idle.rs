//! IDLE (RFC 2177, part of RFC 9051 6.3.13): a continuation, then change
//! notices are announced as they happen until the client sends DONE. The
//! network layer waits on both the socket and the account's change feed.

use crate::session::{CmdResult, Done, Pending, Session};
use tidemark_imap_proto::{Continuation, Response, Tag};

pub(crate) fn start(s: &mut Session, tag: Tag) -> CmdResult {
    s.send(Response::Continuation(Continuation::Text("idling".into())));
    s.decoder.expect_idle_done();
    // With NOTIFY on, queued notices may be about other mailboxes: they
    // are reported, not dropped.
    if s.notify.is_none() {
        s.drain_watch();
    }
    s.pending = Pending::Idle { tag };
    Ok(Done::ok(""))
}
