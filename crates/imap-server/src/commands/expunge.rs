//! EXPUNGE (RFC 9051 6.4.3) and UID EXPUNGE (RFC 4315 2.1): removes
//! `\Deleted` messages and announces each removal (as VANISHED once QRESYNC
//! is on, whose tagged OK then carries the new HIGHESTMODSEQ, RFC 7162
//! 3.2.10).

use crate::commands::{need_selected, resolve_set};
use crate::error::CommandError;
use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{Code, SequenceSet, UidMode};

pub(crate) async fn run(s: &mut Session, uids: Option<SequenceSet>) -> CmdResult {
    let (account, view) = need_selected(s)?;
    if view.read_only {
        return Err(CommandError::no(None, "Mailbox is read-only"));
    }
    let restrict = match &uids {
        Some(set) => Some(resolve_set(view, UidMode::Uid, set)?),
        None => None,
    };
    let out = account.expunge(view.id, restrict.as_ref()).await?;
    let events = view.remove_own(&out.uids);
    s.send_view_events(events);
    if s.enabled.qresync {
        return Ok(Done::with_code(
            Code::HighestModSeq(out.modseq.0),
            "EXPUNGE completed",
        ));
    }
    Ok(Done::ok("EXPUNGE completed"))
}
