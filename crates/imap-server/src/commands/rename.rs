//! RENAME (RFC 9051 6.3.6), children included; renaming INBOX moves its
//! messages to the new name and leaves INBOX empty.

use crate::commands::need_account;
use crate::names;
use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::Mailbox;

pub(crate) async fn run(s: &mut Session, from: Mailbox, to: Mailbox) -> CmdResult {
    let account = need_account(s)?;
    let from = names::decode(&from, s.utf8())?;
    let to = names::decode(&to, s.utf8())?;
    account.rename_mailbox(&from, &to).await?;
    Ok(Done::ok("RENAME completed"))
}
