//! STORE and UID STORE (RFC 9051 6.4.6), with CONDSTORE's UNCHANGEDSINCE
//! and `[MODIFIED]` (RFC 7162 3.1.3). Without .SILENT every message of the
//! set is reported with its current flags. Once CONDSTORE is on, reports
//! carry UID and MODSEQ, and even with .SILENT each message whose flags
//! changed is reported (UID and MODSEQ only), so the client's cache learns
//! the new MODSEQ.

use crate::commands::{flags_from_wire, flags_to_wire, need_selected, resolve_set};
use crate::error::CommandError;
use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{
    Code, Data, FetchItem, Flag, Response, SequenceSet, StoreAction, UidMode,
};
use tidemark_store::{FlagOp, FlagUpdate, ModSeq};

pub(crate) async fn run(
    s: &mut Session,
    mode: UidMode,
    set: SequenceSet,
    unchanged_since: Option<u64>,
    action: StoreAction,
    silent: bool,
    flags: Vec<Flag>,
) -> CmdResult {
    if unchanged_since.is_some() {
        s.enable_condstore(true);
    }
    let condstore = s.enabled.condstore;
    let (account, view) = need_selected(s)?;
    if view.read_only {
        return Err(CommandError::no(None, "Mailbox is read-only"));
    }
    let uids = resolve_set(view, mode, &set)?;
    let mailbox = view.id;
    let update = FlagUpdate {
        op: match action {
            StoreAction::Add => FlagOp::Add,
            StoreAction::Remove => FlagOp::Remove,
            StoreAction::Replace => FlagOp::Replace,
        },
        flags: flags_from_wire(&flags)?,
        unchanged_since: unchanged_since.map(ModSeq),
    };
    let out = account.store_flags(mailbox, &uids, &update).await?;
    for m in &out.changed {
        view.note_reported(m.uid, m.modseq);
    }
    if !silent {
        let metas = account.fetch_meta(mailbox, &uids).await?;
        for m in metas {
            if out.modified.contains(&m.uid) {
                continue;
            }
            let Some(seq) = s.selected().and_then(|v| v.seq(m.uid)) else {
                continue;
            };
            let mut items = Vec::with_capacity(3);
            if mode == UidMode::Uid || condstore {
                items.push(FetchItem::Uid(m.uid.0));
            }
            items.push(FetchItem::Flags(flags_to_wire(&m.flags)));
            if condstore {
                items.push(FetchItem::ModSeq(m.modseq.0));
            }
            s.send(Response::Data(Data::Fetch { seq, items }));
        }
    } else if condstore {
        for m in &out.changed {
            let Some(seq) = s.selected().and_then(|v| v.seq(m.uid)) else {
                continue;
            };
            s.send(Response::Data(Data::Fetch {
                seq,
                items: vec![FetchItem::Uid(m.uid.0), FetchItem::ModSeq(m.modseq.0)],
            }));
        }
    }
    if !out.modified.is_empty() {
        let ids: Vec<u32> = match mode {
            UidMode::Uid => out.modified.iter().map(|u| u.0).collect(),
            UidMode::Sequence => {
                let v = s.selected();
                out.modified
                    .iter()
                    .filter_map(|u| v.as_ref().and_then(|v| v.seq(*u)))
                    .collect()
            }
        };
        return Ok(Done::with_code(
            Code::Modified(SequenceSet::from_numbers(&ids)),
            "Conditional STORE failed for some messages",
        ));
    }
    Ok(Done::ok("STORE completed"))
}
