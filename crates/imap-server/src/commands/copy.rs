//! COPY (RFC 9051 6.4.7) and MOVE (RFC 6851), both with `[COPYUID]`
//! (RFC 4315). MOVE is atomic in the store; the source's EXPUNGEs follow an
//! untagged `OK [COPYUID ...]`, as RFC 6851 3.3 shows.

use crate::commands::{need_selected, resolve_set};
use crate::error::CommandError;
use crate::names;
use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{Code, Mailbox, SequenceSet, StatusKind, StatusResponse, UidMode};

pub(crate) async fn run(
    s: &mut Session,
    mode: UidMode,
    set: SequenceSet,
    mailbox: Mailbox,
    is_move: bool,
) -> CmdResult {
    let utf8 = s.utf8();
    let (account, view) = need_selected(s)?;
    if is_move && view.read_only {
        return Err(CommandError::no(None, "Mailbox is read-only"));
    }
    let uids = resolve_set(view, mode, &set)?;
    let source = view.id;
    let name = names::decode(&mailbox, utf8)?;
    let dest = account
        .mailbox(&name)
        .await
        .map_err(CommandError::for_destination)?;
    if uids.is_empty() {
        return Ok(Done::ok(if is_move {
            "No messages moved"
        } else {
            "No messages copied"
        }));
    }
    let out = if is_move {
        account.move_messages(source, &uids, dest.id).await
    } else {
        account.copy(source, &uids, dest.id).await
    }
    .map_err(CommandError::for_destination)?;
    if out.source_uids.is_empty() {
        return Ok(Done::ok("No messages matched"));
    }
    let src: Vec<u32> = out.source_uids.iter().map(|u| u.0).collect();
    let dst: Vec<u32> = out.dest_uids.iter().map(|u| u.0).collect();
    let code = Code::CopyUid {
        uidvalidity: out.uid_validity.0,
        source: SequenceSet::from_numbers(&src),
        dest: SequenceSet::from_numbers(&dst),
    };
    if is_move {
        s.send_status(StatusResponse::untagged(
            StatusKind::Ok,
            Some(code),
            "Moved",
        ));
        if let Some(view) = s.selected() {
            let events = view.remove_own(&out.source_uids);
            s.send_view_events(events);
        }
        Ok(Done::ok("MOVE completed"))
    } else {
        Ok(Done::with_code(code, "COPY completed"))
    }
}
