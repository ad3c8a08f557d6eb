//! DELETE (RFC 9051 6.3.5). INBOX cannot be deleted; children stay.

use crate::commands::need_account;
use crate::names;
use crate::session::{CmdResult, Done, Session, State};
use tidemark_imap_proto::Mailbox;

pub(crate) async fn run(s: &mut Session, mailbox: Mailbox) -> CmdResult {
    let account = need_account(s)?;
    let name = names::decode(&mailbox, s.utf8())?;
    let info = account.mailbox(&name).await?;
    account.delete_mailbox(&name).await?;
    // Deleting the selected mailbox leaves the selected state.
    if let State::Selected(_, v) = &s.state
        && v.id == info.id
    {
        s.deselect();
    }
    Ok(Done::ok("DELETE completed"))
}
