//! CREATE (RFC 9051 6.3.4) with CREATE-SPECIAL-USE (RFC 6154 3): `USE (...)`;
//! the tagged OK carries the new mailbox's `[MAILBOXID (...)]` (RFC 8474).

use crate::commands::need_account;
use crate::error::CommandError;
use crate::names;
use crate::session::{CmdResult, Done, Session};
use tidemark_imap_proto::{Code, Mailbox, MailboxAttr};
use tidemark_store::{SpecialUse, mailbox_object_id};

pub(crate) async fn run(s: &mut Session, mailbox: Mailbox, uses: Vec<MailboxAttr>) -> CmdResult {
    let account = need_account(s)?;
    let name = names::decode(&mailbox, s.utf8())?;
    if name == "INBOX" {
        return Err(CommandError::no(
            Some(Code::AlreadyExists),
            "INBOX always exists",
        ));
    }
    let mut special = Vec::new();
    for u in uses {
        let parsed = SpecialUse::parse(&u.as_str());
        match parsed {
            Some(p) => special.push(p),
            None => {
                return Err(CommandError::no(
                    Some(Code::UseAttr),
                    format!("{} is not a special-use attribute", u.as_str()),
                ));
            }
        }
    }
    let info = account.create_mailbox(&name, &special).await?;
    // RFC 8474 4.1.
    Ok(Done::with_code(
        Code::MailboxId(mailbox_object_id(info.id, info.uid_validity)),
        "CREATE completed",
    ))
}
