//! `tidemark mailbox ...`: a user's mailboxes from the command line.
//!
//! The store is opened directly (SQLite in WAL mode allows a running
//! server at the same time); a running server's sessions see the change at
//! their next LIST or STATUS.

use crate::cli::MailboxCommand;
use crate::config;
use crate::error::{Fail, Result};
use std::io::Write;
use tidemark_store::{SpecialUse, StoreError};

/// Runs one `mailbox` subcommand. Prints results on stdout.
pub async fn run(cmd: MailboxCommand) -> Result<()> {
    let (dirs, user) = match &cmd {
        MailboxCommand::List { dirs, user }
        | MailboxCommand::Create { dirs, user, .. }
        | MailboxCommand::Delete { dirs, user, .. } => (dirs.clone(), user.clone()),
    };
    let user = &user;
    let data_dir = config::resolve_data_dir(&dirs)?;
    crate::store::require_data_dir(&data_dir)?;
    let store = crate::store::open_store(&data_dir)?;
    let account = store.open_account(user).await.map_err(|e| match e {
        StoreError::NoSuchAccount => Fail::runtime(format!("no such account: {user:?}")),
        e => Fail::runtime(format!("cannot open account {user:?}: {e}")),
    })?;
    match cmd {
        MailboxCommand::List { .. } => {
            let boxes = account
                .list_mailboxes()
                .await
                .map_err(|e| Fail::runtime(format!("cannot list mailboxes: {e}")))?;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "{:<32} {:>9} {:>9} {:>12} {:>11}  special-use",
                "mailbox", "messages", "unseen", "bytes", "uidvalidity"
            );
            for b in boxes {
                let st = account
                    .status(b.id)
                    .await
                    .map_err(|e| Fail::runtime(format!("cannot read {}: {e}", b.name)))?;
                let uses: Vec<&str> = b.special_use.iter().map(|u| u.as_str()).collect();
                let _ = writeln!(
                    out,
                    "{:<32} {:>9} {:>9} {:>12} {:>11}  {}",
                    b.name,
                    st.messages,
                    st.unseen,
                    st.size,
                    st.uid_validity.0,
                    uses.join(" ")
                );
            }
        }
        MailboxCommand::Create {
            name, special_use, ..
        } => {
            let uses = special_use
                .iter()
                .map(|u| {
                    let tagged = if u.starts_with('\\') {
                        u.clone()
                    } else {
                        format!("\\{u}")
                    };
                    SpecialUse::parse(&tagged).ok_or_else(|| {
                        Fail::config(format!(
                            "unknown special-use {u:?} (one of: All Archive Drafts Flagged Junk Sent Trash Important)"
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            account
                .create_mailbox(&name, &uses)
                .await
                .map_err(|e| Fail::runtime(format!("cannot create {name:?}: {e}")))?;
            println!("created mailbox {name} for {user}");
        }
        MailboxCommand::Delete { name, .. } => {
            account
                .delete_mailbox(&name)
                .await
                .map_err(|e| Fail::runtime(format!("cannot delete {name:?}: {e}")))?;
            println!("deleted mailbox {name} of {user} and its messages");
        }
    }
    Ok(())
}
