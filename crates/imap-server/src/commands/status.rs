//! STATUS (RFC 9051 6.3.11) with STATUS=SIZE (RFC 8438), HIGHESTMODSEQ
//! (RFC 7162), MAILBOXID (RFC 8474) and APPENDLIMIT (RFC 7889). RECENT is
//! always 0: IMAP4rev2 dropped \Recent and no session here sets it.

use crate::commands::need_account;
use crate::names;
use crate::session::{CmdResult, Done, Session};
use std::sync::Arc;
use tidemark_imap_proto::{Data, Mailbox, Response, StatusItem, StatusValue};
use tidemark_store::{Account, MailboxInfo, StoreError, mailbox_object_id};

pub(crate) async fn run(s: &mut Session, mailbox: Mailbox, items: Vec<StatusItem>) -> CmdResult {
    let account = need_account(s)?;
    let name = names::decode(&mailbox, s.utf8())?;
    let info = account.mailbox(&name).await?;
    if items.contains(&StatusItem::HighestModSeq) {
        s.enable_condstore(true);
    }
    send_status(s, &account, &info, &name, &items).await?;
    Ok(Done::ok("STATUS completed"))
}

/// Sends one `* STATUS` line (also used by LIST-STATUS).
pub(crate) async fn send_status(
    s: &mut Session,
    account: &Arc<dyn Account>,
    info: &MailboxInfo,
    name: &str,
    items: &[StatusItem],
) -> Result<(), StoreError> {
    let st = account.status(info.id).await?;
    let values = items
        .iter()
        .map(|i| match i {
            StatusItem::Messages => StatusValue::Messages(st.messages),
            StatusItem::UidNext => StatusValue::UidNext(st.uid_next.0),
            StatusItem::UidValidity => StatusValue::UidValidity(st.uid_validity.0),
            StatusItem::Unseen => StatusValue::Unseen(st.unseen),
            StatusItem::Deleted => StatusValue::Deleted(st.deleted),
            StatusItem::Size => StatusValue::Size(st.size),
            StatusItem::Recent => StatusValue::Recent(0),
            StatusItem::HighestModSeq => StatusValue::HighestModSeq(st.highest_modseq.0),
            StatusItem::MailboxId => {
                StatusValue::MailboxId(mailbox_object_id(st.id, st.uid_validity))
            }
            StatusItem::AppendLimit => StatusValue::AppendLimit(Some(s.ctx.config.max_literal)),
        })
        .collect();
    s.send(Response::Data(Data::Status {
        mailbox: names::encode(name),
        items: values,
    }));
    Ok(())
}
