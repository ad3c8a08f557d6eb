//! SUBSCRIBE and UNSUBSCRIBE (RFC 9051 6.3.7, 6.3.8). Subscribing needs an
//! existing mailbox; unsubscribing works for any name on the list.

use crate::commands::need_account;
use crate::error::CommandError;
use crate::names;
use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{Code, Mailbox};

pub(crate) async fn run(s: &mut Session, mailbox: Mailbox, subscribe: bool) -> CmdResult {
    let account = need_account(s)?;
    let name = names::decode(&mailbox, s.utf8())?;
    if subscribe {
        account.mailbox(&name).await?;
    } else if !account.subscriptions().await?.contains(&name) {
        return Err(CommandError::no(Some(Code::NonExistent), "Not subscribed"));
    }
    account.set_subscribed(&name, subscribe).await?;
    Ok(Done::ok(if subscribe {
        "SUBSCRIBE completed"
    } else {
        "UNSUBSCRIBE completed"
    }))
}
